//! The built-in operations of a plan (`StageOp`, the `Reducer`s): what a cluster engine runs
//! itself, without a Rust closure, and how a plan names Rust types (`DataType`) and the data an
//! engine made on its cluster (`ClusterData`).

use std::any::{Any, TypeId};

/// A reduction a cluster runs itself, without a Rust closure: what
/// [`reduce_by_key_with`](crate::Rdd::reduce_by_key_with) and
/// [`reduce_with`](crate::Rdd::reduce_with) take. On the embedded engine it is an ordinary
/// function; on Spark it becomes `sum`, `min`, `max` or `count` in the plan.
///
/// `Count` counts the values (of each key, or in all), as a value of their own type: each
/// value stands for one ([`first`](Reducer::first)) and counts merge by their sum
/// ([`apply`](Reducer::apply)).
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
    /// The number of values.
    Count,
}

impl Reducer {
    /// Combines two partial results (for `Count`, two counts: their sum).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Reducer::Max.apply(-4i64, 7), 7);
    /// assert_eq!(zpark::Reducer::Count.apply(2u32, 3), 5);
    /// ```
    pub fn apply<V: Reducible>(self, a: V, b: V) -> V {
        match self {
            Reducer::Sum | Reducer::Count => V::sum(a, b),
            Reducer::Min => V::min(a, b),
            Reducer::Max => V::max(a, b),
        }
    }

    /// The partial result one value stands for: the value itself, or 1 for `Count`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Reducer::Sum.first(7.5f64), 7.5);
    /// assert_eq!(zpark::Reducer::Count.first(7.5f64), 1.0);
    /// ```
    pub fn first<V: Reducible>(self, value: V) -> V {
        match self {
            Reducer::Count if !value.is_nothing() => V::from_count(1),
            _ => value,
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
            Reducer::Count => "count",
        }
    }
}

/// Whether the values of a reduction are whole numbers or floating point: a cluster sums
/// whole numbers exactly (Spark in a `decimal(38, 0)`, so that `u64` totals past `i64::MAX`
/// are right, as on the embedded engine) and floating point as floating point.
///
/// # Examples
///
/// ```
/// use zpark::engine::{Numbers, Reducible};
/// assert_eq!(<u64 as Reducible>::NUMBERS, Numbers::Integers);
/// assert_eq!(<f64 as Reducible>::NUMBERS, Numbers::Floats);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Numbers {
    /// Whole numbers (`u8` ... `u64`, `i8` ... `i64`).
    Integers,
    /// Floating point (`f32`, `f64`).
    Floats,
}

/// The values the built-in [`Reducer`]s work on: numbers (integer sums wrap as Spark's
/// `bigint` does not: an overflow is the caller's to avoid, as with `+` in release builds).
pub trait Reducible: crate::Data {
    /// Whole numbers or floating point (how a cluster sums them).
    const NUMBERS: Numbers = Numbers::Floats;
    /// `a + b`.
    fn sum(a: Self, b: Self) -> Self;
    /// The smaller.
    fn min(a: Self, b: Self) -> Self;
    /// The larger.
    fn max(a: Self, b: Self) -> Self;
    /// A count as a value of this type (`as` conversion: a count beyond the type's range
    /// wraps, as Spark's `bigint` cast does).
    fn from_count(n: u64) -> Self;
    /// True for no value (an `Option`'s `None`): left out of reductions, as Spark's
    /// aggregates leave out nulls.
    fn is_nothing(&self) -> bool {
        false
    }
}

/// Values that may be missing (a field a line did not have, a number that did not parse):
/// `None` is left out of sums, minimums, maximums and counts, as Spark leaves out nulls.
///
/// # Examples
///
/// ```
/// use zpark::Reducer;
/// assert_eq!(Reducer::Sum.apply(Some(2i64), None), Some(2));
/// assert_eq!(Reducer::Min.apply(None, Some(-1.5f64)), Some(-1.5));
/// assert_eq!(Reducer::Count.first(None::<i64>), None);
/// ```
impl<T: Reducible> Reducible for Option<T> {
    const NUMBERS: Numbers = T::NUMBERS;
    fn sum(a: Self, b: Self) -> Self {
        either(a, b, T::sum)
    }
    fn min(a: Self, b: Self) -> Self {
        either(a, b, T::min)
    }
    fn max(a: Self, b: Self) -> Self {
        either(a, b, T::max)
    }
    fn from_count(n: u64) -> Self {
        Some(T::from_count(n))
    }
    fn is_nothing(&self) -> bool {
        self.is_none()
    }
}

/// `f` of both values, or the one there is.
fn either<T>(a: Option<T>, b: Option<T>, f: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => a.or(b),
    }
}

macro_rules! reducible_integers {
    ($($t:ty),*) => {$(
        impl Reducible for $t {
            const NUMBERS: Numbers = Numbers::Integers;
            fn sum(a: Self, b: Self) -> Self { a.wrapping_add(b) }
            fn min(a: Self, b: Self) -> Self { Ord::min(a, b) }
            fn max(a: Self, b: Self) -> Self { Ord::max(a, b) }
            fn from_count(n: u64) -> Self { n as $t }
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
            fn from_count(n: u64) -> Self { n as $t }
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
    /// `distinct`: `T` to `T`, each value once.
    Distinct,
    /// `reduce_by_key_with`: `(K, V)` to `(K, V)`, over values of the kind given.
    ReduceByKey(Reducer, Numbers),
    /// `group_by_key`: `(K, V)` to `(K, Vec<V>)`.
    GroupByKey,
    /// `count` of a whole dataset: `T` to one `u64`.
    Count,
    /// `reduce_with` of a whole dataset: `T` to at most one `T`, values of the kind given.
    Reduce(Reducer, Numbers),
}

/// Data that stays on a cluster: what a remote engine made of rows it was sent, of a stage
/// over such data, of a union of them. Its content is the backend's own (for Spark, a plan);
/// zpark only passes it back to the backend that made it. Cloning it is cheap.
///
/// # Examples
///
/// ```
/// use zpark::engine::ClusterData;
/// let data = ClusterData::new(String::from("a plan"));
/// assert_eq!(data.downcast_ref::<String>().map(String::as_str), Some("a plan"));
/// assert!(data.downcast_ref::<u64>().is_none());
/// ```
#[derive(Clone)]
pub struct ClusterData(std::sync::Arc<dyn Any + Send + Sync>);

impl ClusterData {
    /// Wraps a backend's own description of data on its cluster.
    pub fn new<P: Any + Send + Sync>(plan: P) -> ClusterData {
        ClusterData(std::sync::Arc::new(plan))
    }

    /// The backend's description, when it is a `P`.
    pub fn downcast_ref<P: Any>(&self) -> Option<&P> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for ClusterData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterData(..)")
    }
}
