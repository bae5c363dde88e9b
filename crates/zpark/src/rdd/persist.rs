//! Materialized stages: a node whose partitions are computed once and then read by every job.
//!
//! [`Persist`] is `rdd.persist()`, on the shared machinery of [`Stage`] (`stage.rs`).

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};

use super::node::{Node, PartIter};
use super::remote::{cluster_data, fetch_rows, upload_held};
use super::stage::{compute_all, Stage};
use super::{Data, Rdd};
use crate::engine::{ClusterData, Engine, RemoteStages};
use crate::error::Result;

/// `rdd.persist()`.
struct Persist<T> {
    parent: Arc<dyn Node<T>>,
    stage: Stage<T>,
    /// The engine, to release what the cluster keeps when the node goes.
    engine: Engine,
    /// On a cluster: what it keeps.
    kept: tokio::sync::Mutex<Kept>,
}

/// What a cluster keeps of a persisted node.
enum Kept {
    /// Nothing yet: persisted when a stage on the cluster first reads it.
    Nothing,
    /// This data, persisted there.
    Persisted(ClusterData),
    /// Nothing any more: `unpersist` was called; stages read the lineage again.
    Released,
}

impl<T: Data> Persist<T> {
    /// The data on the cluster, persisted there the first time.
    async fn on_cluster_persisted(&self, engine: &Engine, remote: &dyn RemoteStages) -> Result<ClusterData> {
        let mut kept = self.kept.lock().await;
        if let Kept::Persisted(data) = &*kept {
            return Ok(data.clone());
        }
        // Rows the driver holds already are sent as they are, not computed again.
        let data = match upload_held(remote, &self.stage) {
            Some(rows) => rows?,
            None => cluster_data(engine, remote, &self.parent, "persist").await?,
        };
        if matches!(*kept, Kept::Nothing) {
            remote.persist(&data).await?;
            *kept = Kept::Persisted(data.clone());
        }
        Ok(data)
    }
}

impl<T> Drop for Persist<T> {
    fn drop(&mut self) {
        if let Kept::Persisted(data) = std::mem::replace(self.kept.get_mut(), Kept::Released) {
            if let Some(remote) = self.engine.remote() {
                // Sent even though the future is dropped (see `RemoteStages::unpersist`).
                drop(remote.unpersist(&data));
            }
        }
    }
}

impl<T: Data> Node<T> for Persist<T> {
    fn operation(&self) -> &'static str {
        "persist"
    }

    fn partitions(&self) -> usize {
        self.parent.partitions()
    }

    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        async move {
            match engine.remote() {
                // Data that lives on the cluster is read through the persisted plan, so that
                // the cluster keeps it for the stages that read it later.
                Some(remote) if self.parent.on_cluster(engine).is_some() => {
                    let data = self.on_cluster_persisted(engine, remote);
                    let partitions = self.parent.partitions();
                    self.stage
                        .ensure(|| fetch_rows(remote, data, partitions, "persist"))
                        .await
                }
                _ => {
                    self.stage
                        .ensure_from(engine, &self.parent, "persist", |parent, cancel| {
                            compute_all(parent.as_ref(), cancel)
                        })
                        .await
                }
            }
        }
        .boxed()
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, T>> {
        self.stage.partition(part)
    }

    fn stored(&self, part: usize) -> Option<&[T]> {
        self.stage.stored(part)
    }

    fn on_cluster<'a>(&'a self, engine: &'a Engine) -> Option<BoxFuture<'a, Result<ClusterData>>> {
        let remote = engine.remote()?;
        Some(self.on_cluster_persisted(engine, remote).boxed())
    }

    fn unpersist(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            let mut kept = self.kept.lock().await;
            if let Kept::Persisted(data) = std::mem::replace(&mut *kept, Kept::Released) {
                if let Some(remote) = self.engine.remote() {
                    remote.unpersist(&data).await?;
                }
            }
            *kept = Kept::Released;
            Ok(())
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
                engine: self.engine.clone(),
                kept: tokio::sync::Mutex::new(Kept::Nothing),
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
