//! The contract between an `Rdd` and the nodes of its lineage.

use futures::future::BoxFuture;

use crate::engine::Engine;
use crate::error::Result;

/// The elements of one partition, produced on demand.
pub(crate) type PartIter<'a, T> = Box<dyn Iterator<Item = T> + 'a>;

/// One node of a lineage.
///
/// `prepare` runs before any job that reads the node: it materializes the stages (shuffles,
/// persisted nodes) below and at this node, awaiting them on the async side so that no worker
/// thread ever blocks on another stage. `compute` is then pure reading and fused iteration.
pub(crate) trait Node<T>: Send + Sync {
    /// The name of the operation that made this node, for debugging and errors.
    fn operation(&self) -> &'static str;
    /// How many partitions this node has.
    fn partitions(&self) -> usize;
    /// Materializes the stages this node reads.
    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>>;
    /// The elements of partition `part` (`part < partitions()`), once `prepare` has succeeded.
    fn compute(&self, part: usize) -> Result<PartIter<'_, T>>;
}
