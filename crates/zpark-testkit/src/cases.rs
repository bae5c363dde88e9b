//! The cases. Each one states its expectation in its doc comment.

use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;

use crate::{closure_stage, sorted_slices, try_sorted_slices};

fn seed() -> impl futures::Stream<Item = u64> + Send + 'static {
    futures::stream::iter([1u64, 1, 2, 2, 3, 3, 4, 4])
}

/// The seed: `[1,1,2,2,3,3,4,4]` in slices of 4, counted: `4`, `4`.
pub async fn seed_count_rdd(engine: &Engine) {
    let counts = sorted_slices(seed().parallelize(engine, 4).count_rdd()).await;
    assert_eq!(counts, vec![vec![4], vec![4]]);
}

/// The seed, counted by value: `(1,2) (2,2)` then `(3,2) (4,2)`.
pub async fn seed_count_rdd_by_value(engine: &Engine) {
    let counts = sorted_slices(seed().parallelize(engine, 4).count_rdd_by_value()).await;
    assert_eq!(counts, vec![vec![(1, 2), (2, 2)], vec![(3, 2), (4, 2)]]);
}

/// The seed, `+1` then summed per slice: `10`, `18`, with the built-in sum everywhere, and
/// with a closure where stages run on the engine itself (refused on a cluster).
pub async fn seed_map_reduce(engine: &Engine) {
    let built_in = seed()
        .parallelize(engine, 4)
        .map_rdd(|x| x + 1)
        .reduce_rdd_with(Reducer::Sum);
    assert_eq!(sorted_slices(built_in).await, vec![vec![10], vec![18]]);
    let closure = seed()
        .parallelize(engine, 4)
        .map_rdd(|x| x + 1)
        .reduce_rdd(|a, b| a + b);
    closure_stage(engine, try_sorted_slices(closure).await, vec![vec![10], vec![18]]);
}

/// The Fahrenheit pipeline's shape: `(x, 1)`, group by key, `(x, size)`.
pub async fn seed_fahrenheit_group_by_key(engine: &Engine) {
    let temperatures = vec![18, 19, 78, 18, 55, 18, 78];
    let sizes = futures::stream::iter(temperatures)
        .parallelize(engine, 100)
        .map_rdd(|x| (x, 1u32))
        .group_rdd_by_key()
        .map_rdd(|(x, ones)| (x, ones.len()));
    assert_eq!(
        sorted_slices(sizes).await,
        vec![vec![(18, 3), (19, 1), (55, 1), (78, 2)]]
    );
}

/// Two streams zipped slice by slice into unions, counted by value: every value twice.
pub async fn seed_zip_rdd_count_by_value(engine: &Engine) {
    let left = zpark::source::naturals().take(6).parallelize(engine, 3);
    let right = zpark::source::naturals().take(6).parallelize(engine, 3);
    let counts = sorted_slices(left.zip_rdd(right).count_rdd_by_value()).await;
    assert_eq!(counts, vec![vec![(0, 2), (1, 2), (2, 2)], vec![(3, 2), (4, 2), (5, 2)]]);
}

/// `map`, `filter`, `flat_map` keep the order of their input inside a partition, and
/// `collect` keeps partitions in order.
pub async fn rdd_narrow_operations(engine: &Engine) {
    let rdd = engine.parallelize((0..20).collect::<Vec<i64>>(), 3);
    let out = rdd
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .flat_map(|x| [x, -x])
        .collect()
        .await;
    let expected: Vec<i64> = (0..20)
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .flat_map(|x| [x, -x])
        .collect();
    assert_eq!(out.expect("narrow operations"), expected);
}

/// `union` holds both, duplicates kept.
pub async fn rdd_union(engine: &Engine) {
    let a = engine.parallelize(vec![1, 2], 2);
    let b = engine.parallelize(vec![2, 3], 1);
    let mut out = a.union(&b).collect().await.expect("union");
    out.sort();
    assert_eq!(out, vec![1, 2, 2, 3]);
    assert_eq!(a.union(&b).partitions(), 3);
}

/// `count_by_value` counts each distinct value once.
pub async fn rdd_count_by_value(engine: &Engine) {
    let words: Vec<String> = "a b a c b a".split(' ').map(str::to_string).collect();
    let mut counts = engine
        .parallelize(words, 4)
        .count_by_value()
        .collect()
        .await
        .expect("count_by_value");
    counts.sort();
    assert_eq!(
        counts,
        vec![("a".to_string(), 3), ("b".to_string(), 2), ("c".to_string(), 1)]
    );
}

/// `reduce_by_key` merges every value of a key, across partitions: with the built-in sum
/// everywhere, with a closure where stages run on the engine itself (refused on a cluster).
pub async fn rdd_reduce_by_key(engine: &Engine) {
    let pairs: Vec<(u64, u64)> = (0..100).map(|i| (i % 7, i)).collect();
    let expected: Vec<(u64, u64)> = (0..7).map(|k| (k, (0..100).filter(|i| i % 7 == k).sum())).collect();
    let rdd = engine.parallelize(pairs, 5);
    let mut sums = rdd
        .reduce_by_key_with(Reducer::Sum)
        .collect()
        .await
        .expect("reduce_by_key_with");
    sums.sort();
    assert_eq!(sums, expected);
    let sorted = |mut v: Vec<(u64, u64)>| {
        v.sort();
        v
    };
    closure_stage(
        engine,
        rdd.reduce_by_key(|a, b| a + b).collect().await.map(sorted),
        expected,
    );
}

/// `group_by_key` gathers every value of a key.
pub async fn rdd_group_by_key(engine: &Engine) {
    let pairs: Vec<(String, i32)> = [("x", 1), ("y", 2), ("x", 3), ("x", 4)]
        .map(|(k, v)| (k.to_string(), v))
        .to_vec();
    let mut groups = engine
        .parallelize(pairs, 3)
        .group_by_key()
        .collect()
        .await
        .expect("group_by_key");
    groups.sort();
    groups.iter_mut().for_each(|(_, values)| values.sort());
    assert_eq!(
        groups,
        vec![("x".to_string(), vec![1, 3, 4]), ("y".to_string(), vec![2])]
    );
}

/// `combine_by_key` with (min, max) combiners (closures: refused on a cluster).
pub async fn rdd_combine_by_key(engine: &Engine) {
    let pairs: Vec<(u64, i64)> = vec![(1, 5), (1, -1), (2, 7), (1, 9)];
    let ranges = engine.parallelize(pairs, 2).combine_by_key(
        |v| (v, v),
        |(lo, hi), v| (lo.min(v), hi.max(v)),
        |(a, b), (c, d)| (a.min(c), b.max(d)),
    );
    let out = ranges.collect().await.map(|mut out| {
        out.sort();
        out
    });
    closure_stage(engine, out, vec![(1, (-1, 9)), (2, (7, 7))]);
}

/// The actions: `count`, `reduce` (None when empty).
pub async fn rdd_reduce_and_count(engine: &Engine) {
    let rdd = engine.parallelize((1..=100).collect::<Vec<u64>>(), 4);
    assert_eq!(rdd.count().await.expect("count"), 100);
    assert_eq!(rdd.reduce(|a, b| a + b).await.expect("reduce"), Some(5050));
    assert_eq!(
        engine.empty::<u64>().reduce(|a, b| a + b).await.expect("reduce empty"),
        None
    );
}

/// A persisted `Rdd` gives the same answer to every action.
pub async fn rdd_persist_is_stable(engine: &Engine) {
    let rdd = engine
        .parallelize((0..50).collect::<Vec<u32>>(), 3)
        .map(|x| x * 2)
        .persist();
    let first = rdd.collect().await.expect("first");
    assert_eq!(rdd.collect().await.expect("second"), first);
    assert_eq!(rdd.count().await.expect("count"), 50);
}

/// Empty slices count 0 and reduce to nothing.
pub async fn empty_slices(engine: &Engine) {
    let empty = futures::stream::iter([engine.empty::<u32>()]);
    assert_eq!(sorted_slices(empty.count_rdd()).await, vec![vec![0]]);
    let empty = futures::stream::iter([engine.empty::<u32>()]);
    assert_eq!(
        sorted_slices(empty.reduce_rdd_with(Reducer::Max)).await,
        vec![Vec::<u32>::new()]
    );
}

/// Ticks every 100 ms sliced every 500 ms on a paused clock: 5 per slice, slice times 0.5 s apart.
pub async fn time_slices_by_interval(engine: &Engine) {
    let slices: Vec<(SliceTime, Rdd<u64>)> = zpark::source::naturals_every(Duration::from_millis(100))
        .take(23)
        .discretize_keep_time(engine, Duration::from_millis(500))
        .collect()
        .await;
    let times: Vec<u64> = slices.iter().map(|(t, _)| t.as_duration().as_millis() as u64).collect();
    assert_eq!(times, vec![500, 1000, 1500, 2000, 2500]);
    let mut all = Vec::new();
    for (_, rdd) in &slices {
        all.push(rdd.collect().await.expect("slice"));
    }
    let expected: Vec<Vec<u64>> = (0..5).map(|k| (k * 5..(k * 5 + 5).min(23)).collect()).collect();
    assert_eq!(all, expected);
}

/// The seed's window: 500 ticks every 10 ms, 500 ms slices, tumbling 1 s windows: 100 each.
pub async fn time_windows_count(engine: &Engine) {
    let counts = zpark::source::naturals_every(Duration::from_millis(10))
        .take(500)
        .discretize_keep_time(engine, Duration::from_millis(500))
        .count_by_window(Duration::from_millis(1000), Duration::from_millis(1000));
    assert_eq!(sorted_slices(counts).await, vec![vec![100]; 5]);
}
