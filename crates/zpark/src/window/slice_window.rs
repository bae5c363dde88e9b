//! Windows over numbered slices whose buffered slices can be saved and restored: the window of
//! checkpointed pipelines.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::timeline::Timeline;
use super::SliceTime;
use crate::engine::Engine;
use crate::error::Result;
use crate::rdd::{Data, Rdd};

/// Sliding windows over slices numbered 1, 2, 3, ..., with the semantics of
/// [`window_rdd`](super::WindowExt::window_rdd) counted in slices: after slice `k`, when `k` is
/// a multiple of `slide`, a window holds slices `k - window + 1 ..= k` (fewer at the start).
///
/// Unlike the stream operator it is driven by hand, one slice at a time, and its buffered
/// slices can be saved ([`save`](SliceWindow::save)) and restored: a checkpointed pipeline
/// keeps its windows across a restart. Save a reduced form of each slice (counts per key rather
/// than records) to keep the checkpoint small.
///
/// # Examples
///
/// ```
/// use zpark::window::SliceWindow;
/// # futures::executor::block_on(async {
/// let engine = zpark::Engine::local(2);
/// let mut window = SliceWindow::new(3, 1);
/// let mut sizes = Vec::new();
/// for k in 1..=4u64 {
///     for (_, rdd) in window.push(k, engine.parallelize(vec![k; k as usize], 1))? {
///         sizes.push(rdd.count().await?);
///     }
/// }
/// assert_eq!(sizes, vec![1, 3, 6, 9]); // windows ending at slices 1, 2, 3, 4
///
/// let saved = window.save().await?;
/// let mut restored = SliceWindow::new(3, 1);
/// restored.restore(&engine, saved);
/// let (_, next) = restored.push(5, engine.parallelize(vec![5u64; 5], 1))?.remove(0);
/// assert_eq!(next.count().await?, 12); // slices 3, 4 and 5
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
pub struct SliceWindow<T> {
    window: u64,
    slide: u64,
    timeline: Timeline<T>,
}

/// The saved form of a [`SliceWindow`]: the slices a window to come still needs, each with its
/// number and its elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowState<T> {
    /// `(slice number, elements)`, oldest first.
    pub slices: Vec<(u64, Vec<T>)>,
}

const UNIT: Duration = Duration::from_secs(1);

/// `n` slices as a span on the window's clock (one slice per [`UNIT`]).
fn span(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn slice_time(number: u64) -> SliceTime {
    SliceTime::with_interval(span(number), UNIT)
}

impl<T: Data> SliceWindow<T> {
    /// Windows of `window` slices, one every `slide` slices.
    ///
    /// # Panics
    ///
    /// When `window` or `slide` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let window = zpark::window::SliceWindow::<u8>::new(10, 5);
    /// assert_eq!(window.describe(), "window of 10 slices every 5");
    /// ```
    #[track_caller]
    pub fn new(window: u64, slide: u64) -> Self {
        assert!(
            window > 0,
            "SliceWindow: the window must hold at least 1 slice (0 given)"
        );
        assert!(slide > 0, "SliceWindow: the slide must be at least 1 slice (0 given)");
        SliceWindow {
            window,
            slide,
            timeline: Self::timeline(window, slide),
        }
    }

    fn timeline(window: u64, slide: u64) -> Timeline<T> {
        Timeline::new("SliceWindow", span(window), span(slide), Duration::ZERO)
    }

    /// How many slices a window holds.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::window::SliceWindow::<u8>::new(10, 5).length(), 10);
    /// ```
    pub fn length(&self) -> u64 {
        self.window
    }

    /// How many slices a window slides by.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::window::SliceWindow::<u8>::new(10, 5).slide(), 5);
    /// ```
    pub fn slide(&self) -> u64 {
        self.slide
    }

    /// What the window is, for a checkpoint's shape.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::window::SliceWindow::<u8>::new(3, 1).describe(), "window of 3 slices every 1");
    /// ```
    pub fn describe(&self) -> String {
        format!("window of {} slices every {}", self.window, self.slide)
    }

    /// Adds slice `number` (the next one) and returns the windows it completes, each with the
    /// number of its last slice.
    ///
    /// # Errors
    ///
    /// None in practice: slice numbers are whole multiples of the slice unit.
    pub fn push(&mut self, number: u64, rdd: Rdd<T>) -> Result<Vec<(u64, Rdd<T>)>> {
        let ends = self.timeline.push(slice_time(number), rdd.persist())?;
        let windows = self.windows_at(ends);
        self.timeline.prune();
        Ok(windows)
    }

    /// Ends the input: returns the windows that still hold one of its slices, each with the
    /// number of its last slice (past the last slice pushed), as
    /// [`window_rdd`](super::WindowExt::window_rdd) emits them at the end of its input. The
    /// window is then empty: a later [`push`](SliceWindow::push) starts windows anew.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::window::SliceWindow;
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let mut window = SliceWindow::new(3, 1);
    /// let mut sizes = Vec::new();
    /// for k in 1..=3u64 {
    ///     for (_, rdd) in window.push(k, engine.parallelize(vec![k; 1], 1))? {
    ///         sizes.push(rdd.count().await?);
    ///     }
    /// }
    /// for (_, rdd) in window.finish() {
    ///     sizes.push(rdd.count().await?);
    /// }
    /// assert_eq!(sizes, vec![1, 2, 3, 2, 1]); // windows ending at slices 1 to 5
    /// assert!(window.finish().is_empty());
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn finish(&mut self) -> Vec<(u64, Rdd<T>)> {
        let ends = self.timeline.finish();
        let windows = self.windows_at(ends);
        self.timeline = Self::timeline(self.window, self.slide);
        windows
    }

    /// The windows ending at `ends`, each the union of its slices.
    fn windows_at(&self, ends: Vec<Duration>) -> Vec<(u64, Rdd<T>)> {
        ends.into_iter()
            .filter_map(|end| {
                let inside = self.timeline.slices_in(end.saturating_sub(span(self.window)), end);
                let engine = inside.first()?.engine().clone();
                Some((end.as_secs(), engine.union(&inside)))
            })
            .collect()
    }

    /// The slices a window to come needs, with their elements.
    ///
    /// # Errors
    ///
    /// When a buffered slice failed to compute.
    pub async fn save(&self) -> Result<WindowState<T>> {
        let mut slices = Vec::new();
        for (time, rdd) in self.timeline.entries() {
            slices.push((time.as_duration().as_secs(), rdd.collect().await?));
        }
        Ok(WindowState { slices })
    }

    /// Puts back the slices of a [`save`](SliceWindow::save), replacing what the window held.
    pub fn restore(&mut self, engine: &Engine, state: WindowState<T>) {
        self.timeline = Self::timeline(self.window, self.slide);
        for (number, elements) in state.slices {
            let partitions = engine.slice_partitions(elements.len());
            // The windows these slices completed were emitted before the save.
            let _ = self
                .timeline
                .push(slice_time(number), engine.parallelize(elements, partitions).persist());
            self.timeline.prune();
        }
    }
}

impl<T> std::fmt::Debug for SliceWindow<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SliceWindow")
            .field("window", &self.window)
            .field("slide", &self.slide)
            .field("kept_slices", &self.timeline.kept())
            .finish()
    }
}
