//! Per-slice operations on a stream of slices, and `continuize` to make it a stream of
//! elements again.
//!
//! Every method applies to a `Stream` of [`Rdd`]s and to a `Stream` of `(SliceTime, Rdd)`; the
//! time of a timed slice is kept. The operations are lazy: they derive each slice's `Rdd`, and
//! the work runs when [`continuize`](SliceStreamExt::continuize) (or an action in
//! [`foreach_rdd`](SliceStreamExt::foreach_rdd)) asks for the slice.

mod continuize;
mod foreach_rdd;
mod metrics;
mod per_slice;
mod slice;
mod union_rdd;
mod zip_rdd;

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use futures::Stream;

use crate::error::Result;
use crate::rdd::{Data, Rdd};

pub use continuize::Continuize;
pub use foreach_rdd::ForeachRdd;
pub use metrics::{Measured, Metrics, SliceMetrics, StateSize};
pub use per_slice::{ops, PerSlice, SliceOp};
pub use slice::Slice;
pub use union_rdd::{union_rdd, UnionRdd};
pub use zip_rdd::ZipRdd;

/// How many slices [`continuize`](SliceStreamExt::continuize) computes at once.
pub const DEFAULT_SLICES_IN_FLIGHT: usize = 4;

/// The element type of the slices of stream `S`.
type Elem<S> = <<S as Stream>::Item as Slice>::Elem;

/// Per-slice operations for every stream of slices.
///
/// The examples below use this helper: the slices `[1, 2, 3, 4]` and `[5, 6]`.
///
/// ```
/// # use zpark::prelude::*;
/// fn slices(engine: &Engine) -> impl futures::Stream<Item = Rdd<i32>> {
///     futures::stream::iter(1..=6).parallelize(engine, 4)
/// }
/// ```
pub trait SliceStreamExt: Stream + Sized
where
    Self::Item: Slice,
{
    /// Applies `f` to every element of every slice. `p.map_rdd(f)` is `p.map(|rdd| rdd.map(f))`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=6).parallelize(&engine, 4)
    ///     .map_rdd(|x| x * 10).continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![10, 20, 30, 40, 50, 60]);
    /// # });
    /// ```
    fn map_rdd<U, F>(self, f: F) -> PerSlice<Self, ops::Map<F>>
    where
        U: Data,
        F: Fn(Elem<Self>) -> U + Send + Sync + 'static,
    {
        PerSlice::new(self, ops::Map(Arc::new(f)))
    }

    /// Keeps, in every slice, the elements for which `f` is true.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=6).parallelize(&engine, 4)
    ///     .filter_rdd(|x| x % 2 == 0).continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![2, 4, 6]);
    /// # });
    /// ```
    fn filter_rdd<F>(self, f: F) -> PerSlice<Self, ops::Filter<F>>
    where
        F: Fn(&Elem<Self>) -> bool + Send + Sync + 'static,
    {
        PerSlice::new(self, ops::Filter(Arc::new(f)))
    }

    /// Replaces every element of every slice with the elements `f` gives for it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=2).parallelize(&engine, 4)
    ///     .flat_map_rdd(|x| vec![x; 2]).continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![1, 1, 2, 2]);
    /// # });
    /// ```
    fn flat_map_rdd<U, I, F>(self, f: F) -> PerSlice<Self, ops::FlatMap<F>>
    where
        U: Data,
        I: IntoIterator<Item = U> + 'static,
        F: Fn(Elem<Self>) -> I + Send + Sync + 'static,
    {
        PerSlice::new(self, ops::FlatMap(Arc::new(f)))
    }

    /// Replaces every slice's `Rdd` with `f(rdd)`: any operation of [`Rdd`], or a chain of them.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=6).parallelize(&engine, 4)
    ///     .transform_rdd(|rdd| rdd.filter(|x| *x > 2).map(|x| x - 2))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![1, 2, 3, 4]);
    /// # });
    /// ```
    fn transform_rdd<U, F>(self, f: F) -> PerSlice<Self, ops::Transform<F>>
    where
        U: Data,
        F: FnMut(Rdd<Elem<Self>>) -> Rdd<U>,
    {
        PerSlice::new(self, ops::Transform(f))
    }

    /// Runs the async `action` on each slice in turn (an output operation, Spark's
    /// `foreachRDD`), stopping at the first error.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let sizes = std::cell::RefCell::new(Vec::new());
    /// futures::stream::iter(1..=6).parallelize(&engine, 4)
    ///     .foreach_rdd(|rdd| {
    ///         let sizes = &sizes;
    ///         async move { sizes.borrow_mut().push(rdd.count().await?); Ok(()) }
    ///     })
    ///     .await?;
    /// assert_eq!(sizes.into_inner(), vec![4, 2]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    fn foreach_rdd<F, Fut>(self, action: F) -> ForeachRdd<Self, F, Fut>
    where
        F: FnMut(Self::Item) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        ForeachRdd::new(self, action)
    }

    /// One element per slice: its size (0 for an empty slice).
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=6).parallelize(&engine, 4)
    ///     .count_rdd().continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![4, 2]);
    /// # });
    /// ```
    fn count_rdd(self) -> PerSlice<Self, ops::Count> {
        PerSlice::new(self, ops::Count)
    }

    /// `(value, count)` for each distinct value of each slice (in hash order inside a slice).
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let mut out: Vec<_> = futures::stream::iter([1, 1, 2, 1]).parallelize(&engine, 4)
    ///     .count_rdd_by_value().continuize().map(Result::unwrap).collect().await;
    /// out.sort();
    /// assert_eq!(out, vec![(1, 3), (2, 1)]);
    /// # });
    /// ```
    fn count_rdd_by_value(self) -> PerSlice<Self, ops::CountByValue>
    where
        Elem<Self>: Eq + Hash,
    {
        PerSlice::new(self, ops::CountByValue)
    }

    /// One element per non-empty slice: its elements combined with `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=6).parallelize(&engine, 4)
    ///     .reduce_rdd(|a, b| a + b).continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![10, 11]);
    /// # });
    /// ```
    fn reduce_rdd<F>(self, f: F) -> PerSlice<Self, ops::Reduce<F>>
    where
        F: Fn(Elem<Self>, Elem<Self>) -> Elem<Self> + Send + Sync + 'static,
    {
        PerSlice::new(self, ops::Reduce(Arc::new(f)))
    }

    /// The reduction of each non-empty slice with a built-in [`Reducer`](crate::Reducer): what
    /// a cluster (Spark) runs itself, where `reduce_rdd` with a Rust closure is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<u64> = futures::stream::iter(1..=4u64).parallelize(&engine, 2)
    ///     .reduce_rdd_with(Reducer::Sum).continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![3, 7]);
    /// # });
    /// ```
    fn reduce_rdd_with(self, reducer: crate::Reducer) -> PerSlice<Self, ops::ReduceWith>
    where
        Elem<Self>: crate::engine::Reducible,
    {
        PerSlice::new(self, ops::ReduceWith(reducer))
    }

    /// In each slice of pairs, the values of each key merged with a built-in
    /// [`Reducer`](crate::Reducer): what a cluster (Spark) runs itself, where `reduce_rdd_by_key`
    /// with a Rust closure is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let mut out: Vec<_> = futures::stream::iter([("a", 1), ("b", 1), ("a", 5)])
    ///     .parallelize(&engine, 3)
    ///     .reduce_rdd_by_key_with(Reducer::Sum).continuize().map(Result::unwrap).collect().await;
    /// out.sort();
    /// assert_eq!(out, vec![("a", 6), ("b", 1)]);
    /// # });
    /// ```
    fn reduce_rdd_by_key_with<K, V>(self, reducer: crate::Reducer) -> PerSlice<Self, ops::ReduceByKeyWith>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: crate::engine::Reducible,
    {
        PerSlice::new(self, ops::ReduceByKeyWith(reducer))
    }

    /// In each slice of pairs, the values of each key merged with `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let mut out: Vec<_> = futures::stream::iter([("a", 1), ("b", 1), ("a", 5)])
    ///     .parallelize(&engine, 3)
    ///     .reduce_rdd_by_key(|x, y| x + y).continuize().map(Result::unwrap).collect().await;
    /// out.sort();
    /// assert_eq!(out, vec![("a", 6), ("b", 1)]);
    /// # });
    /// ```
    fn reduce_rdd_by_key<K, V, F>(self, f: F) -> PerSlice<Self, ops::ReduceByKey<F>>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: Data,
        F: Fn(V, V) -> V + Send + Sync + 'static,
    {
        PerSlice::new(self, ops::ReduceByKey(Arc::new(f)))
    }

    /// In each slice of pairs, the values of each key gathered in a `Vec`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter([(7, 'x'), (7, 'x')]).parallelize(&engine, 2)
    ///     .group_rdd_by_key().continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![(7, vec!['x', 'x'])]);
    /// # });
    /// ```
    fn group_rdd_by_key<K, V>(self) -> PerSlice<Self, ops::GroupByKey>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: Data,
    {
        PerSlice::new(self, ops::GroupByKey)
    }

    /// In each slice of pairs, Spark's `combineByKey` (see [`Rdd::combine_by_key`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter([("k", 2), ("k", 9)]).parallelize(&engine, 2)
    ///     .combine_rdd_by_key(|v| (v, v), |(lo, hi), v| (lo.min(v), hi.max(v)),
    ///                     |(a, b), (c, d)| (a.min(c), b.max(d)))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![("k", (2, 9))]);
    /// # });
    /// ```
    fn combine_rdd_by_key<K, V, C, A, B, M>(
        self,
        create: A,
        merge_value: B,
        merge_combiners: M,
    ) -> PerSlice<Self, ops::CombineByKey<A, B, M>>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: Data,
        C: Data,
        A: Fn(V) -> C + Send + Sync + 'static,
        B: Fn(C, V) -> C + Send + Sync + 'static,
        M: Fn(C, C) -> C + Send + Sync + 'static,
    {
        PerSlice::new(
            self,
            ops::CombineByKey(Arc::new((create, merge_value, merge_combiners))),
        )
    }
    /// Deprecated name of [`reduce_rdd_by_key_with`](SliceStreamExt::reduce_rdd_by_key_with)
    /// (a per-slice operation says `rdd` after its verb; ARCHITECTURE.md, Names).
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(1);
    /// #[allow(deprecated)]
    /// let out: Vec<_> = futures::stream::iter([("a", 1), ("a", 5)]).parallelize(&engine, 2)
    ///     .reduce_by_key_with(Reducer::Sum).continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![("a", 6)]);
    /// # });
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "renamed `reduce_rdd_by_key_with`: a per-slice operation says `rdd` after its verb"
    )]
    fn reduce_by_key_with<K, V>(self, reducer: crate::Reducer) -> PerSlice<Self, ops::ReduceByKeyWith>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: crate::engine::Reducible,
    {
        self.reduce_rdd_by_key_with(reducer)
    }

    /// Deprecated name of [`reduce_rdd_by_key`](SliceStreamExt::reduce_rdd_by_key).
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(1);
    /// #[allow(deprecated)]
    /// let out: Vec<_> = futures::stream::iter([("a", 1), ("a", 5)]).parallelize(&engine, 2)
    ///     .reduce_by_key(|x, y| x + y).continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![("a", 6)]);
    /// # });
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "renamed `reduce_rdd_by_key`: a per-slice operation says `rdd` after its verb"
    )]
    fn reduce_by_key<K, V, F>(self, f: F) -> PerSlice<Self, ops::ReduceByKey<F>>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: Data,
        F: Fn(V, V) -> V + Send + Sync + 'static,
    {
        self.reduce_rdd_by_key(f)
    }

    /// Deprecated name of [`group_rdd_by_key`](SliceStreamExt::group_rdd_by_key).
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(1);
    /// #[allow(deprecated)]
    /// let out: Vec<_> = futures::stream::iter([(7, 'x'), (7, 'y')]).parallelize(&engine, 2)
    ///     .group_by_key().continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![(7, vec!['x', 'y'])]);
    /// # });
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "renamed `group_rdd_by_key`: a per-slice operation says `rdd` after its verb"
    )]
    fn group_by_key<K, V>(self) -> PerSlice<Self, ops::GroupByKey>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: Data,
    {
        self.group_rdd_by_key()
    }

    /// Deprecated name of [`combine_rdd_by_key`](SliceStreamExt::combine_rdd_by_key).
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(1);
    /// #[allow(deprecated)]
    /// let out: Vec<_> = futures::stream::iter([("k", 2), ("k", 9)]).parallelize(&engine, 2)
    ///     .combine_by_key(|v| v, |a: i32, v| a.max(v), |a, b| a.max(b))
    ///     .continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![("k", 9)]);
    /// # });
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "renamed `combine_rdd_by_key`: a per-slice operation says `rdd` after its verb"
    )]
    fn combine_by_key<K, V, C, A, B, M>(
        self,
        create: A,
        merge_value: B,
        merge_combiners: M,
    ) -> PerSlice<Self, ops::CombineByKey<A, B, M>>
    where
        Self::Item: Slice<Elem = (K, V)>,
        K: Data + Eq + Hash,
        V: Data,
        C: Data,
        A: Fn(V) -> C + Send + Sync + 'static,
        B: Fn(C, V) -> C + Send + Sync + 'static,
        M: Fn(C, C) -> C + Send + Sync + 'static,
    {
        self.combine_rdd_by_key(create, merge_value, merge_combiners)
    }

    /// Pairs slice i of `self` with slice i of `other` into their union (the seed's `zipWith`
    /// with `UnionRDD`); when one stream ends first, the other's slices pass through alone.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let a = futures::stream::iter([1, 2, 3]).parallelize(&engine, 2);
    /// let b = futures::stream::iter([10, 20]).parallelize(&engine, 2);
    /// let out: Vec<_> = a.zip_rdd(b).count_rdd().continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![4, 1]);
    /// # });
    /// ```
    fn zip_rdd<B>(self, other: B) -> ZipRdd<Self, B>
    where
        B: Stream<Item = Self::Item>,
    {
        ZipRdd::new(self, other)
    }

    /// The slices of `self` and `other` as they come, whichever is ready first (the seed's
    /// non-deterministic Wye); nothing is combined or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let a = futures::stream::iter([1, 2, 3]).parallelize(&engine, 2);
    /// let b = futures::stream::iter([10, 20]).parallelize(&engine, 2);
    /// let mut sizes: Vec<u64> = a.merge_rdd(b).count_rdd().continuize().map(Result::unwrap).collect().await;
    /// sizes.sort();
    /// assert_eq!(sizes, vec![1, 2, 2]);
    /// # });
    /// ```
    fn merge_rdd<B>(self, other: B) -> futures::stream::Select<Self, B>
    where
        B: Stream<Item = Self::Item>,
    {
        futures::stream::select(self, other)
    }

    /// The elements of every slice, slice after slice, as `Ok` items; a slice that fails gives
    /// one `Err` (naming the slice) in its place. Computes up to
    /// [`DEFAULT_SLICES_IN_FLIGHT`] slices at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=6).parallelize(&engine, 4)
    ///     .continuize().map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![1, 2, 3, 4, 5, 6]);
    /// # });
    /// ```
    fn continuize(self) -> Continuize<Self> {
        Continuize::new(self, DEFAULT_SLICES_IN_FLIGHT)
    }

    /// As [`continuize`](SliceStreamExt::continuize), computing up to `in_flight` slices at
    /// once (results still in slice order).
    ///
    /// # Panics
    ///
    /// When `in_flight` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let out: Vec<_> = futures::stream::iter(1..=6).parallelize(&engine, 1)
    ///     .continuize_buffered(3).map(Result::unwrap).collect().await;
    /// assert_eq!(out, vec![1, 2, 3, 4, 5, 6]);
    /// # });
    /// ```
    #[track_caller]
    fn continuize_buffered(self, in_flight: usize) -> Continuize<Self> {
        Continuize::new(self, in_flight)
    }
}

impl<S: Stream> SliceStreamExt for S where S::Item: Slice {}

/// Applies a named [`SliceOp`] to every slice (what every per-slice method does).
pub(crate) trait PerSliceExt: Stream + Sized {
    fn per_slice<Op>(self, op: Op) -> PerSlice<Self, Op> {
        PerSlice::new(self, op)
    }
}

impl<S: Stream> PerSliceExt for S {}

#[cfg(test)]
mod tests {
    #[test]
    fn engines_keep_a_buffer_for_each_slice_in_flight() {
        assert_eq!(crate::engine::KEEP_PER_TYPE, super::DEFAULT_SLICES_IN_FLIGHT + 2);
    }
}
