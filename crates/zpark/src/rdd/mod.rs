//! `Rdd<T>`: an immutable, partitioned, lazy dataset.
//!
//! An `Rdd` is a lineage: a tree of nodes whose leaves hold data and whose inner nodes say how
//! to derive partitions from their parents. Nothing runs until an action (`collect`, `count`,
//! `reduce`) asks. Narrow operations (`map`, `filter`, `flat_map`, `union`) are fused: a partition
//! flows through the whole chain as one iterator, with no intermediate `Vec` per step. Wide
//! operations (`reduce_by_key`, `group_by_key`, `combine_by_key`, `count_by_value`) and
//! `persist` are stage boundaries: before a job runs, the action materializes each stage once,
//! with its partitions computed in parallel, and later jobs read the stored result.
//!
//! Order: inside a partition, narrow operations keep the order of their input; the output of a
//! shuffle is in hash order (as in Spark), so `count_by_value` and friends make no promise of
//! order. `collect` returns partitions in order.

mod aggregate;
mod count_cache;
mod field;
mod files;
mod lines;
mod narrow;
mod node;
mod parquet;
mod persist;
mod plan;
mod shuffle;
mod source;
mod stage;

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use rayon::prelude::*;

use crate::engine::Engine;
use crate::error::{Error, Result};

pub(crate) use node::Node;

pub use crate::engine::Data;
pub(crate) use crate::engine::Recycler;

/// An immutable, partitioned, lazy dataset on an [`Engine`].
///
/// Cloning an `Rdd` is cheap: clones share the lineage, and a persisted or shuffled stage is
/// computed once for all of them.
///
/// # Examples
///
/// ```
/// use zpark::prelude::*;
///
/// # futures::executor::block_on(async {
/// let engine = Engine::local(2);
/// let words = engine.parallelize(vec!["a", "b", "a", "c", "a"], 2);
/// let mut counts = words.count_by_value().collect().await?;
/// counts.sort();
/// assert_eq!(counts, vec![("a", 3), ("b", 1), ("c", 1)]);
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
pub struct Rdd<T> {
    engine: Engine,
    node: Arc<dyn Node<T>>,
}

impl<T> Clone for Rdd<T> {
    fn clone(&self) -> Self {
        Rdd {
            engine: self.engine.clone(),
            node: Arc::clone(&self.node),
        }
    }
}

impl<T> fmt::Debug for Rdd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rdd")
            .field("engine", &self.engine.url())
            .field("operation", &self.node.operation())
            .field("partitions", &self.node.partitions())
            .finish()
    }
}

impl Engine {
    /// Makes an `Rdd` of `data` cut into `partitions` partitions of nearly equal size (fewer when
    /// there are fewer elements than partitions, and always at least one).
    ///
    /// # Panics
    ///
    /// When `partitions` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let rdd = engine.parallelize((1..=10).collect::<Vec<u32>>(), 3);
    /// assert_eq!(rdd.partitions(), 3);
    /// assert_eq!(rdd.count().await?, 10);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn parallelize<T: Data>(&self, data: Vec<T>, partitions: usize) -> Rdd<T> {
        assert!(
            partitions > 0,
            "parallelize: an Rdd needs at least 1 partition (0 given)"
        );
        Rdd::from_node(self.clone(), Arc::new(source::Source::new(data, partitions)))
    }

    /// An empty `Rdd`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(1).empty::<u8>();
    /// assert_eq!(rdd.count().await?, 0);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn empty<T: Data>(&self) -> Rdd<T> {
        self.parallelize(Vec::new(), 1)
    }

    /// An `Rdd` whose every action fails with `error`: how a failure that happened while the
    /// slice was made (a bad argument, a broken input) travels to the slice's result.
    pub(crate) fn failed<T: Data>(&self, error: Error) -> Rdd<T> {
        Rdd::from_node(self.clone(), Arc::new(source::Failed::new(error)))
    }

    /// A slice's `Rdd` whose buffer goes back to `recycler` when the `Rdd` is dropped.
    pub(crate) fn parallelize_recycled<T: Data>(&self, data: Vec<T>, recycler: &Arc<Recycler<T>>) -> Rdd<T> {
        let partitions = self.slice_partitions(data.len());
        Rdd::from_node(
            self.clone(),
            Arc::new(source::Source::recycled(data, partitions, Arc::clone(recycler))),
        )
    }

    /// The partition count for a slice of `len` elements: one per worker thread, but no
    /// partition smaller than [`MIN_SLICE_PARTITION`] elements, and at least one.
    pub(crate) fn slice_partitions(&self, len: usize) -> usize {
        (len / MIN_SLICE_PARTITION).clamp(1, self.parallelism())
    }
}

/// One partition as an action sees it: a slice in memory, or elements computed on the fly.
enum Partition<'a, T> {
    Stored(&'a [T]),
    Computed(node::PartIter<'a, T>),
}

impl<'a, T: Clone> Partition<'a, T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Partition::Stored(slice) => slice.to_vec(),
            Partition::Computed(iter) => iter.collect(),
        }
    }

    fn len(self) -> u64 {
        match self {
            Partition::Stored(slice) => slice.len() as u64,
            Partition::Computed(iter) => iter.count() as u64,
        }
    }

    fn into_iter(self) -> node::PartIter<'a, T> {
        match self {
            Partition::Stored(slice) => Box::new(slice.iter().cloned()),
            Partition::Computed(iter) => iter,
        }
    }
}

/// The smallest partition worth a task of its own when a slice is cut: below this, the cost of
/// scheduling a task exceeds the work.
pub(crate) const MIN_SLICE_PARTITION: usize = 4096;

impl<T: Data> Rdd<T> {
    pub(crate) fn from_node(engine: Engine, node: Arc<dyn Node<T>>) -> Rdd<T> {
        Rdd { engine, node }
    }

    /// The engine this `Rdd` lives on.
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = zpark::Engine::local(2);
    /// assert_eq!(engine.empty::<u8>().engine().url(), "local[2]");
    /// ```
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Why the engine refused, when this `Rdd` was built, to run it (a stage whose work is a
    /// Rust closure, on a cluster): a stream of slices then says it once and ends.
    pub(crate) fn refusal(&self) -> Option<&Error> {
        self.node.refusal()
    }

    /// The number of partitions.
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = zpark::Engine::local(2);
    /// assert_eq!(engine.parallelize(vec![1, 2, 3], 2).partitions(), 2);
    /// ```
    pub fn partitions(&self) -> usize {
        self.node.partitions()
    }

    /// Computes every partition and returns the elements, partition after partition.
    ///
    /// # Errors
    ///
    /// When a closure of the lineage panics ([`Error::ClosurePanicked`], naming the operation),
    /// or when the `Rdd` carries a failure from the slice it was made of.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![1, 2, 3], 2);
    /// assert_eq!(rdd.filter(|x| x % 2 == 1).collect().await?, vec![1, 3]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub async fn collect(&self) -> Result<Vec<T>> {
        self.start_collect().await
    }

    /// `collect`, started now on the engine's threads rather than when first polled.
    pub(crate) fn start_collect(&self) -> impl Future<Output = Result<Vec<T>>> + Send + 'static {
        let parts = self.run_per_partition("collect", |partition| Ok(partition.into_vec()));
        async move { Ok(parts.await?.concat()) }
    }

    /// The last element: read from memory when the partitions are stored (as in every slice
    /// a slicer makes), through a `collect` otherwise.
    pub(crate) async fn last(&self) -> Result<Option<T>> {
        for part in (0..self.partitions()).rev() {
            match self.node.stored(part) {
                Some([.., last]) => return Ok(Some(last.clone())),
                Some([]) => continue,
                None => return Ok(self.collect().await?.pop()),
            }
        }
        Ok(None)
    }

    /// The number of elements.
    ///
    /// # Errors
    ///
    /// As [`collect`](Rdd::collect).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec!["a"; 7], 3);
    /// assert_eq!(rdd.count().await?, 7);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub async fn count(&self) -> Result<u64> {
        // A stage of its own, as Spark's `count()` is: the engine runs it its own way.
        Ok(self.count_as_rdd().collect().await?.pop().unwrap_or(0))
    }

    /// The number of elements, counted on the engine's own threads whatever the engine (the
    /// bookkeeping of a checkpointed run, which must not cost a cluster round trip).
    pub(crate) async fn count_on_driver(&self) -> Result<u64> {
        let parts = self.run_per_partition("count", |partition| Ok(partition.len())).await?;
        Ok(parts.into_iter().sum())
    }

    /// Combines all elements with `f` (which should be associative and commutative: partitions
    /// are reduced in parallel); `None` for an empty `Rdd`.
    ///
    /// # Errors
    ///
    /// As [`collect`](Rdd::collect); a panic in `f` names `reduce`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![1, 2, 3, 4], 2);
    /// assert_eq!(rdd.reduce(|a, b| a + b).await?, Some(10));
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub async fn reduce<F>(&self, f: F) -> Result<Option<T>>
    where
        F: Fn(T, T) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let g = Arc::clone(&f);
        let parts = self
            .run_per_partition("reduce", move |partition| {
                Ok(partition
                    .into_iter()
                    .reduce(|a, b| crate::engine::guarded("reduce", || g(a, b))))
            })
            .await?;
        Ok(parts
            .into_iter()
            .flatten()
            .reduce(|a, b| crate::engine::guarded("reduce", || f(a, b))))
    }

    /// Prepares the stages of the lineage, then runs `per_partition` over every partition in
    /// parallel on the engine's threads; starts at once, the future only waits for the result.
    fn run_per_partition<R, F>(
        &self,
        operation: &'static str,
        per_partition: F,
    ) -> impl Future<Output = Result<Vec<R>>> + Send + 'static
    where
        R: Send + 'static,
        F: Fn(Partition<'_, T>) -> Result<R> + Send + Sync + 'static,
    {
        let (engine, node) = (self.engine.clone(), Arc::clone(&self.node));
        // The whole action runs on the engine's threads: its stages follow each other there
        // without a round trip through the caller.
        let action = async move {
            node.prepare(&engine).await?;
            engine
                .run(operation, move |cancel| {
                    (0..node.partitions())
                        .into_par_iter()
                        .map(|part| {
                            cancel.check()?;
                            match node.stored(part) {
                                Some(slice) => per_partition(Partition::Stored(slice)),
                                None => per_partition(Partition::Computed(node.compute(part)?)),
                            }
                        })
                        .collect()
                })
                .await
        };
        // Started now, not when first polled.
        let result = self.engine.spawn(action);
        async move {
            result.await.unwrap_or_else(|| {
                Err(Error::Internal(format!(
                    "the engine dropped the computation of `{operation}`"
                )))
            })
        }
    }
}

impl<T: Data + Eq + Hash> Rdd<T> {
    /// The distinct elements (in no particular order): a shuffle that keeps each value once
    /// (Spark's `distinct`, which a cluster runs itself).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![3, 1, 3, 2, 1], 2);
    /// let mut values = rdd.distinct().collect().await?;
    /// values.sort();
    /// assert_eq!(values, vec![1, 2, 3]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn distinct(&self) -> Rdd<T> {
        shuffle::distinct(self)
    }

    /// Counts how often each distinct value occurs: `(value, count)` pairs, in hash order.
    ///
    /// On the embedded engine each partition is counted on its own first. A partition of 16 384
    /// elements or more goes through a small cache of `(value, count)` slots in front of its
    /// hash map, which answers repeated values (status codes, hosts, sensor ids) with one
    /// compare; when over a quarter of its first 65 536 elements miss that cache (values that
    /// rarely repeat), the rest of the partition goes to the map alone.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![3, 1, 3, 3], 2);
    /// let mut counts = rdd.count_by_value().collect().await?;
    /// counts.sort();
    /// assert_eq!(counts, vec![(1, 1), (3, 3)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn count_by_value(&self) -> Rdd<(T, u64)> {
        shuffle::count_by_value(self)
    }
}
