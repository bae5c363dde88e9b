//! Discretize: cut a `Stream<T>` into slices, each an [`Rdd`](crate::Rdd).
//!
//! | method | a slice closes | empty slices |
//! |---|---|---|
//! | [`parallelize`](DiscretizeExt::parallelize) | every `n` elements (the last may be short) | never |
//! | [`discretize`](DiscretizeExt::discretize) | at the end of each interval of `dur` | yes: an idle interval is a slice of 0 |
//! | [`discretize_keep_time`](DiscretizeExt::discretize_keep_time) | as `discretize`, with each slice's [`SliceTime`](crate::SliceTime) | yes |
//! | [`discretize_within`](DiscretizeExt::discretize_within) | at `n` elements or `dur` after it opened, whichever first | yes |
//! | [`discretize_by`](DiscretizeExt::discretize_by) | when the key of the next element differs | never |
//! | [`discretize_by_event_time`](DiscretizeExt::discretize_by_event_time) | when the watermark (largest time seen − lateness) passes its end | yes, from the first slice with data |
//!
//! The time-based slicers read tokio's clock ([`tokio::time`]): on a paused clock
//! (`#[tokio::test(start_paused = true)]`) their slices are exact and repeatable. They read
//! their input on a task of their own, started when the slice stream is first polled and
//! stopped when it is dropped, so an element lands in the slice of the interval it arrived in
//! however slow the consumer is; at most [`SLICES_IN_FLIGHT`] finished slices wait for the
//! consumer, after which the slicer stops reading and back-pressure reaches the source.

mod by_event_time;
mod by_key;
mod files;
mod lines;
mod parallelize;
mod slice_buffer;
mod timed;

use std::time::Duration;

use futures::{Stream, StreamExt};

use crate::engine::Engine;
use crate::rdd::Data;

pub use by_event_time::{DiscretizeByEventTime, LateCount, LateElements};
pub use by_key::DiscretizeBy;
pub use lines::{LineBlockExt, NumberLines, ParallelizeLines};
pub use parallelize::Parallelize;
pub use timed::{Discretize, DiscretizeKeepTime, DiscretizeLines, DiscretizeWithin};

/// Makes a slice of paths into the lines of its files (the map of
/// [`discretize_files`](DiscretizeExt::discretize_files)).
pub type FilesOfSlice = Box<
    dyn FnMut(
            (crate::SliceTime, crate::Rdd<crate::Result<std::path::PathBuf>>),
        ) -> (crate::SliceTime, crate::Rdd<String>)
        + Send,
>;

/// How many finished slices a time-based slicer keeps for a slow consumer before it stops
/// reading its input.
pub const SLICES_IN_FLIGHT: usize = 16;

/// Slicing methods for every [`Stream`].
pub trait DiscretizeExt: Stream + Sized {
    /// Slices of `n` consecutive elements; the last slice may be shorter, no slice is empty.
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// let engine = Engine::local(2);
    /// let sizes: Vec<_> = futures::stream::iter(0..10)
    ///     .parallelize(&engine, 4)
    ///     .then(|rdd| async move { rdd.count().await.unwrap() })
    ///     .collect()
    ///     .await;
    /// assert_eq!(sizes, vec![4, 4, 2]);
    /// # });
    /// ```
    #[track_caller]
    fn parallelize(self, engine: &Engine, n: usize) -> Parallelize<Self>
    where
        Self::Item: Data,
    {
        Parallelize::new(self, engine.clone(), n)
    }

    /// One slice per interval of `dur`, from the moment the stream is first polled; idle
    /// intervals give empty slices; when the input ends, its last, partial slice is emitted.
    ///
    /// Needs a tokio runtime with the time driver.
    ///
    /// # Panics
    ///
    /// When `dur` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let engine = Engine::local(2);
    /// let counts: Vec<u64> = zpark::source::naturals_every(Duration::from_millis(10))
    ///     .take(120)
    ///     .discretize(&engine, Duration::from_millis(500))
    ///     .count_rdd()
    ///     .continuize()
    ///     .map(|r| r.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!(counts, vec![50, 50, 20]);
    /// # }
    /// ```
    #[track_caller]
    fn discretize(self, engine: &Engine, dur: Duration) -> Discretize<Self>
    where
        Self: Send + 'static,
        Self::Item: Data,
    {
        Discretize::new(self, engine.clone(), dur)
    }

    /// As [`discretize`](DiscretizeExt::discretize), each slice with its [`SliceTime`](crate::SliceTime) (the end
    /// of its interval): the input of the window operators.
    ///
    /// # Panics
    ///
    /// When `dur` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let engine = Engine::local(2);
    /// let mut slices = zpark::source::naturals_every(Duration::from_millis(100))
    ///     .take(7)
    ///     .discretize_keep_time(&engine, Duration::from_millis(500));
    /// let (time, rdd) = slices.next().await.unwrap();
    /// assert_eq!(time, SliceTime::from_millis(500));
    /// assert_eq!(rdd.collect().await.unwrap(), vec![0, 1, 2, 3, 4]);
    /// # }
    /// ```
    #[track_caller]
    fn discretize_keep_time(self, engine: &Engine, dur: Duration) -> DiscretizeKeepTime<Self>
    where
        Self: Send + 'static,
        Self::Item: Data,
    {
        DiscretizeKeepTime::new(self, engine.clone(), dur)
    }

    /// Slices of time of the files this stream names (paths, as [`new_files`](crate::source::new_files)
    /// gives them): each slice, with its [`SliceTime`](crate::SliceTime), is the lines of the
    /// files that arrived during it, one partition per file ([`Engine::text_files`]). The
    /// files are read when the slice is computed: by the embedded engine's workers in
    /// parallel, or by an engine that reads files itself (Spark), where stages over them run
    /// too. A slice in which the stream gave an error (a directory that could not be read)
    /// fails with it.
    ///
    /// # Panics
    ///
    /// When `dur` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::env::temp_dir().join(format!("zpark-doc-discretize-files-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("a.log"), "x 1\ny 2\nx 3\n")?;
    /// let engine = Engine::local(2);
    /// let mut counts = zpark::source::new_files(&dir, Duration::from_millis(10))
    ///     .discretize_files(&engine, Duration::from_millis(100))
    ///     .map(|(time, lines)| (time, lines.field(zpark::Field::word(1).unwrap()).count_by_value()));
    /// let (_, first) = counts.next().await.unwrap();
    /// let mut first = first.collect().await?;
    /// first.sort();
    /// assert_eq!(first, vec![(Some("x".to_string()), 2), (Some("y".to_string()), 1)]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    fn discretize_files(
        self,
        engine: &Engine,
        dur: Duration,
    ) -> futures::stream::Map<DiscretizeKeepTime<Self>, FilesOfSlice>
    where
        Self: Stream<Item = crate::Result<std::path::PathBuf>> + Send + 'static,
    {
        self.discretize_files_as(engine, dur, crate::engine::FileFormat::Text)
    }

    /// [`discretize_files`](DiscretizeExt::discretize_files) for files in another
    /// [`FileFormat`](crate::engine::FileFormat): with `FileFormat::Parquet` each slice is the
    /// records of its Parquet files as JSON objects ([`Engine::parquet_files`]), read by Spark
    /// itself on Spark.
    ///
    /// # Panics
    ///
    /// When `dur` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zpark::engine::FileFormat;
    /// use zpark::prelude::*;
    /// let engine = Engine::local(2);
    /// let actions = zpark::source::new_files("/data/events", Duration::from_secs(1))
    ///     .discretize_files_as(&engine, Duration::from_secs(10), FileFormat::Parquet)
    ///     .transform_rdd(|records| records.field(zpark::Field::json("action").unwrap()))
    ///     .count_rdd_by_value();
    /// # drop(actions);
    /// ```
    fn discretize_files_as(
        self,
        engine: &Engine,
        dur: Duration,
        format: crate::engine::FileFormat,
    ) -> futures::stream::Map<DiscretizeKeepTime<Self>, FilesOfSlice>
    where
        Self: Stream<Item = crate::Result<std::path::PathBuf>> + Send + 'static,
    {
        let engine_of_slices = engine.clone();
        self.discretize_keep_time(engine, dur)
            .map(Box::new(move |(time, paths): (crate::SliceTime, crate::Rdd<_>)| {
                (time, files::rows_of_files(&engine_of_slices, &paths, format))
            }))
    }

    /// A slice closes when it holds `n` elements or `dur` after it opened, whichever comes
    /// first; the next slice opens at once. A slice that saw nothing in `dur` is empty.
    ///
    /// # Panics
    ///
    /// When `n` is 0 or `dur` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let engine = Engine::local(2);
    /// let counts: Vec<u64> = futures::stream::iter(0..25)
    ///     .discretize_within(&engine, 10, Duration::from_secs(1))
    ///     .count_rdd()
    ///     .continuize()
    ///     .map(|r| r.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!(counts, vec![10, 10, 5]);
    /// # }
    /// ```
    #[track_caller]
    fn discretize_within(self, engine: &Engine, n: usize, dur: Duration) -> DiscretizeWithin<Self>
    where
        Self: Send + 'static,
        Self::Item: Data,
    {
        DiscretizeWithin::new(self, engine.clone(), n, dur)
    }

    /// Consecutive elements with equal keys form one slice: a slice closes when the key
    /// changes (a key seen again later starts a new slice).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// let engine = Engine::local(2);
    /// let sums: Vec<i32> = futures::stream::iter([1, 3, 2, 4, 6, 5])
    ///     .discretize_by(&engine, |x| x % 2)   // runs of odd, then even, then odd
    ///     .reduce_rdd(|a, b| a + b)
    ///     .continuize()
    ///     .map(|r| r.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!(sums, vec![4, 12, 5]);
    /// # });
    /// ```
    fn discretize_by<K, F>(self, engine: &Engine, key: F) -> DiscretizeBy<Self, K, F>
    where
        Self::Item: Data,
        K: PartialEq,
        F: FnMut(&Self::Item) -> K,
    {
        DiscretizeBy::new(self, engine.clone(), key)
    }

    /// Slices by the time written in each element (`time_of`, an offset from an epoch of your
    /// choice), not by arrival: slice k holds times in `[k·slice, (k+1)·slice)`. A slice closes
    /// when the watermark, the largest time seen minus `allowed_lateness`, reaches its end, so
    /// input out of order by less than the lateness gives the same slices as sorted input.
    /// Elements that come after their slice closed are late: counted, and sent to a side stream
    /// if asked ([`DiscretizeByEventTime::late_elements`]). Reads no clock.
    ///
    /// # Panics
    ///
    /// When `slice` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// let engine = Engine::local(1);
    /// let events = [(2u64, "a"), (1, "b"), (11, "c"), (9, "d"), (30, "e")]; // (second, what)
    /// let slices: Vec<(SliceTime, Vec<&str>)> = futures::stream::iter(events)
    ///     .discretize_by_event_time(&engine, |(t, _)| Duration::from_secs(*t), Duration::from_secs(10), Duration::from_secs(5))
    ///     .then(|(time, rdd)| async move { (time, rdd.map(|(_, w)| w).collect().await.unwrap()) })
    ///     .collect()
    ///     .await;
    /// assert_eq!(slices[0], (SliceTime::from_millis(10_000), vec!["a", "b", "d"]));
    /// assert_eq!(slices[1].1, vec!["c"]);
    /// assert_eq!(slices[2].1, Vec::<&str>::new()); // [20, 30) is empty
    /// assert_eq!(slices[3].1, vec!["e"]);
    /// # });
    /// ```
    #[track_caller]
    fn discretize_by_event_time<F>(
        self,
        engine: &Engine,
        time_of: F,
        slice: Duration,
        allowed_lateness: Duration,
    ) -> DiscretizeByEventTime<Self, F>
    where
        Self::Item: Data,
        F: FnMut(&Self::Item) -> Duration,
    {
        DiscretizeByEventTime::new(self, engine.clone(), time_of, slice, allowed_lateness)
    }
}

impl<S: Stream> DiscretizeExt for S {}
