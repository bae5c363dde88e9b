//! Materialized stages: a node whose partitions are computed once and then read by every job.
//!
//! [`Stage`] is the shared machinery (shuffles and whole-dataset aggregates use it too);
//! [`Persist`] is `rdd.persist()`.

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use rayon::prelude::*;
use tokio::sync::OnceCell;

use super::node::{Node, PartIter};
use super::{Data, Rdd};
use crate::engine::Engine;
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

    /// Computes the partitions with `build` on the engine's threads, unless done already:
    /// first the stages `parent` reads, then `build` on it. Concurrent callers wait
    /// (asynchronously) for the one that computes.
    pub(crate) async fn ensure_from<P, F>(
        &self,
        engine: &Engine,
        parent: &Arc<dyn Node<P>>,
        operation: &'static str,
        build: F,
    ) -> Result<()>
    where
        P: 'static,
        F: FnOnce(Arc<dyn Node<P>>) -> Result<Vec<Vec<T>>> + Send + 'static,
    {
        let input = Arc::clone(parent);
        self.ensure_with(engine, parent, || engine.run(operation, move || build(input)))
            .await
    }

    /// Computes the partitions with the future `build` makes, unless done already: first the
    /// stages `parent` reads, then `build`. Concurrent callers wait for the one that computes.
    pub(crate) async fn ensure_with<P, Fut>(
        &self,
        engine: &Engine,
        parent: &Arc<dyn Node<P>>,
        build: impl FnOnce() -> Fut,
    ) -> Result<()>
    where
        P: 'static,
        Fut: std::future::Future<Output = Result<Vec<Vec<T>>>>,
    {
        if self.cell.initialized() {
            return Ok(());
        }
        parent.prepare(engine).await?;
        self.cell.get_or_try_init(build).await.map(|_| ())
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

/// Computes every partition of `node` in parallel (on the current rayon pool) into vectors.
pub(crate) fn compute_all<T: Data>(node: &dyn Node<T>) -> Result<Vec<Vec<T>>> {
    (0..node.partitions())
        .into_par_iter()
        .map(|part| Ok(node.compute(part)?.collect()))
        .collect()
}

/// `rdd.persist()`.
struct Persist<T> {
    parent: Arc<dyn Node<T>>,
    stage: Stage<T>,
}

impl<T: Data> Node<T> for Persist<T> {
    fn operation(&self) -> &'static str {
        "persist"
    }

    fn partitions(&self) -> usize {
        self.parent.partitions()
    }

    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        self.stage
            .ensure_from(engine, &self.parent, "persist", |parent| compute_all(parent.as_ref()))
            .boxed()
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, T>> {
        self.stage.partition(part)
    }

    fn stored(&self, part: usize) -> Option<&[T]> {
        self.stage.stored(part)
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
            .run("materialize", move || compute_all(node.as_ref()))
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
            }),
        )
    }
}
