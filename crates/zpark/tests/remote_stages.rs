//! An engine whose stages run on a "cluster": a shuffle or an aggregate hands its input to the
//! backend as one built-in operation of its plan, element-wise closures run on the
//! driver, and a Rust closure the cluster would have to call is refused before anything is
//! sent.

use futures::StreamExt;
use zpark::prelude::*;
use zpark_testkit::fake_cluster::FakeCluster;

/// An engine on the testkit's fake cluster, and the cluster (to read its calls).
fn engine() -> (Engine, FakeCluster) {
    let cluster = FakeCluster::with_common_types();
    (cluster.engine(), cluster)
}

#[tokio::test]
async fn a_shuffle_goes_to_the_cluster_with_its_input_computed_on_the_driver() {
    let (engine, cluster) = engine();
    let rdd = engine
        .parallelize((0..100u64).collect(), 3)
        .map(|x| x % 7)
        .filter(|x| *x != 0);
    let mut counts = rdd.count_by_value().map(|(v, n)| (v * 10, n)).collect().await.unwrap();
    counts.sort();
    assert_eq!(counts.len(), 6);
    assert_eq!(counts[0], (10, 15));
    assert_eq!(cluster.calls(), vec!["upload u64 85", "stage CountByValue", "fetch"]);
}

#[tokio::test]
async fn count_and_built_in_reductions_are_stages_of_their_own() {
    let (engine, cluster) = engine();
    let rdd = engine.parallelize(vec![4u64, 9, 2], 2);
    assert_eq!(rdd.count().await.unwrap(), 3);
    assert_eq!(rdd.reduce_with(Reducer::Max).await.unwrap(), Some(9));
    assert_eq!(
        cluster.calls(),
        vec![
            "upload u64 3",
            "stage Count",
            "fetch",
            "upload u64 3",
            "stage Reduce(Max, Integers)",
            "fetch"
        ]
    );
}

#[tokio::test]
async fn a_closure_the_cluster_would_call_is_refused_before_anything_is_sent() {
    let (engine, cluster) = engine();
    let pairs = engine.parallelize(vec![(1u64, 2u64), (1, 3)], 1);
    let error = pairs.reduce_by_key(|a, b| a + b).collect().await.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(
            error.root(),
            Error::NotOnCluster {
                operation: "reduce_by_key",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        text.contains("fake://cluster") && text.contains("reduce_by_key_with(Reducer::Sum"),
        "{text}"
    );
    let error = engine.parallelize(vec![1u64], 1).reduce(|a, b| a + b).await;
    // `reduce` (the action) runs on the driver over the slice: no cluster closure involved.
    assert_eq!(error.unwrap(), Some(1));
    let slices: Vec<_> = futures::stream::iter(vec![1u64, 2, 3])
        .parallelize(&engine, 3)
        .reduce_rdd(|a, b| a + b)
        .continuize()
        .collect()
        .await;
    let refused = slices[0].as_ref().unwrap_err().report().to_string();
    assert!(refused.contains("reduce_with(Reducer::Sum"), "{refused}");
    assert!(
        refused.contains("reduce_rdd_with(...) on a stream of slices"),
        "{refused}"
    );
    assert!(cluster.calls().is_empty(), "nothing may reach the cluster");
}

#[tokio::test]
async fn stages_unions_and_stages_over_them_stay_on_the_cluster_until_read() {
    let (engine, cluster) = engine();
    let first = engine.parallelize(vec![1u64, 1, 2], 2).count_by_value();
    let second = engine.parallelize(vec![2u64, 3], 1).count_by_value();
    let mut totals = first
        .union(&second)
        .reduce_by_key_with(Reducer::Sum)
        .collect()
        .await
        .unwrap();
    totals.sort();
    assert_eq!(totals, vec![(1, 2), (2, 2), (3, 1)]);
    assert_eq!(
        cluster.calls(),
        vec![
            "upload u64 3",
            "stage CountByValue",
            "upload u64 2",
            "stage CountByValue",
            "union 2",
            "stage ReduceByKey(Sum, Integers)",
            "fetch"
        ],
        "one round trip, at the end"
    );
}

#[tokio::test]
async fn a_union_with_rows_of_the_driver_uploads_them() {
    let (engine, cluster) = engine();
    let counted = engine.parallelize(vec![5u64], 1).count_by_value();
    let local = engine.parallelize(vec![(5u64, 10u64)], 1).map(|(k, v)| (k, v + 1));
    let mut both = counted
        .union(&local)
        .reduce_by_key_with(Reducer::Max)
        .collect()
        .await
        .unwrap();
    both.sort();
    assert_eq!(both, vec![(5, 11)]);
    let calls = cluster.calls();
    assert!(calls.contains(&"upload (u64, u64) 1".to_string()), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| *c == "fetch").count(), 1, "{calls:?}");
}

#[tokio::test]
async fn a_persisted_rdd_is_persisted_once_read_by_every_stage_and_released() {
    let (engine, cluster) = engine();
    let counts = engine.parallelize(vec![1u64, 1, 2], 2).count_by_value().persist();
    assert_eq!(counts.count().await.unwrap(), 2);
    let mut max = counts.reduce_by_key_with(Reducer::Max).collect().await.unwrap();
    max.sort();
    assert_eq!(max, vec![(1, 2), (2, 1)]);
    let calls = cluster.calls();
    assert_eq!(calls.iter().filter(|c| *c == "persist").count(), 1, "{calls:?}");
    assert_eq!(calls.iter().filter(|c| *c == "upload u64 3").count(), 1, "{calls:?}");
    assert!(!calls.contains(&"unpersist".to_string()), "{calls:?}");
    counts.unpersist().await.unwrap();
    assert_eq!(cluster.calls().last().map(String::as_str), Some("unpersist"));
    // Afterwards stages read the lineage again, and nothing is persisted a second time.
    assert_eq!(counts.count().await.unwrap(), 2);
    let calls = cluster.calls();
    assert_eq!(calls.iter().filter(|c| *c == "persist").count(), 1, "{calls:?}");

    let kept = engine.parallelize(vec![7u64], 1).count_by_value().persist();
    assert_eq!(kept.count().await.unwrap(), 1);
    let before = cluster.calls().len();
    drop(kept);
    assert_eq!(cluster.calls()[before..], ["unpersist".to_string()], "released on drop");
}

#[tokio::test]
async fn a_stage_the_driver_has_read_goes_back_as_its_rows() {
    let (engine, cluster) = engine();
    let counts = engine.parallelize(vec![4u64, 4, 4, 9], 2).count_by_value();
    assert_eq!(counts.collect().await.unwrap().len(), 2);
    assert_eq!(counts.count().await.unwrap(), 2);
    assert_eq!(
        cluster.calls(),
        vec![
            "upload u64 4",
            "stage CountByValue",
            "fetch",
            "upload (u64, u64) 2",
            "stage Count",
            "fetch"
        ]
    );
}
