use crate::rdd::{Data, Rdd};
use crate::time::SliceTime;

/// One item of a stream of slices: an [`Rdd`], or an `Rdd` with its [`SliceTime`].
///
/// The per-slice operations work on both kinds and keep the time of timed slices.
///
/// # Examples
///
/// ```
/// use zpark::prelude::*;
/// let engine = Engine::local(1);
/// let timed = (SliceTime::from_millis(500), engine.parallelize(vec![1, 2], 1));
/// let (time, doubled) = timed.with_rdd(|rdd| rdd.map(|x| x * 2));
/// assert_eq!(time, SliceTime::from_millis(500));
/// # let _ = doubled;
/// ```
pub trait Slice: Sized {
    /// The element type of the slice's `Rdd`.
    type Elem: Data;
    /// The same kind of slice holding an `Rdd<U>`.
    type With<U: Data>: Slice<Elem = U>;

    /// The slice's data.
    fn rdd(&self) -> &Rdd<Self::Elem>;

    /// The slice's time, for timed slices.
    fn time(&self) -> Option<SliceTime>;

    /// Replaces the slice's data with `f(data)`, keeping everything else (its time).
    fn with_rdd<U: Data>(self, f: impl FnOnce(Rdd<Self::Elem>) -> Rdd<U>) -> Self::With<U>;

    /// The union of this slice's data with `other`'s, keeping this slice's time.
    fn union_with(self, other: &Self) -> Self;
}

impl<T: Data> Slice for Rdd<T> {
    type Elem = T;
    type With<U: Data> = Rdd<U>;

    fn rdd(&self) -> &Rdd<T> {
        self
    }

    fn time(&self) -> Option<SliceTime> {
        None
    }

    fn with_rdd<U: Data>(self, f: impl FnOnce(Rdd<T>) -> Rdd<U>) -> Rdd<U> {
        f(self)
    }

    fn union_with(self, other: &Self) -> Self {
        self.union(other)
    }
}

impl<T: Data> Slice for (SliceTime, Rdd<T>) {
    type Elem = T;
    type With<U: Data> = (SliceTime, Rdd<U>);

    fn rdd(&self) -> &Rdd<T> {
        &self.1
    }

    fn time(&self) -> Option<SliceTime> {
        Some(self.0)
    }

    fn with_rdd<U: Data>(self, f: impl FnOnce(Rdd<T>) -> Rdd<U>) -> (SliceTime, Rdd<U>) {
        (self.0, f(self.1))
    }

    fn union_with(self, other: &Self) -> Self {
        (self.0, self.1.union(&other.1))
    }
}
