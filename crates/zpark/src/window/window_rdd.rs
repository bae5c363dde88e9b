use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::timeline::Timeline;
use super::SliceTime;
use crate::engine::Engine;
use crate::rdd::{Data, Rdd};

pin_project! {
    /// Sliding windows over a stream of timed slices. Made by
    /// [`window_rdd`](super::WindowExt::window_rdd).
    ///
    /// The slice interval `d` is the time of the first slice (slice k has time `k·d`). A window
    /// is emitted at every slide boundary `T = j·slide` and holds the slices whose time lies in
    /// `(T - window, T]`; the first, partial windows are emitted, and so are windows of empty
    /// slices. When the input ends, the windows that still hold one of its slices are emitted
    /// at once: at each further boundary `T` while `T - window` is earlier than the last
    /// slice's time, so every slice is in as many windows as any other. Each slice is persisted as it arrives, so a slice shared by several windows is
    /// computed once.
    #[must_use = "streams do nothing unless polled"]
    pub struct WindowRdd<S, T> {
        #[pin]
        input: S,
        window: Duration,
        slide: Duration,
        // The slices that a window still to come may hold, and the next boundary.
        timeline: Timeline<T>,
        // Windows ready to hand out.
        ready: VecDeque<(SliceTime, Rdd<T>)>,
        // The engine of the slices, once one came: the windows at the end of input are its.
        engine: Option<Engine>,
        done: bool,
    }
}

impl<S, T> WindowRdd<S, T>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
{
    #[track_caller]
    pub(super) fn new(input: S, window: Duration, slide: Duration) -> Self {
        assert!(
            !window.is_zero(),
            "window_rdd: the window must be longer than zero (0 given)"
        );
        assert!(
            !slide.is_zero(),
            "window_rdd: the slide must be longer than zero (0 given)"
        );
        WindowRdd {
            input,
            window,
            slide,
            timeline: Timeline::new("window_rdd", window, slide, Duration::ZERO),
            ready: VecDeque::new(),
            engine: None,
            done: false,
        }
    }
}

impl<S, T> Stream for WindowRdd<S, T>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
{
    type Item = (SliceTime, Rdd<T>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(window) = this.ready.pop_front() {
                return Poll::Ready(Some(window));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            let Some((time, rdd)) = ready!(this.input.as_mut().poll_next(cx)) else {
                // End of input: the windows that still hold one of its slices, at once.
                *this.done = true;
                if let Some(engine) = this.engine.take() {
                    let ends = this.timeline.finish();
                    queue_windows(this.ready, this.timeline, &engine, ends, *this.window);
                }
                continue;
            };
            let engine = rdd.engine().clone();
            match this.timeline.push(time, rdd.persist()) {
                Ok(ends) => {
                    queue_windows(this.ready, this.timeline, &engine, ends, *this.window);
                    *this.engine = Some(engine);
                }
                // A window or slide that does not fit the slices: the first item, then nothing.
                Err(error) => {
                    *this.done = true;
                    return Poll::Ready(Some((time, engine.failed(error))));
                }
            }
        }
    }
}

/// Queues the windows ending at `ends`, each the union of its slices, then forgets the slices
/// no window to come needs.
fn queue_windows<T: Data>(
    ready: &mut VecDeque<(SliceTime, Rdd<T>)>,
    timeline: &mut Timeline<T>,
    engine: &Engine,
    ends: Vec<Duration>,
    window: Duration,
) {
    for end in ends {
        let inside = timeline.slices_in(end.saturating_sub(window), end);
        ready.push_back((SliceTime::new(end), engine.union(&inside)));
    }
    timeline.prune();
}

impl<S, T> FusedStream for WindowRdd<S, T>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
{
    fn is_terminated(&self) -> bool {
        self.done && self.ready.is_empty()
    }
}

impl<S, T> std::fmt::Debug for WindowRdd<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowRdd")
            .field("window", &self.window)
            .field("slide", &self.slide)
            .field("kept_slices", &self.timeline.kept())
            .finish()
    }
}
