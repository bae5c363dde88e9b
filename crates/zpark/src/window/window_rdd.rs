use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::timeline::Timeline;
use super::SliceTime;
use crate::rdd::{Data, Rdd};

pin_project! {
    /// Sliding windows over a stream of timed slices. Made by
    /// [`window_rdd`](super::WindowExt::window_rdd).
    ///
    /// The slice interval `d` is the time of the first slice (slice k has time `k·d`). A window
    /// is emitted at every slide boundary `T = j·slide` and holds the slices whose time lies in
    /// `(T - window, T]`; the first, partial windows are emitted, and so are windows of empty
    /// slices. Each slice is persisted as it arrives, so a slice shared by several windows is
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
                // The last window was emitted at the last boundary not later than the last slice.
                *this.done = true;
                continue;
            };
            let engine = rdd.engine().clone();
            match this.timeline.push(time, rdd.persist()) {
                Ok(ends) => {
                    for end in ends {
                        let inside = this.timeline.slices_in(end.saturating_sub(*this.window), end);
                        this.ready.push_back((SliceTime::new(end), engine.union(&inside)));
                    }
                    this.timeline.prune();
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
