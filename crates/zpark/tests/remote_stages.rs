//! An engine whose stages run on a "cluster": a shuffle or an aggregate hands its input to the
//! backend's `RemoteStages` as one built-in operation, element-wise closures run on the
//! driver, and a Rust closure the cluster would have to call is refused before anything is
//! sent.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use zpark::engine::{Backend, DataType, Job, RemoteStage, RemoteStages, StageOp};
use zpark::prelude::*;

/// A cluster that computes `u64` stages in place and notes what it was sent.
#[derive(Debug, Default)]
struct FakeCluster {
    sent: Mutex<Vec<(StageOp, &'static str, usize)>>,
}

impl RemoteStages for FakeCluster {
    fn run(&self, stage: RemoteStage) -> BoxFuture<'static, zpark::Result<Box<dyn Any + Send>>> {
        let rows = *stage.rows.downcast::<Vec<u64>>().expect("u64 rows");
        self.sent
            .lock()
            .expect("not poisoned")
            .push((stage.op, stage.input.name, rows.len()));
        assert_eq!(stage.input, DataType::of::<u64>());
        let out: Box<dyn Any + Send> = match stage.op {
            StageOp::CountByValue => {
                let mut counts: HashMap<u64, u64> = HashMap::new();
                for row in rows {
                    *counts.entry(row).or_default() += 1;
                }
                Box::new(counts.into_iter().collect::<Vec<(u64, u64)>>())
            }
            StageOp::Count => Box::new(vec![rows.len() as u64]),
            StageOp::Reduce(reducer) => Box::new(
                rows.into_iter()
                    .reduce(|a, b| reducer.apply(a, b))
                    .into_iter()
                    .collect::<Vec<u64>>(),
            ),
            other => panic!("not expected here: {other:?}"),
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
    let sent = backend.cluster.sent.lock().unwrap().clone();
    assert_eq!(sent, vec![(StageOp::CountByValue, "u64", 85)]);
}

#[tokio::test]
async fn count_and_built_in_reductions_are_stages_of_their_own() {
    let (engine, backend) = engine();
    let rdd = engine.parallelize(vec![4u64, 9, 2], 2);
    assert_eq!(rdd.count().await.unwrap(), 3);
    assert_eq!(rdd.reduce_with(Reducer::Max).await.unwrap(), Some(9));
    let ops: Vec<StageOp> = backend.cluster.sent.lock().unwrap().iter().map(|s| s.0).collect();
    assert_eq!(ops, vec![StageOp::Count, StageOp::Reduce(Reducer::Max)]);
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
    let refused = slices[0].as_ref().unwrap_err().to_string();
    assert!(refused.contains("reduce_with(Reducer::Sum"), "{refused}");
    assert!(
        backend.cluster.sent.lock().unwrap().is_empty(),
        "nothing may reach the cluster"
    );
}
