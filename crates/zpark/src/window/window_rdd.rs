use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::SliceTime;
use crate::error::Error;
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
        // The slices that a window still to come may hold, oldest first.
        recent: VecDeque<(SliceTime, Rdd<T>)>,
        // Windows ready to hand out.
        ready: VecDeque<(SliceTime, Rdd<T>)>,
        // The next slide boundary; `None` until the first slice has set the interval.
        next_boundary: Option<Duration>,
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
            recent: VecDeque::new(),
            ready: VecDeque::new(),
            next_boundary: None,
            done: false,
        }
    }
}

/// Checks that `window` and `slide` are whole multiples of the slice `interval`.
pub(super) fn check_multiples(
    operation: &'static str,
    interval: Duration,
    window: Duration,
    slide: Duration,
) -> Result<(), Error> {
    let multiple = |d: Duration| !interval.is_zero() && d.as_nanos() % interval.as_nanos() == 0;
    if multiple(window) && multiple(slide) {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        operation,
        problem: format!("window {window:?} and slide {slide:?} with slices every {interval:?}"),
        allowed: "window and slide must be whole multiples of the slice interval (for slices every 500ms: 500ms, 1s, 1.5s, ...)",
    })
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
            let next_boundary = match *this.next_boundary {
                Some(boundary) => boundary,
                // The first slice sets the interval: check the window against it.
                None => match check_multiples("window_rdd", time.interval(), *this.window, *this.slide) {
                    Ok(()) => *this.next_boundary.insert(first_boundary(time, *this.slide)),
                    Err(error) => {
                        *this.done = true;
                        return Poll::Ready(Some((time, rdd.engine().failed(error))));
                    }
                },
            };
            let engine = rdd.engine().clone();
            let mut boundary = next_boundary;
            let now = time.as_duration();
            // Boundaries the input skipped over (no slice ended there) still get their window.
            while boundary < now {
                this.ready
                    .push_back(window_at(&engine, this.recent, boundary, *this.window));
                boundary += *this.slide;
            }
            this.recent.push_back((time, rdd.persist()));
            if boundary == now {
                this.ready
                    .push_back(window_at(&engine, this.recent, boundary, *this.window));
                boundary += *this.slide;
            }
            *this.next_boundary = Some(boundary);
            // Slices at or before (next boundary - window) belong to no window to come.
            let oldest_needed = boundary.saturating_sub(*this.window);
            while this
                .recent
                .front()
                .is_some_and(|(t, _)| t.as_duration() <= oldest_needed)
            {
                this.recent.pop_front();
            }
        }
    }
}

/// The window ending at `end`: the union of the slices with time in `(end - window, end]`.
fn window_at<T: Data>(
    engine: &crate::Engine,
    recent: &VecDeque<(SliceTime, Rdd<T>)>,
    end: Duration,
    window: Duration,
) -> (SliceTime, Rdd<T>) {
    let inside = slices_in(recent, end.saturating_sub(window), end);
    (SliceTime::new(end), engine.union(&inside))
}

/// The first slide boundary at or after the first slice: `slide` for a stream sliced from its
/// start, and no run of empty windows before the data for slices in event time.
pub(super) fn first_boundary(first: SliceTime, slide: Duration) -> Duration {
    let slides = first.as_duration().as_nanos().div_ceil(slide.as_nanos()).max(1);
    let nanos = slides.saturating_mul(slide.as_nanos());
    Duration::new((nanos / 1_000_000_000) as u64, (nanos % 1_000_000_000) as u32)
}

/// The slices whose time lies in `(after, until]`.
pub(super) fn slices_in<T: Data>(
    recent: &VecDeque<(SliceTime, Rdd<T>)>,
    after: Duration,
    until: Duration,
) -> Vec<Rdd<T>> {
    recent
        .iter()
        .filter(|(t, _)| t.as_duration() > after && t.as_duration() <= until)
        .map(|(_, rdd)| rdd.clone())
        .collect()
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
            .field("kept_slices", &self.recent.len())
            .finish()
    }
}
