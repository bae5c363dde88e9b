//! The Spark engine: a zpark [`Engine`] whose stages (shuffles, whole-dataset aggregates) run
//! on a Spark Connect server.
//!
//! What runs where: slices are made on the driver (your process), and the element-wise
//! closures at the head of a lineage (`map`, `filter`, `flat_map`) run there too while the
//! slice is encoded to Arrow. Each stage is then one Spark plan over that data:
//! `count_by_value`, `distinct`, `group_by_key`, `reduce_by_key_with(Reducer)`,
//! `count_rdd`/`count`, `reduce_rdd_with(Reducer)`. Its result comes back to the driver, where
//! whatever follows (closures, `collect`, the next stage's input) runs. A stage whose work is a
//! Rust closure (`reduce_by_key(f)`, `combine_by_key`, `reduce_rdd(f)`) cannot run on Spark and
//! is refused before anything is sent, with the built-in that would work.

use std::any::Any;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Semaphore;
use zpark::engine::{Backend, Job, LocalBackend, RemoteStage, RemoteStages, StageOp};
use zpark::Engine;

use crate::registry::Registry;
use crate::relation::{self, Relation};
use crate::{Options, Reducer, SparkClient, SparkError};

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

    /// How many plans may run on the server at once (the slices `continuize` computes ahead);
    /// more wait their turn.
    pub fn slices_in_flight(mut self, plans: usize) -> Builder {
        self.in_flight = plans.max(1);
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
        Ok(Engine::from_backend(Arc::new(SparkBackend {
            url: self.url,
            driver,
            client,
            registry: self.registry,
            max_rows: self.max_rows,
            in_flight: Arc::new(Semaphore::new(self.in_flight)),
            runtime,
        })))
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
    in_flight: Arc<Semaphore>,
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

    fn remote(&self) -> Option<&dyn RemoteStages> {
        Some(self)
    }
}

fn reducer(r: zpark::Reducer) -> Reducer {
    match r {
        zpark::Reducer::Sum => Reducer::Sum,
        zpark::Reducer::Min => Reducer::Min,
        zpark::Reducer::Max => Reducer::Max,
    }
}

impl SparkBackend {
    fn cluster_error(&self, error: SparkError) -> zpark::Error {
        zpark::Error::Cluster {
            url: self.url.clone(),
            message: error.to_string(),
        }
    }

    /// The plan of a stage over its input relation.
    fn plan(op: StageOp, input: Relation) -> Relation {
        match op {
            StageOp::CountByValue => relation::count_by_value(input),
            StageOp::ReduceByKey(r) => relation::reduce_by_key(input, reducer(r)),
            StageOp::GroupByKey => relation::group_by_key(input),
            StageOp::Count => relation::count(input),
            StageOp::Reduce(r) => relation::reduce(input, reducer(r)),
        }
    }
}

impl RemoteStages for SparkBackend {
    fn run(&self, stage: RemoteStage) -> BoxFuture<'static, zpark::Result<Box<dyn Any + Send>>> {
        let prepared = (|| {
            let encoder = self.registry.get(stage.input)?;
            let decoder = self.registry.get(stage.output)?;
            let input = encoder.local(stage.rows, self.max_rows)?;
            Ok::<_, SparkError>((Self::plan(stage.op, input), decoder))
        })();
        let (plan, decoder) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return futures::future::ready(Err(self.cluster_error(error))).boxed(),
        };
        let (client, permits, url) = (self.client.clone(), Arc::clone(&self.in_flight), self.url.clone());
        let Some(runtime) = &self.runtime.0 else {
            return futures::future::ready(Err(zpark::Error::Internal("the Spark engine was shut down".into())))
                .boxed();
        };
        let running = runtime.spawn(async move {
            let _turn = permits.acquire_owned().await;
            client.execute(&plan).await
        });
        async move {
            let cluster = |message: String| zpark::Error::Cluster {
                url: url.clone(),
                message,
            };
            let batches = running
                .await
                .map_err(|e| cluster(format!("the plan's task failed: {e}")))?
                .map_err(|e| cluster(e.to_string()))?;
            decoder.decode(&batches).map_err(|e| cluster(e.to_string()))
        }
        .boxed()
    }
}
