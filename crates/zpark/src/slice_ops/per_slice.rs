//! `PerSlice`: the one stream type behind every per-slice operation, and the operations it runs.
//!
//! Each operation is a small named type implementing [`SliceOp`], so `map_rdd(f)` is a
//! `PerSlice<S, ops::Map<F>>`: no boxing, no dynamic dispatch per slice.

use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::Slice;
use crate::rdd::{Data, Rdd};

/// An operation applied to each slice's `Rdd`.
pub trait SliceOp<T: Data> {
    /// The element type of the result.
    type Output: Data;
    /// Derives the slice's new `Rdd` (lazily: nothing runs here).
    fn apply(&mut self, rdd: Rdd<T>) -> Rdd<Self::Output>;
}

pin_project! {
    /// A stream of slices with an operation applied to each. Made by the per-slice methods of
    /// [`SliceStreamExt`](super::SliceStreamExt) (`map_rdd`, `count_rdd`, `reduce_by_key`, ...).
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct PerSlice<S, Op> {
        #[pin]
        input: S,
        op: Op,
        // Set once the operation was refused by the engine (a Rust closure on a cluster): the
        // refusal was the last item.
        refused: bool,
    }
}

impl<S, Op> PerSlice<S, Op> {
    pub(crate) fn new(input: S, op: Op) -> Self {
        PerSlice {
            input,
            op,
            refused: false,
        }
    }
}

impl<S, Op> Stream for PerSlice<S, Op>
where
    S: Stream,
    S::Item: Slice,
    Op: SliceOp<<S::Item as Slice>::Elem>,
{
    type Item = <S::Item as Slice>::With<Op::Output>;

    /// An operation the engine refuses (a Rust closure that a cluster would have to call) is
    /// refused once: its first slice is the `Err` item that says so, then the stream ends,
    /// rather than one refusal per slice.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.refused {
            return Poll::Ready(None);
        }
        let op = this.op;
        let refused = this.refused;
        this.input.poll_next(cx).map(|next| {
            next.map(|slice| {
                let slice = slice.with_rdd(|rdd| op.apply(rdd));
                *refused = slice.rdd().refusal().is_some();
                slice
            })
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.refused {
            true => (0, Some(0)),
            false => self.input.size_hint(),
        }
    }
}

impl<S, Op> FusedStream for PerSlice<S, Op>
where
    S: FusedStream,
    S::Item: Slice,
    Op: SliceOp<<S::Item as Slice>::Elem>,
{
    fn is_terminated(&self) -> bool {
        self.refused || self.input.is_terminated()
    }
}

/// The operations, one named type each.
pub mod ops {
    use super::*;

    /// `map_rdd(f)`.
    #[derive(Debug)]
    pub struct Map<F>(pub(crate) Arc<F>);
    /// `filter_rdd(f)`.
    #[derive(Debug)]
    pub struct Filter<F>(pub(crate) Arc<F>);
    /// `flat_map_rdd(f)`.
    #[derive(Debug)]
    pub struct FlatMap<F>(pub(crate) Arc<F>);
    /// `transform_rdd(f)`.
    #[derive(Debug)]
    pub struct Transform<F>(pub(crate) F);
    /// `count_rdd()`.
    #[derive(Debug)]
    pub struct Count;
    /// `count_rdd_by_value()`.
    #[derive(Debug)]
    pub struct CountByValue;
    /// `reduce_rdd(f)`.
    #[derive(Debug)]
    pub struct Reduce<F>(pub(crate) Arc<F>);
    /// `reduce_by_key(f)`.
    #[derive(Debug)]
    pub struct ReduceByKey<F>(pub(crate) Arc<F>);
    /// `reduce_rdd_with(reducer)`.
    #[derive(Debug)]
    pub struct ReduceWith(pub(crate) crate::Reducer);
    /// `reduce_by_key_with(reducer)`.
    #[derive(Debug)]
    pub struct ReduceByKeyWith(pub(crate) crate::Reducer);
    /// `group_by_key()`.
    #[derive(Debug)]
    pub struct GroupByKey;
    /// `combine_by_key(create, merge_value, merge_combiners)`.
    #[derive(Debug)]
    pub struct CombineByKey<A, B, C>(pub(crate) Arc<(A, B, C)>);

    impl<T: Data, U: Data, F: Fn(T) -> U + Send + Sync + 'static> SliceOp<T> for Map<F> {
        type Output = U;
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<U> {
            let f = Arc::clone(&self.0);
            rdd.map(move |x| f(x))
        }
    }

    impl<T: Data, F: Fn(&T) -> bool + Send + Sync + 'static> SliceOp<T> for Filter<F> {
        type Output = T;
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<T> {
            let f = Arc::clone(&self.0);
            rdd.filter(move |x| f(x))
        }
    }

    impl<T, U, I, F> SliceOp<T> for FlatMap<F>
    where
        T: Data,
        U: Data,
        I: IntoIterator<Item = U> + 'static,
        F: Fn(T) -> I + Send + Sync + 'static,
    {
        type Output = U;
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<U> {
            let f = Arc::clone(&self.0);
            rdd.flat_map(move |x| f(x))
        }
    }

    impl<T: Data, U: Data, F: FnMut(Rdd<T>) -> Rdd<U>> SliceOp<T> for Transform<F> {
        type Output = U;
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<U> {
            (self.0)(rdd)
        }
    }

    impl<T: Data> SliceOp<T> for Count {
        type Output = u64;
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<u64> {
            rdd.count_as_rdd()
        }
    }

    impl<T: Data + Eq + Hash> SliceOp<T> for CountByValue {
        type Output = (T, u64);
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<(T, u64)> {
            rdd.count_by_value()
        }
    }

    impl<T: Data, F: Fn(T, T) -> T + Send + Sync + 'static> SliceOp<T> for Reduce<F> {
        type Output = T;
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<T> {
            let f = Arc::clone(&self.0);
            rdd.reduce_as_rdd(move |a, b| f(a, b))
        }
    }

    impl<K, V, F> SliceOp<(K, V)> for ReduceByKey<F>
    where
        K: Data + Eq + Hash,
        V: Data,
        F: Fn(V, V) -> V + Send + Sync + 'static,
    {
        type Output = (K, V);
        fn apply(&mut self, rdd: Rdd<(K, V)>) -> Rdd<(K, V)> {
            let f = Arc::clone(&self.0);
            rdd.reduce_by_key(move |a, b| f(a, b))
        }
    }

    impl<T: crate::engine::Reducible> SliceOp<T> for ReduceWith {
        type Output = T;
        fn apply(&mut self, rdd: Rdd<T>) -> Rdd<T> {
            rdd.reduce_as_rdd_with(self.0)
        }
    }

    impl<K: Data + Eq + Hash, V: crate::engine::Reducible> SliceOp<(K, V)> for ReduceByKeyWith {
        type Output = (K, V);
        fn apply(&mut self, rdd: Rdd<(K, V)>) -> Rdd<(K, V)> {
            rdd.reduce_by_key_with(self.0)
        }
    }

    impl<K: Data + Eq + Hash, V: Data> SliceOp<(K, V)> for GroupByKey {
        type Output = (K, Vec<V>);
        fn apply(&mut self, rdd: Rdd<(K, V)>) -> Rdd<(K, Vec<V>)> {
            rdd.group_by_key()
        }
    }

    impl<K, V, C, A, B, M> SliceOp<(K, V)> for CombineByKey<A, B, M>
    where
        K: Data + Eq + Hash,
        V: Data,
        C: Data,
        A: Fn(V) -> C + Send + Sync + 'static,
        B: Fn(C, V) -> C + Send + Sync + 'static,
        M: Fn(C, C) -> C + Send + Sync + 'static,
    {
        type Output = (K, C);
        fn apply(&mut self, rdd: Rdd<(K, V)>) -> Rdd<(K, C)> {
            let (a, b, m) = (Arc::clone(&self.0), Arc::clone(&self.0), Arc::clone(&self.0));
            rdd.combine_by_key(move |v| (a.0)(v), move |c, v| (b.1)(c, v), move |x, y| (m.2)(x, y))
        }
    }
}
