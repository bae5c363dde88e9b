//! Windowed reductions over numbered slices, in constant time per slide, whose state can be
//! saved and restored: the reducing window of checkpointed pipelines.

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use super::clock::SlideClock;
use super::two_stacks::KeyedAggregate;
use super::{SliceTime, WindowState};

/// Per-key reductions over windows of slices numbered 1, 2, 3, ..., with the semantics of
/// [`SliceWindow`](super::SliceWindow) (after slice `k`, when `k` is a multiple of `slide`, a
/// window holds slices `k - window + 1 ..= k`; the windows that still hold a slice are emitted
/// by [`finish`](SliceReduceWindow::finish)), each window costing a constant number of `f`
/// calls per key of the slices that enter and leave, whatever its length (two stacks per key,
/// as [`SlidingReduce`](super::SlidingReduce)). `f` only has to be associative; it combines
/// a key's values oldest first.
///
/// Driven by hand with each slice's reduced pairs (collected from the engine), it keeps them
/// on the driver; [`save`](SliceReduceWindow::save) gives them for a checkpoint and
/// [`restore`](SliceReduceWindow::restore) puts them back.
///
/// # Examples
///
/// ```
/// use zpark::window::SliceReduceWindow;
/// let mut window = SliceReduceWindow::new(3, 1, |a: u64, b: u64| a.max(b));
/// let mut maxima = Vec::new();
/// for (k, value) in [(1, 5), (2, 1), (3, 2), (4, 3)] {
///     for (_, result) in window.push(k, vec![("temperature", value)]) {
///         maxima.push(result[0].1);
///     }
/// }
/// assert_eq!(maxima, vec![5, 5, 5, 3]); // windows ending at slices 1, 2, 3, 4
///
/// let saved = window.save();
/// let mut restored = SliceReduceWindow::new(3, 1, |a: u64, b: u64| a.max(b));
/// restored.restore(saved);
/// assert_eq!(restored.push(5, vec![("temperature", 0)])[0].1, vec![("temperature", 3)]);
/// ```
pub struct SliceReduceWindow<K, V> {
    window: u64,
    slide: u64,
    clock: SlideClock,
    aggregate: KeyedAggregate<K, V>,
}

const UNIT: Duration = Duration::from_secs(1);

fn slice_time(number: u64) -> SliceTime {
    SliceTime::with_interval(Duration::from_secs(number), UNIT)
}

impl<K: Eq + Hash + Clone, V: Clone> SliceReduceWindow<K, V> {
    /// Windows of `window` slices, one every `slide` slices, each key's values combined with
    /// `f`.
    ///
    /// # Panics
    ///
    /// When `window` or `slide` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let window = zpark::window::SliceReduceWindow::<&str, u64>::new(10, 5, |a, b| a + b);
    /// assert_eq!(window.describe(), "reducing window of 10 slices every 5");
    /// ```
    #[track_caller]
    pub fn new(window: u64, slide: u64, f: impl Fn(V, V) -> V + Send + Sync + 'static) -> Self {
        assert!(
            window > 0,
            "SliceReduceWindow: the window must hold at least 1 slice (0 given)"
        );
        assert!(
            slide > 0,
            "SliceReduceWindow: the slide must be at least 1 slice (0 given)"
        );
        SliceReduceWindow {
            window,
            slide,
            clock: Self::clock(window, slide),
            aggregate: KeyedAggregate::new(Arc::new(f)),
        }
    }

    fn clock(window: u64, slide: u64) -> SlideClock {
        SlideClock::new(
            "SliceReduceWindow",
            Duration::from_secs(window),
            Duration::from_secs(slide),
        )
    }

    /// What the window is, for a checkpoint's shape.
    ///
    /// # Examples
    ///
    /// ```
    /// let window = zpark::window::SliceReduceWindow::<u8, u8>::new(3, 1, u8::max);
    /// assert_eq!(window.describe(), "reducing window of 3 slices every 1");
    /// ```
    pub fn describe(&self) -> String {
        format!("reducing window of {} slices every {}", self.window, self.slide)
    }

    /// How many keys the window holds now (its state's size).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut window = zpark::window::SliceReduceWindow::new(2, 1, |a: u8, b: u8| a + b);
    /// window.push(1, vec![("a", 1), ("b", 1)]);
    /// window.push(2, vec![("a", 1)]);
    /// window.push(3, vec![("a", 1)]);
    /// assert_eq!(window.key_count(), 1); // "b" left with slice 1
    /// ```
    pub fn key_count(&self) -> usize {
        self.aggregate.key_count()
    }

    /// Adds slice `number` (the next one), its pairs reduced per key, and returns the windows
    /// it completes, each with the number of its last slice and each key's result.
    pub fn push(&mut self, number: u64, pairs: Vec<(K, V)>) -> Vec<(u64, Vec<(K, V)>)> {
        let time = Duration::from_secs(number);
        // Slice numbers are whole multiples of the unit: the clock cannot refuse them.
        let ends = self.clock.advance(slice_time(number)).unwrap_or_default();
        // The windows that end before it (numbers the caller skipped) do not hold it.
        let (before, from_it) = ends.split_at(ends.partition_point(|end| *end < time));
        let mut windows: Vec<_> = before.iter().map(|end| self.window_at(*end)).collect();
        self.aggregate.push(time, pairs);
        windows.extend(from_it.iter().map(|end| self.window_at(*end)));
        self.forget_unneeded();
        windows
    }

    /// Ends the input: returns the windows that still hold one of its slices, as
    /// [`SliceWindow::finish`](super::SliceWindow::finish) does; the window is then empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut window = zpark::window::SliceReduceWindow::new(3, 1, |a: u64, b: u64| a + b);
    /// window.push(1, vec![((), 1)]);
    /// window.push(2, vec![((), 2)]);
    /// let ends: Vec<(u64, u64)> = window.finish().into_iter().map(|(end, r)| (end, r[0].1)).collect();
    /// assert_eq!(ends, vec![(3, 3), (4, 2)]);
    /// ```
    pub fn finish(&mut self) -> Vec<(u64, Vec<(K, V)>)> {
        let windows = self.clock.finish().into_iter().map(|end| self.window_at(end)).collect();
        self.aggregate.clear();
        self.clock = Self::clock(self.window, self.slide);
        windows
    }

    fn window_at(&mut self, end: Duration) -> (u64, Vec<(K, V)>) {
        self.aggregate.evict_through(end.saturating_sub(self.clock.window()));
        (end.as_secs(), self.aggregate.result())
    }

    /// Drops the slices no window to come holds.
    fn forget_unneeded(&mut self) {
        if let Some(next) = self.clock.next_boundary() {
            self.aggregate.evict_through(next.saturating_sub(self.clock.window()));
        }
    }

    /// The slices a window to come holds, with their pairs.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut window = zpark::window::SliceReduceWindow::new(2, 1, |a: u8, b: u8| a + b);
    /// window.push(1, vec![("a", 1)]);
    /// window.push(2, vec![("a", 2)]);
    /// assert_eq!(window.save().slices, vec![(2, vec![("a", 2)])]);
    /// ```
    pub fn save(&self) -> WindowState<(K, V)> {
        WindowState {
            slices: self
                .aggregate
                .entries()
                .map(|(time, pairs)| (time.as_secs(), pairs.clone()))
                .collect(),
        }
    }

    /// Puts back the slices of a [`save`](SliceReduceWindow::save), replacing what the window
    /// held.
    pub fn restore(&mut self, state: WindowState<(K, V)>) {
        self.aggregate.clear();
        self.clock = Self::clock(self.window, self.slide);
        for (number, pairs) in state.slices {
            // The windows these slices completed were emitted before the save.
            let _ = self.clock.advance(slice_time(number));
            self.aggregate.push(Duration::from_secs(number), pairs);
        }
        self.forget_unneeded();
    }
}

impl<K, V> std::fmt::Debug for SliceReduceWindow<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SliceReduceWindow")
            .field("window", &self.window)
            .field("slide", &self.slide)
            .finish_non_exhaustive()
    }
}
