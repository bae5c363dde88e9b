//! Time operations on streams of timed slices, `Stream<Item = (SliceTime, Rdd<T>)>` (made by
//! [`discretize_keep_time`](crate::discretize::DiscretizeExt::discretize_keep_time)).
//!
//! The semantics are those of Spark Streaming's windowed DStreams: with slices every `d`, a
//! window is emitted at every slide boundary `T = j·slide` (j ≥ 1) and holds the slices whose
//! time lies in `(T - window, T]`. The first, partial windows are emitted; a window of empty
//! slices is an empty `Rdd` (a count of 0 is news). When the input ends, the windows that still
//! hold one of its slices are emitted at once: at each further slide boundary `T` while
//! `T - window` is earlier than the last slice's time (as Flink fires every window at the end
//! of a bounded input), so every slice is in as many windows at the end as at the start, and
//! a file run through a window loses no record. `window` and `slide` must be whole
//! multiples of `d`: otherwise the first item is a slice whose `Rdd` fails with
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument), before any window, and the
//! stream ends.
//!
//! The windowed reductions reduce each slice first (on the engine, as Spark does), so a
//! slice's records are combined once, not once per window; then the window's partial results
//! are aggregated on the driver in constant time per slide, whatever the window's length,
//! with no inverse function ([`SlidingReduce`]: two stacks per key).

mod clock;
mod reduce_inv;
mod session_reduce;
mod sessions;
mod slice_reduce_window;
mod slice_window;
mod sliding_reduce;
mod timeline;
mod two_stacks;
mod window_rdd;

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;

use crate::rdd::{Data, Rdd};
use crate::slice_ops::{ops, PerSlice, PerSliceExt};

pub use crate::time::SliceTime;
pub use reduce_inv::ReduceByKeyAndWindowInv;
pub use session_reduce::SessionReduce;
pub use sessions::{Session, SessionState, SessionWindows};
pub use slice_reduce_window::SliceReduceWindow;
pub use slice_window::{SliceWindow, WindowState};
pub use sliding_reduce::SlidingReduce;
pub use window_rdd::WindowRdd;

/// Adds two counts. (The counting windows now merge with the built-in `Reducer::Sum`, which
/// a cluster runs too; this alias stays for code that named it.)
pub type AddCounts = fn(u64, u64) -> u64;

/// Windows of windows: the stream type of the per-slice-then-per-window reductions before
/// they became [`SlidingReduce`] (`stream.per_slice(op).window_rdd(..).per_slice(op)`: each
/// window recomputed from its slices).
pub type Windowed<S, T, PerSliceOp, PerWindowOp> = PerSlice<WindowRdd<PerSlice<S, PerSliceOp>, T>, PerWindowOp>;

/// The windows of an operation on whole elements: the key is `()`.
pub type SlidingReduceOf<S, T> = SlidingReduce<S, T, (), T>;

fn unkeyed<T>(value: T) -> ((), T) {
    ((), value)
}

fn value_of<T>((): (), value: T) -> T {
    value
}

fn pair<K, V>(pair: (K, V)) -> (K, V) {
    pair
}

fn join<K, V>(key: K, value: V) -> (K, V) {
    (key, value)
}

fn add(a: u64, b: u64) -> u64 {
    a + b
}

fn concat_values<V>(mut older: Vec<V>, newer: Vec<V>) -> Vec<V> {
    older.extend(newer);
    older
}

/// Window operations for every stream of timed slices.
///
/// The examples use naturals every 100 ms sliced every 500 ms on a paused clock: slice k holds
/// 5 elements.
pub trait WindowExt<T: Data>: Stream<Item = (SliceTime, Rdd<T>)> + Sized {
    /// The windows themselves: one `(T, Rdd)` per slide boundary `T`, holding the slices of
    /// `(T - window, T]`.
    ///
    /// # Panics
    ///
    /// When `window` or `slide` is zero.
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
    /// let ms = Duration::from_millis;
    /// let windows: Vec<(SliceTime, u64)> = zpark::source::naturals_every(ms(100))
    ///     .take(20)
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .window_rdd(ms(1000), ms(500))
    ///     .then(|(time, rdd)| async move { (time, rdd.count().await.unwrap()) })
    ///     .collect()
    ///     .await;
    /// let counts: Vec<u64> = windows.iter().map(|(_, n)| *n).collect();
    /// // The first window is partial, and so is the last, at the end of input.
    /// assert_eq!(counts, vec![5, 10, 10, 10, 5]);
    /// assert_eq!(windows[4].0, SliceTime::from_millis(2500));
    /// # }
    /// ```
    #[track_caller]
    fn window_rdd(self, window: Duration, slide: Duration) -> WindowRdd<Self, T> {
        WindowRdd::new(self, window, slide)
    }

    /// Per window, one element: the window's elements combined with `f` (none for an empty
    /// window).
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
    /// let ms = Duration::from_millis;
    /// let sums: Vec<u64> = zpark::source::naturals_every(ms(100)).take(10)
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .reduce_by_window(|a, b| a + b, ms(1000), ms(1000))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(sums, vec![45]);
    /// # }
    /// ```
    #[track_caller]
    fn reduce_by_window<F>(
        self,
        f: F,
        window: Duration,
        slide: Duration,
    ) -> SlidingReduceOf<PerSlice<Self, ops::Reduce<F>>, T>
    where
        F: Fn(T, T) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let g = Arc::clone(&f);
        SlidingReduce::new(
            "reduce_by_window",
            PerSlice::new(self, ops::Reduce(f)),
            Arc::new(move |a, b| g(a, b)),
            (unkeyed, value_of),
            window,
            slide,
        )
    }

    /// Per window, one element: how many elements it holds (0 for a window of empty slices).
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
    /// let ms = Duration::from_millis;
    /// let counts: Vec<u64> = zpark::source::naturals_every(ms(100)).take(10)
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .count_by_window(ms(1000), ms(500))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(counts, vec![5, 10, 5]); // the window at 1.5 s holds the last slice
    /// # }
    /// ```
    #[track_caller]
    fn count_by_window(self, window: Duration, slide: Duration) -> SlidingReduceOf<PerSlice<Self, ops::Count>, u64> {
        // A built-in count per slice (it runs on a cluster too); the window adds them up.
        SlidingReduce::new(
            "count_by_window",
            PerSlice::new(self, ops::Count),
            Arc::new(add),
            (unkeyed, value_of),
            window,
            slide,
        )
    }

    /// Per window, `(value, count)` for each distinct value.
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
    /// let ms = Duration::from_millis;
    /// let mut counts: Vec<(u64, u64)> = zpark::source::naturals_every(ms(100)).take(10)
    ///     .map(|n| n % 2)
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .count_by_value_and_window(ms(1000), ms(1000))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// counts.sort();
    /// assert_eq!(counts, vec![(0, 5), (1, 5)]);
    /// # }
    /// ```
    #[track_caller]
    fn count_by_value_and_window(
        self,
        window: Duration,
        slide: Duration,
    ) -> SlidingReduce<PerSlice<Self, ops::CountByValue>, (T, u64), T, u64>
    where
        T: Eq + Hash,
    {
        // A built-in count by value per slice (it runs on a cluster too); the window adds up
        // each value's counts.
        SlidingReduce::new(
            "count_by_value_and_window",
            PerSlice::new(self, ops::CountByValue),
            Arc::new(add),
            (pair, join),
            window,
            slide,
        )
    }
}

impl<T: Data, S: Stream<Item = (SliceTime, Rdd<T>)>> WindowExt<T> for S {}

/// Window operations for every stream of timed slices of `(key, value)` pairs.
pub trait PairWindowExt<K: Data + Eq + Hash, V: Data>: Stream<Item = (SliceTime, Rdd<(K, V)>)> + Sized {
    /// Per window, the values of each key merged with `f`.
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
    /// let ms = Duration::from_millis;
    /// let mut sums: Vec<(u64, u64)> = zpark::source::naturals_every(ms(100)).take(10)
    ///     .map(|n| (n % 2, n))
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .reduce_by_key_and_window(|a, b| a + b, ms(1000), ms(1000))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// sums.sort();
    /// assert_eq!(sums, vec![(0, 20), (1, 25)]);
    /// # }
    /// ```
    #[track_caller]
    fn reduce_by_key_and_window<F>(
        self,
        f: F,
        window: Duration,
        slide: Duration,
    ) -> SlidingReduce<PerSlice<Self, ops::ReduceByKey<F>>, (K, V), K, V>
    where
        F: Fn(V, V) -> V + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let g = Arc::clone(&f);
        SlidingReduce::new(
            "reduce_by_key_and_window",
            PerSlice::new(self, ops::ReduceByKey(f)),
            Arc::new(move |a, b| g(a, b)),
            (pair, join),
            window,
            slide,
        )
    }

    /// Per slice, the sessions it closes: each key's values merged with `f` from the first
    /// slice that held it until no slice has held it for `gap` (see [`SessionWindows`] for
    /// the rule, [`SessionReduce`] for the items). On slices in event time
    /// ([`discretize_by_event_time`](crate::discretize::DiscretizeExt::discretize_by_event_time)),
    /// sessions are in event time, and late records are those that stream's `late_elements`
    /// gives: in no session.
    ///
    /// # Panics
    ///
    /// When `gap` is zero.
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
    /// let ms = Duration::from_millis;
    /// // "ada" clicks at 0-400 ms and again at 1.5 s; "bob" once at 200 ms.
    /// let clicks = futures::stream::iter([("ada", 1), ("ada", 1), ("bob", 1), ("ada", 1)])
    ///     .chain(futures::stream::iter([("ada", 1)]).then(move |c| async move { tokio::time::sleep(ms(1500)).await; c }));
    /// let sessions: Vec<(&str, u32)> = clicks
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .reduce_by_key_and_session(|a, b| a + b, ms(1000))
    ///     .then(|(_, rdd)| async move {
    ///         let mut closed = rdd.collect().await.unwrap();
    ///         closed.sort_by_key(|session| session.key);
    ///         closed
    ///     })
    ///     .flat_map(futures::stream::iter)
    ///     .map(|session| (session.key, session.value))
    ///     .collect().await;
    /// assert_eq!(sessions, vec![("ada", 3), ("bob", 1), ("ada", 1)]);
    /// # }
    /// ```
    #[track_caller]
    fn reduce_by_key_and_session<F>(
        self,
        f: F,
        gap: Duration,
    ) -> SessionReduce<PerSlice<Self, ops::ReduceByKey<F>>, K, V>
    where
        F: Fn(V, V) -> V + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let g = Arc::clone(&f);
        SessionReduce::new(
            PerSlice::new(self, ops::ReduceByKey(f)),
            Arc::new(move |a, b| g(a, b)),
            gap,
        )
    }

    /// Per slice, the sessions it closes, each with its key's values gathered in a `Vec`,
    /// oldest slice first (see [`reduce_by_key_and_session`](PairWindowExt::reduce_by_key_and_session)).
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
    /// let ms = Duration::from_millis;
    /// let sessions: Vec<Vec<u32>> = futures::stream::iter([("ada", 1), ("ada", 2)])
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .session_window_by_key(ms(1000))
    ///     .then(|(_, rdd)| async move { rdd.collect().await.unwrap() })
    ///     .flat_map(futures::stream::iter)
    ///     .map(|session| { let mut v = session.value; v.sort(); v })
    ///     .collect().await;
    /// assert_eq!(sessions, vec![vec![1, 2]]); // open at the end of input
    /// # }
    /// ```
    #[track_caller]
    fn session_window_by_key(self, gap: Duration) -> SessionReduce<PerSlice<Self, ops::GroupByKey>, K, Vec<V>> {
        SessionReduce::new(PerSlice::new(self, ops::GroupByKey), Arc::new(concat_values), gap)
    }

    /// Per window, the values of each key gathered in a `Vec`.
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
    /// let ms = Duration::from_millis;
    /// let groups: Vec<(&str, Vec<u64>)> = zpark::source::naturals_every(ms(100)).take(3)
    ///     .map(|n| ("k", n))
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .group_by_key_and_window(ms(500), ms(500))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(groups.len(), 1);
    /// # }
    /// ```
    #[track_caller]
    fn group_by_key_and_window(
        self,
        window: Duration,
        slide: Duration,
    ) -> PerSlice<WindowRdd<Self, (K, V)>, ops::GroupByKey> {
        WindowRdd::new(self, window, slide).per_slice(ops::GroupByKey)
    }

    /// Per window, the values of each key merged with `f`, computed incrementally: each window
    /// is the previous one plus the slices that entered (merged with `f`) minus the slices that
    /// left (removed with `inverse`, which must undo `f`: `inverse(f(a, b), b) == a`). Worth it
    /// for windows of many slices; see [`ReduceByKeyAndWindowInv::keep_keys`] to drop keys
    /// whose value went back to zero.
    ///
    /// # Panics
    ///
    /// When `window` or `slide` is zero.
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
    /// let ms = Duration::from_millis;
    /// let sums: Vec<Vec<(&str, i64)>> = zpark::source::naturals_every(ms(100)).take(15)
    ///     .map(|n| ("k", n as i64))
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, ms(1000), ms(500))
    ///     .then(|(_, rdd)| async move { rdd.collect().await.unwrap() })
    ///     .collect().await;
    /// assert_eq!(sums, vec![vec![("k", 10)], vec![("k", 45)], vec![("k", 95)], vec![("k", 60)]]);
    /// # }
    /// ```
    #[track_caller]
    fn reduce_by_key_and_window_inv<F, G>(
        self,
        f: F,
        inverse: G,
        window: Duration,
        slide: Duration,
    ) -> ReduceByKeyAndWindowInv<Self, K, V, F, G>
    where
        F: Fn(V, V) -> V + Send + Sync + 'static,
        G: Fn(V, V) -> V + Send + Sync + 'static,
    {
        ReduceByKeyAndWindowInv::new(self, f, inverse, window, slide)
    }
}

impl<K: Data + Eq + Hash, V: Data, S: Stream<Item = (SliceTime, Rdd<(K, V)>)>> PairWindowExt<K, V> for S {}
