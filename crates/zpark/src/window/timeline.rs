//! The slices kept by the window operators that union them: those a window to come may need.

use std::collections::VecDeque;
use std::time::Duration;

use super::clock::SlideClock;
use super::SliceTime;
use crate::error::Error;
use crate::rdd::{Data, Rdd};

/// The slices kept for the windows to come, and the clock of the slide boundaries.
pub(super) struct Timeline<T> {
    clock: SlideClock,
    /// How far before a window's start slices are still needed (the incremental window
    /// removes the slices that leave).
    lookback: Duration,
    recent: VecDeque<(SliceTime, Rdd<T>)>,
}

impl<T: Data> Timeline<T> {
    pub(super) fn new(operation: &'static str, window: Duration, slide: Duration, lookback: Duration) -> Self {
        Timeline {
            clock: SlideClock::new(operation, window, slide),
            lookback,
            recent: VecDeque::new(),
        }
    }

    /// Adds a slice and returns the ends of the windows it completes, in order (see
    /// [`SlideClock::advance`]).
    pub(super) fn push(&mut self, time: SliceTime, rdd: Rdd<T>) -> Result<Vec<Duration>, Error> {
        let ends = self.clock.advance(time)?;
        self.recent.push_back((time, rdd));
        Ok(ends)
    }

    /// Ends the input: the ends of the windows that still hold one of its slices (see
    /// [`SlideClock::finish`]).
    pub(super) fn finish(&mut self) -> Vec<Duration> {
        self.clock.finish()
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
        let Some(next) = self.clock.next_boundary() else { return };
        let oldest_needed = next.saturating_sub(self.clock.window() + self.lookback);
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
