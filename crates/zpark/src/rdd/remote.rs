//! Stages on a cluster: when the engine has [`RemoteStages`], a shuffle or a whole-dataset
//! aggregate sends its input (computed on the driver, element-wise closures included) to the
//! cluster as one built-in operation, and the rows that come back become the stage's
//! partitions. A stage whose work is a Rust closure is refused before anything is sent.

use std::sync::Arc;

use super::node::Node;
use super::persist::{compute_all, Stage};
use super::Data;
use crate::engine::{DataType, Engine, RemoteStage, RemoteStages, StageOp};
use crate::error::{Error, Result};

/// How a stage runs on a cluster.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnCluster {
    /// As this built-in operation.
    Builtin(StageOp),
    /// Not at all: the cluster would have to call a Rust closure. `instead` names what works.
    Refused { instead: &'static str },
}

/// Computes `stage` (a node of `partitions` partitions) on the engine's cluster from
/// `parent`'s rows.
pub(crate) async fn run_remote<I: Data, O: Data>(
    engine: &Engine,
    remote: &dyn RemoteStages,
    (operation, on_cluster): (&'static str, OnCluster),
    (stage, partitions): (&Stage<O>, usize),
    parent: &Arc<dyn Node<I>>,
) -> Result<()> {
    let op = match on_cluster {
        OnCluster::Builtin(op) => op,
        OnCluster::Refused { instead } => {
            return Err(Error::NotOnCluster {
                operation,
                url: engine.url(),
                instead,
            })
        }
    };
    stage
        .ensure_with(engine, parent, || async move {
            let input = Arc::clone(parent);
            let rows: Vec<I> = engine
                .run(operation, move || compute_all(input.as_ref()))
                .await?
                .concat();
            let out = remote
                .run(RemoteStage {
                    op,
                    rows: Box::new(rows),
                    input: DataType::of::<I>(),
                    output: DataType::of::<O>(),
                })
                .await?;
            let rows = out.downcast::<Vec<O>>().map_err(|_| {
                Error::Internal(format!(
                    "the cluster's `{operation}` gave rows of another type than `{}`",
                    std::any::type_name::<O>()
                ))
            })?;
            Ok(partitioned(*rows, partitions))
        })
        .await
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
