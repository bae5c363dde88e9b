//! The contract between an `Rdd` and the nodes of its lineage.

use futures::future::BoxFuture;

use crate::engine::{Engine, Plan};
use crate::error::Result;

/// The elements of one partition, produced on demand.
pub(crate) type PartIter<'a, T> = Box<dyn Iterator<Item = T> + 'a>;

/// What one node is in a plan.
pub(crate) enum NodePlan {
    /// A source of data: its rows are made on the driver.
    Source,
    /// Element-wise closures over rows of the driver: made on the driver too.
    Closure,
    /// Files an engine may read itself.
    Files(Vec<std::path::PathBuf>, crate::engine::FileFormat),
    /// A built-in element-wise operation over this plan, which an engine may run itself.
    Project(crate::engine::Projection, Plan),
    /// A stage, a union over a stage or a persisted node: its own plan.
    Plan(Plan),
}

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

    /// The partition as a slice in memory, when it is one (data given to `parallelize`, a
    /// persisted or shuffled stage): lets the hot loops of shuffles, counts and `collect` run
    /// over it directly, without a virtual call per element.
    fn stored(&self, _part: usize) -> Option<&[T]> {
        None
    }

    /// What this node is in a plan (`plan.rs`): element-wise closures over rows of the driver
    /// unless it says otherwise (a source, a stage, a union over a stage, a persisted node).
    fn plan(&self) -> NodePlan {
        NodePlan::Closure
    }

    /// Why an engine with a cluster refused to build this node (a stage whose work is a Rust
    /// closure): known when the `Rdd` is made, before any slice is computed.
    fn refusal(&self) -> Option<&crate::error::Error> {
        None
    }

    /// Releases what this node keeps (a persisted node); nothing for the others.
    fn unpersist(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Calls `each` on every element of partition `part` of `node`: over the stored slice when
/// there is one (a loop the compiler sees whole), through the iterator otherwise.
pub(crate) fn for_each_in<T: Clone>(node: &dyn Node<T>, part: usize, mut each: impl FnMut(T)) -> Result<()> {
    match node.stored(part) {
        Some(slice) => slice.iter().cloned().for_each(each),
        None => node.compute(part)?.for_each(&mut each),
    }
    Ok(())
}
