//! The fake cluster engine sends what a cluster engine must: stages leave the driver, closures
//! in stages are refused before anything is sent, persisted data is kept and released there.

use zpark::prelude::*;
use zpark_testkit::fake_cluster::FakeCluster;

#[tokio::test]
async fn stages_leave_the_driver_and_chain_there() {
    let cluster = FakeCluster::with_common_types();
    cluster.register::<((u64, u64), u64)>(); // the counts of pairs
    let engine = cluster.engine();
    let pairs: Vec<(u64, u64)> = (0..10).map(|i| (i % 3, i)).collect();
    let mut sums = engine
        .parallelize(pairs, 2)
        .reduce_by_key_with(Reducer::Sum)
        .count_by_value()
        .collect()
        .await
        .expect("two chained stages");
    sums.sort();
    assert_eq!(sums, vec![((0, 18), 1), ((1, 12), 1), ((2, 15), 1)]);
    assert_eq!(
        cluster.calls(),
        [
            "upload (u64, u64) 10",
            "stage ReduceByKey(Sum, Integers)",
            "stage CountByValue",
            "fetch"
        ]
    );
}

#[tokio::test]
async fn a_closure_stage_is_refused_before_anything_is_sent() {
    let cluster = FakeCluster::with_common_types();
    let engine = cluster.engine();
    assert!(engine.is_cluster());
    let error = engine
        .parallelize(vec![(1u64, 2u64)], 1)
        .reduce_by_key(|a, b| a + b)
        .collect()
        .await
        .expect_err("a closure cannot run on the cluster");
    assert!(matches!(error, Error::NotOnCluster { .. }), "{error:?}");
    assert!(error.to_string().contains("reduce_by_key_with"), "{error}");
    assert!(cluster.calls().is_empty(), "{:?}", cluster.calls());
}

#[tokio::test]
async fn persisted_stages_are_kept_on_the_cluster_until_dropped() {
    let cluster = FakeCluster::with_common_types();
    let engine = cluster.engine();
    let counts = engine.parallelize(vec![1u64, 1, 2], 2).count_by_value().persist();
    assert_eq!(counts.count().await.expect("count"), 2);
    assert_eq!(counts.count().await.expect("count again"), 2);
    drop(counts);
    let calls = cluster.calls();
    assert_eq!(calls.iter().filter(|c| *c == "persist").count(), 1, "{calls:?}");
    assert_eq!(calls.last().map(String::as_str), Some("unpersist"), "{calls:?}");
}
