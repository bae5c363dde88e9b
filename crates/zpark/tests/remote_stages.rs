//! An engine whose stages run on a "cluster": a shuffle or an aggregate hands its input to the
//! backend's `RemoteStages` as one built-in operation, element-wise closures run on the
//! driver, and a Rust closure the cluster would have to call is refused before anything is
//! sent.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use zpark::engine::{Backend, ClusterData, DataType, Job, RemoteStages, StageOp};
use zpark::prelude::*;

/// Rows on the fake cluster: keys or pairs of them.
#[derive(Debug, Clone)]
enum Rows {
    Keys(Vec<u64>),
    Pairs(Vec<(u64, u64)>),
}

/// A cluster that computes `u64` and `(u64, u64)` stages in place and notes every call.
#[derive(Debug, Default)]
struct FakeCluster {
    calls: Mutex<Vec<String>>,
}

impl FakeCluster {
    fn note(&self, call: String) {
        self.calls.lock().expect("not poisoned").push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("not poisoned").clone()
    }

    fn rows(data: &ClusterData) -> Rows {
        data.downcast_ref::<Rows>().expect("data this cluster made").clone()
    }
}

fn reduce_by_key(pairs: Vec<(u64, u64)>, reducer: Reducer) -> Vec<(u64, u64)> {
    let mut reduced: HashMap<u64, u64> = HashMap::new();
    for (k, v) in pairs {
        let merged = reduced.get(&k).map_or(v, |current| reducer.apply(*current, v));
        reduced.insert(k, merged);
    }
    reduced.into_iter().collect()
}

impl RemoteStages for FakeCluster {
    fn upload(&self, rows: Box<dyn Any + Send>, row: DataType) -> zpark::Result<ClusterData> {
        let rows = match rows.downcast::<Vec<u64>>() {
            Ok(keys) => Rows::Keys(*keys),
            Err(rows) => Rows::Pairs(*rows.downcast::<Vec<(u64, u64)>>().expect("u64 or (u64, u64) rows")),
        };
        let n = match &rows {
            Rows::Keys(keys) => keys.len(),
            Rows::Pairs(pairs) => pairs.len(),
        };
        self.note(format!("upload {} {n}", row.name));
        Ok(ClusterData::new(rows))
    }

    fn stage(&self, op: StageOp, input: &ClusterData) -> zpark::Result<ClusterData> {
        self.note(format!("stage {op:?}"));
        let out = match (op, Self::rows(input)) {
            (StageOp::CountByValue, Rows::Keys(keys)) => {
                let mut counts: HashMap<u64, u64> = HashMap::new();
                for key in keys {
                    *counts.entry(key).or_default() += 1;
                }
                Rows::Pairs(counts.into_iter().collect())
            }
            (StageOp::Count, Rows::Keys(keys)) => Rows::Keys(vec![keys.len() as u64]),
            (StageOp::Count, Rows::Pairs(pairs)) => Rows::Keys(vec![pairs.len() as u64]),
            (StageOp::Reduce(r, _), Rows::Keys(keys)) => {
                Rows::Keys(keys.into_iter().reduce(|a, b| r.apply(a, b)).into_iter().collect())
            }
            (StageOp::ReduceByKey(r, _), Rows::Pairs(pairs)) => Rows::Pairs(reduce_by_key(pairs, r)),
            other => panic!("not expected here: {other:?}"),
        };
        Ok(ClusterData::new(out))
    }

    fn union(&self, inputs: &[ClusterData]) -> zpark::Result<ClusterData> {
        self.note(format!("union {}", inputs.len()));
        let all = inputs.iter().map(Self::rows).reduce(|a, b| match (a, b) {
            (Rows::Keys(mut a), Rows::Keys(b)) => {
                a.extend(b);
                Rows::Keys(a)
            }
            (Rows::Pairs(mut a), Rows::Pairs(b)) => {
                a.extend(b);
                Rows::Pairs(a)
            }
            other => panic!("a union of rows of two kinds: {other:?}"),
        });
        Ok(ClusterData::new(all.expect("a union of something")))
    }

    fn persist(&self, _data: &ClusterData) -> BoxFuture<'static, zpark::Result<()>> {
        self.note("persist".into());
        futures::future::ready(Ok(())).boxed()
    }

    fn unpersist(&self, _data: &ClusterData) -> BoxFuture<'static, zpark::Result<()>> {
        self.note("unpersist".into());
        futures::future::ready(Ok(())).boxed()
    }

    fn fetch(&self, data: &ClusterData, row: DataType) -> BoxFuture<'static, zpark::Result<Box<dyn Any + Send>>> {
        self.note("fetch".into());
        let out: Box<dyn Any + Send> = match Self::rows(data) {
            Rows::Keys(keys) => {
                assert_eq!(row, DataType::of::<u64>());
                Box::new(keys)
            }
            Rows::Pairs(pairs) => {
                assert_eq!(row, DataType::of::<(u64, u64)>());
                Box::new(pairs)
            }
        };
        futures::future::ready(Ok(out)).boxed()
    }
}

#[derive(Debug)]
struct FakeBackend {
    cluster: FakeCluster,
}

impl Backend for FakeBackend {
    fn url(&self) -> String {
        "fake://cluster".to_string()
    }
    fn parallelism(&self) -> usize {
        2
    }
    fn execute(&self, job: Job) {
        std::thread::spawn(job);
    }
    fn remote(&self) -> Option<&dyn RemoteStages> {
        Some(&self.cluster)
    }
}

fn engine() -> (Engine, Arc<FakeBackend>) {
    let backend = Arc::new(FakeBackend {
        cluster: FakeCluster::default(),
    });
    (Engine::from_backend(backend.clone()), backend)
}

#[tokio::test]
async fn a_shuffle_goes_to_the_cluster_with_its_input_computed_on_the_driver() {
    let (engine, backend) = engine();
    let rdd = engine
        .parallelize((0..100u64).collect(), 3)
        .map(|x| x % 7)
        .filter(|x| *x != 0);
    let mut counts = rdd.count_by_value().map(|(v, n)| (v * 10, n)).collect().await.unwrap();
    counts.sort();
    assert_eq!(counts.len(), 6);
    assert_eq!(counts[0], (10, 15));
    assert_eq!(
        backend.cluster.calls(),
        vec!["upload u64 85", "stage CountByValue", "fetch"]
    );
}

#[tokio::test]
async fn count_and_built_in_reductions_are_stages_of_their_own() {
    let (engine, backend) = engine();
    let rdd = engine.parallelize(vec![4u64, 9, 2], 2);
    assert_eq!(rdd.count().await.unwrap(), 3);
    assert_eq!(rdd.reduce_with(Reducer::Max).await.unwrap(), Some(9));
    assert_eq!(
        backend.cluster.calls(),
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
    let (engine, backend) = engine();
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
    assert!(backend.cluster.calls().is_empty(), "nothing may reach the cluster");
}

#[tokio::test]
async fn stages_unions_and_stages_over_them_stay_on_the_cluster_until_read() {
    let (engine, backend) = engine();
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
        backend.cluster.calls(),
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
    let (engine, backend) = engine();
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
    let calls = backend.cluster.calls();
    assert!(calls.contains(&"upload (u64, u64) 1".to_string()), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| *c == "fetch").count(), 1, "{calls:?}");
}

#[tokio::test]
async fn a_persisted_rdd_is_persisted_once_read_by_every_stage_and_released() {
    let (engine, backend) = engine();
    let counts = engine.parallelize(vec![1u64, 1, 2], 2).count_by_value().persist();
    assert_eq!(counts.count().await.unwrap(), 2);
    let mut max = counts.reduce_by_key_with(Reducer::Max).collect().await.unwrap();
    max.sort();
    assert_eq!(max, vec![(1, 2), (2, 1)]);
    let calls = backend.cluster.calls();
    assert_eq!(calls.iter().filter(|c| *c == "persist").count(), 1, "{calls:?}");
    assert_eq!(calls.iter().filter(|c| *c == "upload u64 3").count(), 1, "{calls:?}");
    assert!(!calls.contains(&"unpersist".to_string()), "{calls:?}");
    counts.unpersist().await.unwrap();
    assert_eq!(backend.cluster.calls().last().map(String::as_str), Some("unpersist"));
    // Afterwards stages read the lineage again, and nothing is persisted a second time.
    assert_eq!(counts.count().await.unwrap(), 2);
    let calls = backend.cluster.calls();
    assert_eq!(calls.iter().filter(|c| *c == "persist").count(), 1, "{calls:?}");

    let kept = engine.parallelize(vec![7u64], 1).count_by_value().persist();
    assert_eq!(kept.count().await.unwrap(), 1);
    let before = backend.cluster.calls().len();
    drop(kept);
    assert_eq!(
        backend.cluster.calls()[before..],
        ["unpersist".to_string()],
        "released on drop"
    );
}

#[tokio::test]
async fn a_stage_the_driver_has_read_goes_back_as_its_rows() {
    let (engine, backend) = engine();
    let counts = engine.parallelize(vec![4u64, 4, 4, 9], 2).count_by_value();
    assert_eq!(counts.collect().await.unwrap().len(), 2);
    assert_eq!(counts.count().await.unwrap(), 2);
    assert_eq!(
        backend.cluster.calls(),
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
