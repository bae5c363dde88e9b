//! The slide boundaries of the window operators: which windows a new slice completes, and
//! which still hold one of the input's slices when it ends.

use std::time::Duration;

use super::SliceTime;
use crate::error::Error;

/// The next slide boundary and the last slice's time: what every window operator counts.
#[derive(Debug, Clone)]
pub(super) struct SlideClock {
    operation: &'static str,
    window: Duration,
    slide: Duration,
    /// The next slide boundary; `None` until the first slice has set the interval.
    next_boundary: Option<Duration>,
    /// The time of the last slice seen since the start or the last `finish`.
    last: Option<Duration>,
}

impl SlideClock {
    pub(super) fn new(operation: &'static str, window: Duration, slide: Duration) -> Self {
        SlideClock {
            operation,
            window,
            slide,
            next_boundary: None,
            last: None,
        }
    }

    pub(super) fn window(&self) -> Duration {
        self.window
    }

    /// The next slide boundary, once a slice came.
    pub(super) fn next_boundary(&self) -> Option<Duration> {
        self.next_boundary
    }

    /// A slice at `time` came: the ends of the windows it completes, in order (the boundaries
    /// up to its time, those the input skipped over included). The first slice checks `window`
    /// and `slide` against its interval.
    pub(super) fn advance(&mut self, time: SliceTime) -> Result<Vec<Duration>, Error> {
        let mut next = match self.next_boundary {
            Some(next) => next,
            None => {
                check_multiples(self.operation, time.interval(), self.window, self.slide)?;
                first_boundary(time, self.slide)
            }
        };
        self.last = Some(time.as_duration());
        let mut ends = Vec::new();
        while next <= time.as_duration() {
            ends.push(next);
            next += self.slide;
        }
        self.next_boundary = Some(next);
        Ok(ends)
    }

    /// Ends the input: the ends of the windows that still hold one of its slices, the
    /// boundaries `T` from the next one on while `T - window` is earlier than the last slice's
    /// time (DESIGN.md, Semantics, Windows); the next boundary moves past them. Nothing when
    /// no slice came, or when it was called before with no slice since.
    pub(super) fn finish(&mut self) -> Vec<Duration> {
        let (Some(mut next), Some(last)) = (self.next_boundary, self.last.take()) else {
            return Vec::new();
        };
        let mut ends = Vec::new();
        while next.saturating_sub(self.window) < last {
            ends.push(next);
            next += self.slide;
        }
        self.next_boundary = Some(next);
        ends
    }
}

/// Checks that `window` and `slide` are whole multiples of the slice `interval`.
fn check_multiples(
    operation: &'static str,
    interval: Duration,
    window: Duration,
    slide: Duration,
) -> Result<(), Error> {
    let multiple = |d: Duration| !interval.is_zero() && d.as_nanos().is_multiple_of(interval.as_nanos());
    if multiple(window) && multiple(slide) {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        operation,
        problem: format!("window {window:?} and slide {slide:?} with slices every {interval:?}"),
        allowed: "window and slide must be whole multiples of the slice interval (for slices every 500ms: 500ms, 1s, 1.5s, ...)",
    })
}

/// The first slide boundary at or after the first slice: `slide` for a stream sliced from its
/// start, and no run of empty windows before the data for slices in event time.
fn first_boundary(first: SliceTime, slide: Duration) -> Duration {
    let slides = first.as_duration().as_nanos().div_ceil(slide.as_nanos()).max(1);
    let nanos = slides.saturating_mul(slide.as_nanos());
    Duration::new((nanos / 1_000_000_000) as u64, (nanos % 1_000_000_000) as u32)
}
