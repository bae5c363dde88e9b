//! The stored partitions of a stage (a shuffle, a whole-dataset aggregate, a persisted node):
//! computed once, then read by every job.

use rayon::prelude::*;
use tokio::sync::OnceCell;

use super::node::{Node, PartIter};
use super::Data;
use crate::engine::Cancel;
use crate::error::{Error, Result};

/// The stored partitions of a stage, computed at most once (a failed attempt is not stored:
/// the next action tries again, as Spark recomputes a lost stage).
pub(crate) struct Stage<T> {
    cell: OnceCell<Vec<Vec<T>>>,
}

impl<T: Data> Stage<T> {
    pub(crate) fn new() -> Stage<T> {
        Stage { cell: OnceCell::new() }
    }

    /// Computes the partitions with the future `build` makes (the engine's
    /// [`run_stage`](crate::Engine::run_stage), which prepares the stages below first), unless done
    /// already. Concurrent callers wait (asynchronously) for the one that computes.
    pub(crate) async fn ensure<Fut>(&self, build: impl FnOnce() -> Fut) -> Result<()>
    where
        Fut: std::future::Future<Output = Result<Vec<Vec<T>>>>,
    {
        self.cell.get_or_try_init(build).await.map(|_| ())
    }

    /// Every row, in partition order, once computed.
    pub(crate) fn all_rows(&self) -> Option<Vec<T>> {
        self.cell.get().map(|parts| parts.concat())
    }

    /// Stored partition `part` as a slice, once computed.
    pub(crate) fn stored(&self, part: usize) -> Option<&[T]> {
        self.cell.get().and_then(|parts| parts.get(part)).map(Vec::as_slice)
    }

    /// The elements of stored partition `part`.
    pub(crate) fn partition(&self, part: usize) -> Result<PartIter<'_, T>> {
        let parts = self
            .cell
            .get()
            .ok_or_else(|| Error::Internal("a stage was read before it was computed".to_string()))?;
        Ok(Box::new(parts.get(part).into_iter().flatten().cloned()))
    }
}

/// Computes every partition of `node` in parallel (on the current rayon pool) into vectors;
/// stops before the next partition once `cancel` is set.
pub(crate) fn compute_all<T: Data>(node: &dyn Node<T>, cancel: &Cancel) -> Result<Vec<Vec<T>>> {
    (0..node.partitions())
        .into_par_iter()
        .map(|part| {
            cancel.check()?;
            Ok(node.compute(part)?.collect())
        })
        .collect()
}
