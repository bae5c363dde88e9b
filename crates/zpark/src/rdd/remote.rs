//! Stages on a cluster: when the engine has [`RemoteStages`], a shuffle or a whole-dataset
//! aggregate is one built-in operation on the cluster, over its parent's data there.
//!
//! Data stays on the cluster from one stage to the next: a stage over another stage, a union
//! or a persisted `Rdd` only extends the plan. Rows travel to the cluster from the driver's own
//! nodes (sources and element-wise closures, computed on the driver and uploaded), and back
//! when the driver reads a stage (`collect`, a closure after it, `continuize`). A stage whose
//! rows the driver already holds goes back as those rows (usually far fewer than its input)
//! rather than being computed again. A stage whose work is a Rust closure is refused before
//! anything is sent.

use std::future::Future;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::OnceCell;

use super::node::Node;
use super::stage::{compute_all, Stage};
use super::Data;
use crate::engine::{ClusterData, DataType, Engine, RemoteStages, StageOp};
use crate::error::{Error, Result};

/// How a stage runs on a cluster.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnCluster {
    /// As this built-in operation.
    Builtin(StageOp),
    /// Not at all: the cluster would have to call a Rust closure. `instead` names what works.
    Refused { instead: &'static str },
}

impl OnCluster {
    /// On an engine with a cluster, the refusal of a stage the cluster cannot run, made when
    /// the `Rdd` is built (so that a stream of slices says it once, before any slice is sent).
    pub(crate) fn refused_on<T: Data>(self, engine: &Engine, operation: &'static str) -> Option<super::Rdd<T>> {
        match self {
            OnCluster::Refused { instead } if engine.remote().is_some() => Some(engine.failed(Error::NotOnCluster {
                operation,
                url: engine.url(),
                instead,
            })),
            _ => None,
        }
    }
}

/// The data of a stage on the cluster, built once.
pub(crate) struct ClusterStage {
    operation: &'static str,
    on_cluster: OnCluster,
    data: OnceCell<ClusterData>,
}

impl ClusterStage {
    pub(crate) fn new(operation: &'static str, on_cluster: OnCluster) -> ClusterStage {
        ClusterStage {
            operation,
            on_cluster,
            data: OnceCell::new(),
        }
    }

    /// The stage's data on the cluster: the rows the driver already holds in `held`, else the
    /// built-in over `parent`'s data there.
    pub(crate) async fn data<I: Data, O: Data>(
        &self,
        engine: &Engine,
        remote: &dyn RemoteStages,
        parent: &Arc<dyn Node<I>>,
        held: &Stage<O>,
    ) -> Result<ClusterData> {
        let op = self.builtin(engine)?;
        if let Some(rows) = upload_held(remote, held) {
            return rows;
        }
        self.data
            .get_or_try_init(|| async {
                let input = cluster_data(engine, remote, parent, self.operation).await?;
                remote.stage(op, &input)
            })
            .await
            .cloned()
    }

    /// Computes the stage on the cluster into `stage` (its `partitions` partitions on the
    /// driver), unless the driver holds them already.
    pub(crate) async fn fetch<I: Data, O: Data>(
        &self,
        engine: &Engine,
        remote: &dyn RemoteStages,
        parent: &Arc<dyn Node<I>>,
        (stage, partitions): (&Stage<O>, usize),
    ) -> Result<()> {
        // `data` refuses a stage the cluster cannot run before anything is sent.
        stage
            .ensure(|| {
                fetch_rows(
                    remote,
                    self.data(engine, remote, parent, stage),
                    partitions,
                    self.operation,
                )
            })
            .await
    }

    fn builtin(&self, engine: &Engine) -> Result<StageOp> {
        match self.on_cluster {
            OnCluster::Builtin(op) => Ok(op),
            OnCluster::Refused { instead } => Err(Error::NotOnCluster {
                operation: self.operation,
                url: engine.url(),
                instead,
            }),
        }
    }
}

/// The rows the driver holds of `stage`, uploaded; `None` before it is computed.
pub(crate) fn upload_held<T: Data>(remote: &dyn RemoteStages, stage: &Stage<T>) -> Option<Result<ClusterData>> {
    stage
        .all_rows()
        .map(|rows| remote.upload(Box::new(rows), DataType::of::<T>()))
}

/// `node`'s data on the cluster: what it is there when it lives there, else its rows, computed
/// on the driver and uploaded.
pub(crate) async fn cluster_data<T: Data>(
    engine: &Engine,
    remote: &dyn RemoteStages,
    node: &Arc<dyn Node<T>>,
    operation: &'static str,
) -> Result<ClusterData> {
    if let Some(data) = node.on_cluster(engine) {
        return data.await;
    }
    node.prepare(engine).await?;
    let input = Arc::clone(node);
    let rows: Vec<T> = engine
        .run(operation, move |cancel| compute_all(input.as_ref(), cancel))
        .await?
        .concat();
    remote.upload(Box::new(rows), DataType::of::<T>())
}

/// The union of `parents` on the cluster, when one of them at least lives there (the others
/// are uploaded); `None` when all are made on the driver, where the union stays.
pub(crate) fn union_on_cluster<'a, T: Data>(
    engine: &'a Engine,
    parents: &'a [Arc<dyn Node<T>>],
) -> Option<BoxFuture<'a, Result<ClusterData>>> {
    let remote = engine.remote()?;
    let planned: Vec<_> = parents.iter().map(|parent| parent.on_cluster(engine)).collect();
    if planned.iter().all(Option::is_none) {
        return None;
    }
    Some(
        async move {
            let mut inputs = Vec::with_capacity(parents.len());
            for (parent, plan) in parents.iter().zip(planned) {
                inputs.push(match plan {
                    Some(plan) => plan.await?,
                    None => cluster_data(engine, remote, parent, "union").await?,
                });
            }
            remote.union(&inputs)
        }
        .boxed(),
    )
}

/// Computes `data` on the cluster and cuts its rows into `partitions` partitions.
pub(crate) async fn fetch_rows<O: Data>(
    remote: &dyn RemoteStages,
    data: impl Future<Output = Result<ClusterData>>,
    partitions: usize,
    operation: &'static str,
) -> Result<Vec<Vec<O>>> {
    let data = data.await?;
    let out = remote.fetch(&data, DataType::of::<O>()).await?;
    let rows = out.downcast::<Vec<O>>().map_err(|_| {
        Error::Internal(format!(
            "the cluster's `{operation}` gave rows of another type than `{}`",
            std::any::type_name::<O>()
        ))
    })?;
    Ok(partitioned(*rows, partitions))
}

/// Rows cut into exactly `parts` partitions (the node's own count) of nearly equal size.
fn partitioned<T>(rows: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let parts = parts.max(1);
    let size = rows.len().div_ceil(parts);
    let mut rows = rows.into_iter();
    (0..parts).map(|_| rows.by_ref().take(size).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::partitioned;

    #[test]
    fn rows_fill_exactly_the_partitions_asked_for() {
        assert_eq!(partitioned(vec![1, 2, 3, 4, 5], 2), vec![vec![1, 2, 3], vec![4, 5]]);
        assert_eq!(partitioned(vec![1], 3), vec![vec![1], vec![], vec![]]);
        assert_eq!(partitioned(Vec::<u8>::new(), 2), vec![Vec::<u8>::new(), vec![]]);
    }
}
