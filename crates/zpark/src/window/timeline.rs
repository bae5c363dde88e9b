//! The clock of the window operators: which windows a new slice completes, and which slices
//! a window still to come may need.

use std::collections::VecDeque;
use std::time::Duration;

use super::SliceTime;
use crate::error::Error;
use crate::rdd::{Data, Rdd};

/// The slices kept for the windows to come, and the next slide boundary.
pub(super) struct Timeline<T> {
    operation: &'static str,
    window: Duration,
    slide: Duration,
    /// How far before a window's start slices are still needed (the incremental window
    /// removes the slices that leave).
    lookback: Duration,
    recent: VecDeque<(SliceTime, Rdd<T>)>,
    /// The next slide boundary; `None` until the first slice has set the interval.
    next_boundary: Option<Duration>,
    /// The time of the last slice pushed.
    last: Option<Duration>,
}

impl<T: Data> Timeline<T> {
    pub(super) fn new(operation: &'static str, window: Duration, slide: Duration, lookback: Duration) -> Self {
        Timeline {
            operation,
            window,
            slide,
            lookback,
            recent: VecDeque::new(),
            next_boundary: None,
            last: None,
        }
    }

    /// Adds a slice and returns the ends of the windows it completes, in order: the boundaries
    /// up to its time, those the input skipped over (no slice ended there) included. The first
    /// slice checks `window` and `slide` against its interval.
    pub(super) fn push(&mut self, time: SliceTime, rdd: Rdd<T>) -> Result<Vec<Duration>, Error> {
        let mut next = match self.next_boundary {
            Some(next) => next,
            None => {
                check_multiples(self.operation, time.interval(), self.window, self.slide)?;
                first_boundary(time, self.slide)
            }
        };
        self.recent.push_back((time, rdd));
        self.last = Some(time.as_duration());
        let mut ends = Vec::new();
        while next <= time.as_duration() {
            ends.push(next);
            next += self.slide;
        }
        self.next_boundary = Some(next);
        Ok(ends)
    }

    /// Ends the input: returns the ends of the windows that still hold one of its slices, the
    /// boundaries `T` from the next one on while `T - window` is earlier than the last slice's
    /// time (DESIGN.md, Semantics, Windows), and moves the next boundary past them. Nothing
    /// when no slice came, or when it was called before with no slice since.
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

    /// The slices with time in `(after, until]`.
    pub(super) fn slices_in(&self, after: Duration, until: Duration) -> Vec<Rdd<T>> {
        self.recent
            .iter()
            .filter(|(t, _)| t.as_duration() > after && t.as_duration() <= until)
            .map(|(_, rdd)| rdd.clone())
            .collect()
    }

    /// Forgets the slices no window to come needs: those at or before
    /// `next boundary - window - lookback`.
    pub(super) fn prune(&mut self) {
        let Some(next) = self.next_boundary else { return };
        let oldest_needed = next.saturating_sub(self.window + self.lookback);
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| t.as_duration() <= oldest_needed)
        {
            self.recent.pop_front();
        }
    }
}

impl<T> Timeline<T> {
    /// The slices kept, oldest first.
    pub(super) fn entries(&self) -> impl Iterator<Item = &(SliceTime, Rdd<T>)> {
        self.recent.iter()
    }

    /// How many slices are kept.
    pub(super) fn kept(&self) -> usize {
        self.recent.len()
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
