//! The Spark engine: a zpark [`Engine`] whose stages (shuffles, whole-dataset aggregates) run
//! on a Spark Connect server.
//!
//! What runs where: slices are made on the driver (your process), and the element-wise
//! closures at the head of a lineage (`map`, `filter`, `flat_map`) run there too while the
//! slice is encoded to Arrow. Stages are Spark plans: `count_by_value`, `distinct`,
//! `count_by_key`, `group_by_key`, `reduce_by_key_with(Reducer)`, `count_rdd`/`count`,
//! `reduce_rdd_with(Reducer)`, and between them `union` (a `UNION ALL`) and `persist` /
//! `unpersist` (the server's cache). Data stays on the server from one stage to the next:
//! nothing comes back until the driver reads a stage (`collect`, a closure after it,
//! `continuize`), and then one plan computes the whole chain. A stage whose work is a Rust
//! closure (`reduce_by_key(f)`, `combine_by_key`, `reduce_rdd(f)`) cannot run on Spark and is
//! refused before anything is sent, with the built-in that would work.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use futures::future::{BoxFuture, FutureExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zpark::engine::{Backend, ClusterData, Job, LocalBackend, StageOp, StageRows, StageRun};
use zpark::Engine;

mod planner;

use crate::registry::Registry;
use crate::relation::Relation;
use crate::shared::Sharing;
use crate::{Options, SparkClient, SparkError};

/// How to reach and use a Spark Connect server: made by [`builder`].
///
/// # Examples
///
/// ```
/// let builder = zpark_spark::builder("sc://127.0.0.1:15002").slices_in_flight(4).max_rows_per_relation(50_000);
/// # drop(builder);
/// ```
#[derive(Clone)]
pub struct Builder {
    url: String,
    options: Options,
    driver_threads: usize,
    max_rows: usize,
    in_flight: usize,
    plans_at_once: usize,
    linger: std::time::Duration,
    registry: Registry,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("url", &self.url)
            .field("options", &self.options)
            .field("driver_threads", &self.driver_threads)
            .finish_non_exhaustive()
    }
}

/// A builder for a Spark engine at `url` (`sc://HOST:PORT`), with the common element types
/// (numbers, bools, strings and pairs of them) already known.
///
/// # Examples
///
/// ```
/// let builder = zpark_spark::builder("sc://127.0.0.1:15002").driver_threads(2);
/// # drop(builder);
/// ```
pub fn builder(url: &str) -> Builder {
    Builder {
        url: url.to_string(),
        options: Options::default(),
        driver_threads: 2,
        max_rows: 100_000,
        in_flight: 4,
        plans_at_once: 1,
        linger: std::time::Duration::from_millis(20),
        registry: Registry::with_common_types(),
    }
}

/// A Spark engine at `url` with the default settings: `builder(url).connect()`.
///
/// # Errors
///
/// As [`Builder::connect`].
pub async fn connect(url: &str) -> zpark::Result<Engine> {
    builder(url).connect().await
}

impl Builder {
    /// How the client waits and retries.
    pub fn options(mut self, options: Options) -> Builder {
        self.options = options;
        self
    }

    /// Threads on the driver for the work that stays there (encoding, closures, reading
    /// results).
    pub fn driver_threads(mut self, threads: usize) -> Builder {
        self.driver_threads = threads.max(1);
        self
    }

    /// The largest `LocalRelation` sent in one piece; a larger slice goes as several, unioned.
    pub fn max_rows_per_relation(mut self, rows: usize) -> Builder {
        self.max_rows = rows.max(1);
        self
    }

    /// How many slices may be on their way to the server at once (default 4): what
    /// `continuize` computes ahead waits past that. Slices waiting for a plan with the same
    /// stage share one (see [`plans_at_once`](Builder::plans_at_once)).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = zpark_spark::builder("sc://127.0.0.1:15002").slices_in_flight(8);
    /// # drop(builder);
    /// ```
    pub fn slices_in_flight(mut self, slices: usize) -> Builder {
        self.in_flight = slices.max(1);
        self
    }

    /// How many Spark plans may run at once (default 1). The slices that wait meanwhile with the
    /// same built-in stage over rows of the same type go as one plan, whose rows carry each
    /// slice's tag: on Spark a plan costs about the same for one slice as for several
    /// (BENCHMARKS.md row 9), so on a small cluster this is what raises throughput; on a large
    /// one, more plans at once may.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = zpark_spark::builder("sc://127.0.0.1:15002").plans_at_once(2);
    /// # drop(builder);
    /// ```
    pub fn plans_at_once(mut self, plans: usize) -> Builder {
        self.plans_at_once = plans.max(1);
        self
    }

    /// How long a plan about to run waits for more slices to share it, while fewer than
    /// [`slices_in_flight`](Builder::slices_in_flight) are waiting (default 20 ms; zero to
    /// never wait). Slices that a stream starts together then go together, rather than the
    /// first alone and the others in the next plan.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = zpark_spark::builder("sc://127.0.0.1:15002").linger(std::time::Duration::ZERO);
    /// # drop(builder);
    /// ```
    pub fn linger(mut self, wait: std::time::Duration) -> Builder {
        self.linger = wait;
        self
    }

    /// Teaches the engine a type of your own (a struct, a tuple not among the common ones), so
    /// that slices of it can go to Spark.
    pub fn register<T: Serialize + DeserializeOwned + Send + 'static>(mut self) -> Builder {
        self.registry.register::<T>();
        self
    }

    /// Connects (within `options.connect_timeout`) and returns the engine.
    ///
    /// # Errors
    ///
    /// [`zpark::Error::EngineUnavailable`] naming the URL and the cause when the server does
    /// not answer, or when the driver's threads cannot start.
    pub async fn connect(self) -> zpark::Result<Engine> {
        self.connect_with_client().await.map(|(engine, _)| engine)
    }

    /// [`connect`](Builder::connect), and the engine's client too (a clone sharing its
    /// connection and counters): to run plans of your own in the engine's session, or to read
    /// [`SparkClient::operations_interrupted`].
    ///
    /// # Errors
    ///
    /// As [`connect`](Builder::connect).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> zpark::Result<()> {
    /// let (engine, client) = zpark_spark::builder("sc://127.0.0.1:15002").connect_with_client().await?;
    /// assert_eq!(client.url(), "sc://127.0.0.1:15002");
    /// # drop(engine); Ok(()) }
    /// ```
    pub async fn connect_with_client(self) -> zpark::Result<(Engine, SparkClient)> {
        let unavailable = |reason: String| zpark::Error::EngineUnavailable {
            url: self.url.clone(),
            reason,
        };
        let runtime = ClientRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("zpark-spark-client")
                .enable_all()
                .build()
                .map_err(|e| unavailable(format!("cannot start the client's runtime: {e}")))?,
        ));
        let Some(handle) = runtime.0.as_ref().map(|r| r.handle().clone()) else {
            return Err(unavailable("the client's runtime is gone".into()));
        };
        let (url, options) = (self.url.clone(), self.options.clone());
        let client = handle
            .spawn(async move { SparkClient::connect(&url, options).await })
            .await
            .map_err(|e| unavailable(format!("the connection task failed: {e}")))?
            .map_err(|e| unavailable(e.to_string()))?;
        let driver = LocalBackend::new(self.driver_threads)
            .map_err(|e| unavailable(format!("cannot start the driver's threads: {e}")))?;
        let sharing = Arc::new(Sharing::new(
            client.clone(),
            (self.in_flight, self.plans_at_once),
            self.max_rows,
            self.linger,
        ));
        let engine = Engine::from_backend(Arc::new(SparkBackend {
            url: self.url,
            driver,
            client: client.clone(),
            registry: self.registry,
            max_rows: self.max_rows,
            sharing,
            runtime,
        }));
        Ok((engine, client))
    }
}

/// The backend of the Spark engine: the driver's threads for local work, the server for the
/// stages.
struct SparkBackend {
    url: String,
    driver: LocalBackend,
    client: SparkClient,
    registry: Registry,
    max_rows: usize,
    /// Slices in flight that share plans.
    sharing: Arc<Sharing>,
    /// Drives the client (tonic needs a tokio runtime, whatever runs zpark's actions).
    runtime: ClientRuntime,
}

/// The runtime of the client, shut down without blocking when dropped: the engine may be
/// dropped from inside an async context, where dropping a runtime would panic.
struct ClientRuntime(Option<tokio::runtime::Runtime>);

impl Drop for ClientRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for SparkBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkBackend")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Backend for SparkBackend {
    fn url(&self) -> String {
        self.url.clone()
    }

    fn parallelism(&self) -> usize {
        self.driver.parallelism()
    }

    fn execute(&self, job: Job) {
        self.driver.execute(job);
    }

    fn on_worker_thread(&self) -> bool {
        self.driver.on_worker_thread()
    }

    fn is_cluster(&self) -> bool {
        true
    }

    fn run_stage<'a>(&'a self, engine: &'a Engine, stage: &'a dyn StageRun) -> BoxFuture<'a, zpark::Result<StageRows>> {
        self.run_stage_on_spark(engine, stage)
    }

    fn last_round_trip(&self) -> Option<std::time::Duration> {
        self.client.last_round_trip()
    }
}

impl SparkBackend {
    fn cluster_error(&self, error: SparkError) -> zpark::Error {
        zpark::Error::cluster(self.url.clone(), error)
    }
}

/// Data on the server as the Spark engine describes it: its plan, and what lets slices in
/// flight share a plan (see [`crate::shared`]).
pub(crate) struct Planned {
    relation: Relation,
    /// Rows from the driver: the encoded batch, when this is an upload.
    rows: Option<RecordBatch>,
    /// A built-in stage straight over rows from the driver.
    shareable: Option<(StageOp, RecordBatch)>,
}

impl Planned {
    fn plan(relation: Relation) -> ClusterData {
        ClusterData::new(Planned {
            relation,
            rows: None,
            shareable: None,
        })
    }
}

impl SparkBackend {
    /// What this backend made of data on the cluster.
    fn planned(data: &ClusterData) -> zpark::Result<&Planned> {
        data.downcast_ref::<Planned>()
            .ok_or_else(|| zpark::Error::Internal("data on the cluster that the Spark engine did not make".into()))
    }

    /// The plan inside data this backend made.
    fn relation(data: &ClusterData) -> zpark::Result<&Relation> {
        Self::planned(data).map(|planned| &planned.relation)
    }

    /// Runs `work` on the client's runtime (tonic needs one, whatever runs zpark's actions):
    /// started now, even when the returned future is never polled.
    fn on_client<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = Result<T, SparkError>> + Send + 'static,
    ) -> BoxFuture<'static, zpark::Result<T>> {
        let url = self.url.clone();
        let cluster = move |cause: Box<dyn std::error::Error + Send + Sync>| zpark::Error::cluster(url.clone(), cause);
        let Some(runtime) = &self.runtime.0 else {
            return futures::future::ready(Err(zpark::Error::Internal("the Spark engine was shut down".into())))
                .boxed();
        };
        let running = runtime.spawn(work);
        // Dropped before the answer (the slice is not wanted any more): the request stops, and
        // a plan it was running is interrupted on the server (`client.rs`, `InterruptOnDrop`).
        let abort = AbortOnDrop(running.abort_handle());
        async move {
            let cluster = &cluster;
            let _abort = abort;
            running
                .await
                .map_err(|e| cluster(format!("the request's task failed: {e}").into()))?
                .map_err(|e| cluster(Box::new(e)))
        }
        .boxed()
    }

    /// `request` with the client and the plan of `data`, on the client's runtime.
    fn on_plan<Fut>(
        &self,
        data: &ClusterData,
        request: impl FnOnce(SparkClient, Relation) -> Fut,
    ) -> BoxFuture<'static, zpark::Result<()>>
    where
        Fut: std::future::Future<Output = Result<(), SparkError>> + Send + 'static,
    {
        match Self::relation(data) {
            Ok(plan) => self.on_client(request(self.client.clone(), plan.clone())),
            Err(error) => futures::future::ready(Err(error)).boxed(),
        }
    }
}

/// Aborts a task on the client's runtime when dropped (a no-op once it has finished).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
