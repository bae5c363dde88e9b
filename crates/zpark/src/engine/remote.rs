//! Engines that send stages to a cluster (the Spark engine): what a shuffle or an aggregate
//! hands over instead of running on the engine's threads, and the built-in reductions that a
//! cluster can run without a Rust closure.

use std::any::{Any, TypeId};

use futures::future::BoxFuture;

use crate::error::Result;

/// A reduction a cluster runs itself, without a Rust closure: what
/// [`reduce_by_key_with`](crate::Rdd::reduce_by_key_with) and
/// [`reduce_with`](crate::Rdd::reduce_with) take. On the embedded engine it is an ordinary
/// function; on Spark it becomes `sum`, `min` or `max` in the plan.
///
/// # Examples
///
/// ```
/// use zpark::Reducer;
/// assert_eq!(Reducer::Sum.apply(2u64, 3), 5);
/// assert_eq!(Reducer::Min.apply(2.5f64, -1.0), -1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reducer {
    /// The sum.
    Sum,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
}

impl Reducer {
    /// Combines two values.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Reducer::Max.apply(-4i64, 7), 7);
    /// ```
    pub fn apply<V: Reducible>(self, a: V, b: V) -> V {
        match self {
            Reducer::Sum => V::sum(a, b),
            Reducer::Min => V::min(a, b),
            Reducer::Max => V::max(a, b),
        }
    }

    /// The name of the built-in, for messages and plans (`sum`, `min`, `max`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Reducer::Sum.name(), "sum");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Reducer::Sum => "sum",
            Reducer::Min => "min",
            Reducer::Max => "max",
        }
    }
}

/// The values the built-in [`Reducer`]s work on: numbers (integer sums wrap as Spark's
/// `bigint` does not: an overflow is the caller's to avoid, as with `+` in release builds).
pub trait Reducible: crate::Data {
    /// `a + b`.
    fn sum(a: Self, b: Self) -> Self;
    /// The smaller.
    fn min(a: Self, b: Self) -> Self;
    /// The larger.
    fn max(a: Self, b: Self) -> Self;
}

macro_rules! reducible_integers {
    ($($t:ty),*) => {$(
        impl Reducible for $t {
            fn sum(a: Self, b: Self) -> Self { a.wrapping_add(b) }
            fn min(a: Self, b: Self) -> Self { Ord::min(a, b) }
            fn max(a: Self, b: Self) -> Self { Ord::max(a, b) }
        }
    )*};
}
reducible_integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

macro_rules! reducible_floats {
    ($($t:ty),*) => {$(
        impl Reducible for $t {
            fn sum(a: Self, b: Self) -> Self { a + b }
            fn min(a: Self, b: Self) -> Self { <$t>::min(a, b) }
            fn max(a: Self, b: Self) -> Self { <$t>::max(a, b) }
        }
    )*};
}
reducible_floats!(f32, f64);

/// A Rust type as a remote engine sees it: its identity (to find its Arrow codec) and its name
/// (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataType {
    /// The type's identity.
    pub id: TypeId,
    /// The type's name.
    pub name: &'static str,
}

impl DataType {
    /// The description of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = zpark::engine::DataType::of::<(u64, String)>();
    /// assert!(t.name.contains("String"));
    /// ```
    pub fn of<T: 'static>() -> DataType {
        DataType {
            id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
        }
    }
}

/// What a stage computes from its input rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOp {
    /// `count_by_value`: `T` to `(T, u64)`.
    CountByValue,
    /// `reduce_by_key_with`: `(K, V)` to `(K, V)`.
    ReduceByKey(Reducer),
    /// `group_by_key`: `(K, V)` to `(K, Vec<V>)`.
    GroupByKey,
    /// `count` of a whole dataset: `T` to one `u64`.
    Count,
    /// `reduce_with` of a whole dataset: `T` to at most one `T`.
    Reduce(Reducer),
}

/// One stage handed to a remote engine: the input rows (a `Vec` of `input`), and what to
/// compute; the result is a `Vec` of `output`.
#[derive(Debug)]
pub struct RemoteStage {
    /// What the stage computes.
    pub op: StageOp,
    /// The input rows, a `Vec<I>` where `I` is `input`.
    pub rows: Box<dyn Any + Send>,
    /// The type of an input row.
    pub input: DataType,
    /// The type of an output row.
    pub output: DataType,
}

/// What a backend implements to run the stages of a lineage (shuffles, whole-dataset
/// aggregates) on a cluster instead of its own threads. Everything else (the sources, the
/// element-wise closures, the reading of results) still runs on the backend's threads, on the
/// driver.
pub trait RemoteStages: Send + Sync {
    /// Runs `stage` on the cluster; the result is a `Box<Vec<O>>` where `O` is `stage.output`.
    fn run(&self, stage: RemoteStage) -> BoxFuture<'static, Result<Box<dyn Any + Send>>>;
}
