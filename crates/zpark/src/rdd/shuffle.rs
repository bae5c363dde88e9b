//! Wide operations: hash-partitioned shuffles with a map-side combine.
//!
//! A shuffle is one stage: each input partition is folded into a hash map (the map-side
//! combine, so a key seen a million times in a partition travels once), the map is split into
//! one bucket per output partition by the key's hash, and each output partition merges its
//! buckets from every input partition. Both halves run in parallel on the engine's threads.

use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::count_cache::count_values;
use super::node::NodePlan;
use super::node::{for_each_in, Node, PartIter};
use super::plan::{refused, stage_plan};
use super::stage::Stage;
use super::{Data, Rdd};
use crate::engine::{
    guarded, Cancel, DataType, Engine, Memo, Plan, Reducer, Reducible, StageOp, StageRows, StageRun, StageWork,
};
use crate::error::Result;

/// Folds partition `part` of a node into its map with `add`: the map side of a shuffle.
type FoldPartition<T, K, C, A> = fn(&dyn Node<T>, usize, &A) -> Result<FxHashMap<K, C>>;

/// How one shuffle folds its input into per-key combiners.
struct Combiner<T, K, C, A, M, O> {
    /// Adds one input element to a partition's map.
    add: A,
    /// Folds a whole partition: `add` on each element ([`fold_with_add`]), or a kernel of its
    /// own (`count_by_value`'s).
    fold: FoldPartition<T, K, C, A>,
    /// Merges a combiner from another partition into the output partition's map.
    merge: M,
    /// Makes an output element of a key and its combiner (the pair itself, mostly).
    finish: fn(K, C) -> O,
    marker: std::marker::PhantomData<fn(T)>,
}

/// A shuffle node: one element per key (`(K, C)` pairs, mostly), hash-partitioned by `K`.
struct Shuffle<T, K, C, A, M, O> {
    operation: &'static str,
    /// What the stage is in a plan.
    work: StageWork,
    /// What an engine on a cluster made of it.
    memo: Memo,
    parent: Arc<dyn Node<T>>,
    combiner: Arc<Combiner<T, K, C, A, M, O>>,
    stage: Stage<O>,
}

impl<T, K, C, A, M, O> Node<O> for Shuffle<T, K, C, A, M, O>
where
    T: Data,
    K: Data + Eq + Hash,
    C: Data,
    O: Data,
    A: Fn(&mut FxHashMap<K, C>, T) + Send + Sync + 'static,
    M: Fn(&mut FxHashMap<K, C>, K, C) + Send + Sync + 'static,
{
    fn operation(&self) -> &'static str {
        self.operation
    }

    fn partitions(&self) -> usize {
        self.parent.partitions()
    }

    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        let parts = self.parent.partitions();
        self.stage.ensure(move || engine.run_stage(self, parts)).boxed()
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, O>> {
        self.stage.partition(part)
    }

    fn plan(&self) -> NodePlan {
        NodePlan::Plan(StageRun::plan(self))
    }

    fn stored(&self, part: usize) -> Option<&[O]> {
        self.stage.stored(part)
    }
}

impl<T, K, C, A, M, O> StageRun for Shuffle<T, K, C, A, M, O>
where
    T: Data,
    K: Data + Eq + Hash,
    C: Data,
    O: Data,
    A: Fn(&mut FxHashMap<K, C>, T) + Send + Sync + 'static,
    M: Fn(&mut FxHashMap<K, C>, K, C) + Send + Sync + 'static,
{
    fn operation(&self) -> &'static str {
        self.operation
    }

    fn output(&self) -> DataType {
        DataType::of::<O>()
    }

    fn plan(&self) -> Plan {
        stage_plan((self.operation, self.work, &self.memo), &self.parent, &self.stage)
    }

    fn run_here<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<StageRows>> {
        let combiner = Arc::clone(&self.combiner);
        let (operation, parent) = (self.operation, Arc::clone(&self.parent));
        async move {
            parent.prepare(engine).await?;
            let parts = engine
                .run(operation, move |cancel| {
                    shuffle(operation, parent.as_ref(), &combiner, cancel)
                })
                .await?;
            Ok(StageRows::Partitions(Box::new(parts)))
        }
        .boxed()
    }
}

/// Runs both halves of a shuffle; the result has as many partitions as the input.
fn shuffle<T, K, C, A, M, O>(
    operation: &'static str,
    parent: &dyn Node<T>,
    combiner: &Combiner<T, K, C, A, M, O>,
    cancel: &Cancel,
) -> Result<Vec<Vec<O>>>
where
    T: Data,
    K: Data + Eq + Hash,
    C: Data,
    O: Data,
    A: Fn(&mut FxHashMap<K, C>, T) + Send + Sync,
    M: Fn(&mut FxHashMap<K, C>, K, C) + Send + Sync,
{
    let buckets = parent.partitions();
    // Map side: one combined map per input partition, cut into one bucket per output partition.
    let map_side: Vec<Vec<FxHashMap<K, C>>> = (0..buckets)
        .into_par_iter()
        .map(|part| {
            cancel.check()?;
            // One guard for the whole partition: a panic in `add` is tagged with this
            // operation, one from an upstream closure keeps its own tag.
            let combined = guarded(operation, || (combiner.fold)(parent, part, &combiner.add))?;
            Ok(split_by_hash(combined, buckets))
        })
        .collect::<Result<_>>()?;
    // Reduce side: output partition b merges bucket b of every input partition.
    let mut by_bucket: Vec<Vec<FxHashMap<K, C>>> = (0..buckets).map(|_| Vec::new()).collect();
    for maps in map_side {
        for (bucket, map) in maps.into_iter().enumerate() {
            by_bucket[bucket].push(map);
        }
    }
    Ok(by_bucket
        .into_par_iter()
        .map(|maps| {
            guarded(operation, || {
                let mut maps = maps.into_iter();
                let mut merged = maps.next().unwrap_or_default();
                for map in maps {
                    for (key, value) in map {
                        (combiner.merge)(&mut merged, key, value);
                    }
                }
                merged
                    .into_iter()
                    .map(|(key, combined)| (combiner.finish)(key, combined))
                    .collect()
            })
        })
        .collect())
}

/// A partition folded into a map by calling `add` on each element.
fn fold_with_add<T, K, C, A>(parent: &dyn Node<T>, part: usize, add: &A) -> Result<FxHashMap<K, C>>
where
    T: Data,
    A: Fn(&mut FxHashMap<K, C>, T),
{
    let mut combined = FxHashMap::default();
    for_each_in(parent, part, |element| add(&mut combined, element)).map(|()| combined)
}

/// A partition's counts by value, through [`count_values`]'s cache. `add`, the count of one
/// element into the map, is what `count_values` does itself where the cache does not pay.
fn fold_counts<T, A>(parent: &dyn Node<T>, part: usize, _add: &A) -> Result<FxHashMap<T, u64>>
where
    T: Data + Eq + Hash,
{
    Ok(match parent.stored(part) {
        Some(slice) => count_values(slice.iter().cloned()),
        None => count_values(parent.compute(part)?),
    })
}

/// Cuts a map into `buckets` maps by the high bits of each key's hash (the low bits pick the
/// slot inside each map: using them here too would crowd every bucket's keys together).
///
/// Each bucket map starts with room for its share of the keys and a quarter more, so that it
/// does not grow step by step from empty: that took half the time of this split (about 50 µs
/// for 1 000 keys in two buckets).
fn split_by_hash<K: Eq + Hash, C>(map: FxHashMap<K, C>, buckets: usize) -> Vec<FxHashMap<K, C>> {
    if buckets == 1 {
        return vec![map];
    }
    let share = map.len() / buckets;
    let room = share + share / 4;
    let mut out: Vec<FxHashMap<K, C>> = (0..buckets)
        .map(|_| FxHashMap::with_capacity_and_hasher(room, FxBuildHasher))
        .collect();
    for (key, value) in map {
        let hash = FxBuildHasher.hash_one(&key);
        let bucket = ((u128::from(hash) * buckets as u128) >> 64) as usize;
        out[bucket].insert(key, value);
    }
    out
}

/// Merges `value` into the combiner of `key` with `merge`, by value.
fn merge_by_value<K: Eq + Hash, C, V>(
    map: &mut FxHashMap<K, C>,
    key: K,
    value: V,
    create: impl FnOnce(V) -> C,
    merge: impl FnOnce(C, V) -> C,
) {
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(create(value));
        }
        Entry::Occupied(slot) => {
            let (key, current) = slot.remove_entry();
            map.insert(key, merge(current, value));
        }
    }
}

fn shuffled<T, K, C, A, M>(rdd: &Rdd<T>, operation: &'static str, work: StageWork, add: A, merge: M) -> Rdd<(K, C)>
where
    T: Data,
    K: Data + Eq + Hash,
    C: Data,
    A: Fn(&mut FxHashMap<K, C>, T) + Send + Sync + 'static,
    M: Fn(&mut FxHashMap<K, C>, K, C) + Send + Sync + 'static,
{
    shuffled_into(rdd, (operation, work), (add, merge), |key, combined| (key, combined))
}

/// A shuffle whose output elements `finish` makes of each key and its combiner.
fn shuffled_into<T, K, C, A, M, O>(
    rdd: &Rdd<T>,
    (operation, work): (&'static str, StageWork),
    (add, merge): (A, M),
    finish: fn(K, C) -> O,
) -> Rdd<O>
where
    T: Data,
    K: Data + Eq + Hash,
    C: Data,
    O: Data,
    A: Fn(&mut FxHashMap<K, C>, T) + Send + Sync + 'static,
    M: Fn(&mut FxHashMap<K, C>, K, C) + Send + Sync + 'static,
{
    let combiner = Combiner {
        add,
        fold: fold_with_add::<T, K, C, A>,
        merge,
        finish,
        marker: std::marker::PhantomData,
    };
    shuffle_node(rdd, (operation, work), combiner)
}

/// The shuffle node of `rdd` with `combiner`.
fn shuffle_node<T, K, C, A, M, O>(
    rdd: &Rdd<T>,
    (operation, work): (&'static str, StageWork),
    combiner: Combiner<T, K, C, A, M, O>,
) -> Rdd<O>
where
    T: Data,
    K: Data + Eq + Hash,
    C: Data,
    O: Data,
    A: Fn(&mut FxHashMap<K, C>, T) + Send + Sync + 'static,
    M: Fn(&mut FxHashMap<K, C>, K, C) + Send + Sync + 'static,
{
    if let Some(refused) = refused(&rdd.engine, operation, work) {
        return refused;
    }
    let node = Shuffle {
        operation,
        work,
        memo: Memo::default(),
        parent: Arc::clone(&rdd.node),
        combiner: Arc::new(combiner),
        stage: Stage::new(),
    };
    Rdd::from_node(rdd.engine.clone(), Arc::new(node))
}

/// `rdd.distinct()`: each value once.
pub(super) fn distinct<T: Data + Eq + Hash>(rdd: &Rdd<T>) -> Rdd<T> {
    shuffled_into(
        rdd,
        ("distinct", StageWork::Builtin(StageOp::Distinct)),
        (
            |map: &mut FxHashMap<T, ()>, value| {
                map.insert(value, ());
            },
            |map: &mut FxHashMap<T, ()>, value, ()| {
                map.insert(value, ());
            },
        ),
        |value, ()| value,
    )
}

/// `rdd.count_by_value()`: its map side counts through a cache of slots (`count_cache.rs`).
pub(super) fn count_by_value<T: Data + Eq + Hash>(rdd: &Rdd<T>) -> Rdd<(T, u64)> {
    let add = |map: &mut FxHashMap<T, u64>, value| *map.entry(value).or_insert(0) += 1;
    let combiner = Combiner {
        fold: fold_counts,
        add,
        merge: |map: &mut FxHashMap<T, u64>, value, count| *map.entry(value).or_insert(0) += count,
        finish: |value, count| (value, count),
        marker: std::marker::PhantomData,
    };
    shuffle_node(
        rdd,
        ("count_by_value", StageWork::Builtin(StageOp::CountByValue)),
        combiner,
    )
}

impl<K: Data + Eq + Hash, V: Data> Rdd<(K, V)> {
    /// Merges the values of each key with `f` (associative and commutative: values are merged
    /// inside each partition first, then across partitions).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let pairs = zpark::Engine::local(2).parallelize(vec![("a", 1), ("b", 2), ("a", 3)], 2);
    /// let mut sums = pairs.reduce_by_key(|x, y| x + y).collect().await?;
    /// sums.sort();
    /// assert_eq!(sums, vec![("a", 4), ("b", 2)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn reduce_by_key<F>(&self, f: F) -> Rdd<(K, V)>
    where
        F: Fn(V, V) -> V + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let g = Arc::clone(&f);
        shuffled(
            self,
            "reduce_by_key",
            StageWork::Closure {
                instead:
                    "use reduce_by_key_with(Reducer::Sum | Reducer::Min | Reducer::Max), which the cluster runs itself",
            },
            move |map: &mut FxHashMap<K, V>, (key, value): (K, V)| {
                merge_by_value(map, key, value, |v| v, |a, b| f(a, b))
            },
            move |map: &mut FxHashMap<K, V>, key, value| merge_by_value(map, key, value, |v| v, |a, b| g(a, b)),
        )
    }

    /// Merges the values of each key with a built-in [`Reducer`]: the same as
    /// `reduce_by_key` with its function on the embedded engine (`Count`: the number of values
    /// of the key, as a `V`), and what a cluster (Spark) runs itself, where `reduce_by_key`
    /// with a Rust closure is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::Reducer;
    /// # futures::executor::block_on(async {
    /// let pairs = zpark::Engine::local(2).parallelize(vec![("a", 1), ("b", 2), ("a", 3)], 2);
    /// let mut maxima = pairs.reduce_by_key_with(Reducer::Max).collect().await?;
    /// maxima.sort();
    /// assert_eq!(maxima, vec![("a", 3), ("b", 2)]);
    /// let mut counts = pairs.reduce_by_key_with(Reducer::Count).collect().await?;
    /// counts.sort();
    /// assert_eq!(counts, vec![("a", 2), ("b", 1)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn reduce_by_key_with(&self, reducer: Reducer) -> Rdd<(K, V)>
    where
        V: Reducible,
    {
        shuffled(
            self,
            "reduce_by_key_with",
            StageWork::Builtin(StageOp::ReduceByKey(reducer, V::NUMBERS)),
            move |map: &mut FxHashMap<K, V>, (key, value): (K, V)| {
                merge_by_value(
                    map,
                    key,
                    value,
                    |v| reducer.first(v),
                    |a, b| reducer.apply(a, reducer.first(b)),
                )
            },
            move |map: &mut FxHashMap<K, V>, key, value| {
                merge_by_value(map, key, value, |v| v, |a, b| reducer.apply(a, b))
            },
        )
    }

    /// The number of values of each key: `count_by_value` of the keys, so on a cluster the
    /// same built-in group by (what Spark's `count` reducer gives per key).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let pairs = zpark::Engine::local(2).parallelize(vec![("a", 1), ("b", 2), ("a", 3)], 2);
    /// let mut counts = pairs.count_by_key().collect().await?;
    /// counts.sort();
    /// assert_eq!(counts, vec![("a", 2), ("b", 1)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn count_by_key(&self) -> Rdd<(K, u64)> {
        self.map(|(key, _)| key).count_by_value()
    }

    /// Gathers the values of each key into a `Vec` (in no particular order).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let pairs = zpark::Engine::local(2).parallelize(vec![(1, 'x'), (2, 'y'), (1, 'z')], 2);
    /// let mut groups = pairs.group_by_key().collect().await?;
    /// groups.sort();
    /// for (_, values) in &mut groups { values.sort(); }
    /// assert_eq!(groups, vec![(1, vec!['x', 'z']), (2, vec!['y'])]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn group_by_key(&self) -> Rdd<(K, Vec<V>)> {
        shuffled(
            self,
            "group_by_key",
            StageWork::Builtin(StageOp::GroupByKey),
            |map: &mut FxHashMap<K, Vec<V>>, (key, value): (K, V)| map.entry(key).or_default().push(value),
            |map: &mut FxHashMap<K, Vec<V>>, key, mut values: Vec<V>| map.entry(key).or_default().append(&mut values),
        )
    }

    /// The general per-key aggregation (Spark's `combineByKey`): `create` makes a combiner from a
    /// key's first value in a partition, `merge_value` adds the next values, `merge_combiners`
    /// merges the combiners of different partitions.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// // The mean per key, through (sum, count) combiners.
    /// let pairs = zpark::Engine::local(2).parallelize(vec![("a", 1.0), ("a", 3.0), ("b", 5.0)], 2);
    /// let sums = pairs.combine_by_key(
    ///     |v| (v, 1),
    ///     |(s, n), v| (s + v, n + 1),
    ///     |(s1, n1), (s2, n2)| (s1 + s2, n1 + n2),
    /// );
    /// let mut means = sums.map(|(k, (s, n))| (k, s / n as f64)).collect().await?;
    /// means.sort_by(|a, b| a.0.cmp(b.0));
    /// assert_eq!(means, vec![("a", 2.0), ("b", 5.0)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn combine_by_key<C, Create, MergeValue, MergeCombiners>(
        &self,
        create: Create,
        merge_value: MergeValue,
        merge_combiners: MergeCombiners,
    ) -> Rdd<(K, C)>
    where
        C: Data,
        Create: Fn(V) -> C + Send + Sync + 'static,
        MergeValue: Fn(C, V) -> C + Send + Sync + 'static,
        MergeCombiners: Fn(C, C) -> C + Send + Sync + 'static,
    {
        shuffled(
            self,
            "combine_by_key",
            StageWork::Closure {
                instead: "use reduce_by_key_with(Reducer::...) or group_by_key, which the cluster runs itself, then combine on the driver",
            },
            move |map: &mut FxHashMap<K, C>, (key, value): (K, V)| {
                merge_by_value(map, key, value, &create, &merge_value)
            },
            move |map: &mut FxHashMap<K, C>, key, combiner: C| {
                merge_by_value(map, key, combiner, |c| c, &merge_combiners)
            },
        )
    }
}
