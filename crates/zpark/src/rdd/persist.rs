//! Materialized stages: a node whose partitions are computed once and then read by every job.
//!
//! [`Persist`] is `rdd.persist()`, on the shared machinery of [`Stage`] (`stage.rs`).

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};

use super::node::NodePlan;
use super::node::{Node, PartIter};
use super::plan::{held, plan_of};
use super::stage::{compute_all, Stage};
use super::{Data, Rdd};
use crate::engine::{DataType, Engine, Kept, PersistPlan, Plan, StageRows, StageRun};
use crate::error::Result;

/// `rdd.persist()`.
struct Persist<T> {
    parent: Arc<dyn Node<T>>,
    stage: Stage<T>,
    /// What an engine on a cluster keeps of it, released when the node goes (`Kept`'s drop:
    /// after any plan of it still being translated, too).
    kept: Arc<Kept>,
}

impl<T: Data> Node<T> for Persist<T> {
    fn operation(&self) -> &'static str {
        "persist"
    }

    fn partitions(&self) -> usize {
        self.parent.partitions()
    }

    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        let parts = self.parent.partitions();
        self.stage.ensure(move || engine.run_stage(self, parts)).boxed()
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, T>> {
        self.stage.partition(part)
    }

    fn stored(&self, part: usize) -> Option<&[T]> {
        self.stage.stored(part)
    }

    fn plan(&self) -> NodePlan {
        NodePlan::Plan(StageRun::plan(self))
    }

    fn unpersist(&self) -> BoxFuture<'_, Result<()>> {
        self.kept.release().boxed()
    }
}

impl<T: Data> StageRun for Persist<T> {
    fn operation(&self) -> &'static str {
        "persist"
    }

    fn output(&self) -> DataType {
        DataType::of::<T>()
    }

    /// The persisted node over its input: the rows the driver holds already when it has
    /// computed them (sent as they are, not computed again), else the parent's plan.
    fn plan(&self) -> Plan {
        let input = held("persist", &self.stage).unwrap_or_else(|| plan_of(&self.parent));
        Plan::Persisted(PersistPlan::new(input, Arc::clone(&self.kept)))
    }

    fn run_here<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<StageRows>> {
        let parent = Arc::clone(&self.parent);
        async move {
            parent.prepare(engine).await?;
            let parts = engine
                .run("persist", move |cancel| compute_all(parent.as_ref(), cancel))
                .await?;
            Ok(StageRows::Partitions(Box::new(parts)))
        }
        .boxed()
    }
}

impl<T: Data> Rdd<T> {
    /// Computes this `Rdd` now and returns it as data in memory, with the same partitions and
    /// no lineage (Spark's `localCheckpoint`): what stateful operators keep from one slice to
    /// the next, so that state does not drag the lineage of every past slice along.
    ///
    /// # Errors
    ///
    /// As [`collect`](Rdd::collect).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![1, 2, 3], 2).map(|x| x * 2);
    /// let kept = rdd.materialize().await?;
    /// assert_eq!(kept.partitions(), 2);
    /// assert_eq!(kept.collect().await?, vec![2, 4, 6]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub async fn materialize(&self) -> Result<Rdd<T>> {
        self.node.prepare(&self.engine).await?;
        let node = Arc::clone(&self.node);
        let partitions = self
            .engine
            .run("materialize", move |cancel| compute_all(node.as_ref(), cancel))
            .await?;
        Ok(Rdd::from_node(
            self.engine.clone(),
            Arc::new(super::source::Source::from_partitions(partitions)),
        ))
    }

    /// Marks this `Rdd` to be computed once, by the first action, and kept in memory for every
    /// later action on it or on an `Rdd` derived from it (until the last clone is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// # futures::executor::block_on(async {
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&calls);
    /// let rdd = zpark::Engine::local(2)
    ///     .parallelize(vec![1, 2, 3], 2)
    ///     .map(move |x| { seen.fetch_add(1, Ordering::Relaxed); x })
    ///     .persist();
    /// assert_eq!(rdd.count().await?, 3);
    /// assert_eq!(rdd.collect().await?, vec![1, 2, 3]);
    /// assert_eq!(calls.load(Ordering::Relaxed), 3); // computed once
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn persist(&self) -> Rdd<T> {
        Rdd::from_node(
            self.engine.clone(),
            Arc::new(Persist {
                parent: Arc::clone(&self.node),
                stage: Stage::new(),
                kept: Arc::default(),
            }),
        )
    }

    /// Releases what [`persist`](Rdd::persist) keeps of this `Rdd`, when it is a persisted one
    /// (otherwise nothing happens). On a cluster the data kept there is dropped now (the
    /// future ends when the cluster has answered) and later stages read the lineage again, as
    /// after Spark's `unpersist`. On the embedded engine the partitions held in memory go when
    /// the last `Rdd` reading them is dropped; this call does not take them from the `Rdd`s
    /// that still read them.
    ///
    /// Dropping the last `Rdd` reading a persisted one releases it too, on a cluster as well.
    ///
    /// # Errors
    ///
    /// [`Error::Cluster`](crate::Error::Cluster) when the cluster could not be told.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![1, 2, 3], 2).persist();
    /// assert_eq!(rdd.count().await?, 3);
    /// rdd.unpersist().await?;
    /// assert_eq!(rdd.count().await?, 3);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub async fn unpersist(&self) -> Result<()> {
        self.node.unpersist().await
    }
}
