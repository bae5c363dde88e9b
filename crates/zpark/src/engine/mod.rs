//! Engines: where an [`Rdd`](crate::Rdd) lives and how its lineage runs.
//!
//! An [`Engine`] is a cheap handle (`Clone`, `Send + Sync`) on one [`Backend`], the one trait an
//! engine implements. The lineage of an `Rdd` is a [`Plan`] of seven node kinds (`plan.rs`);
//! a backend materializes its stages ([`Backend::run_stage`]) and runs the jobs an action asks
//! for (one job per stage, one task per partition inside it), reporting each job's result
//! through a future. The embedded backend ([`LocalBackend`]) runs them on a rayon
//! work-stealing pool; an engine on a cluster translates the plan's built-in stages into its
//! own plans (the Spark engine of `zpark-spark`; the testkit's fake cluster engine). Following DataFusion's
//! `ExecutionPlan` rules: errors travel as values, dropping the future of an action (or a slice
//! stream with slices in flight) stops the work it started before its next partition
//! (`cancel.rs`), and nothing is spawned detached on the async runtime.

mod buffers;
mod builtin;
mod cancel;
mod clock_hold;
mod connectors;
mod local;
mod panic;
mod plan;
mod recycle;
mod spawn;
mod url;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::channel::oneshot;
use futures::future::{self, BoxFuture, Either};

use crate::error::{Error, Result};

#[cfg(test)]
pub(crate) use buffers::KEEP_PER_TYPE;
pub use builtin::{ClusterData, DataType, Numbers, Reducer, Reducible, StageOp};
pub(crate) use cancel::Cancel;
pub use connectors::{register_scheme, Connect};
pub use local::LocalBackend;
pub(crate) use panic::guarded;
pub(crate) use plan::Kept;
pub use plan::{
    DriverRows, FileFormat, FileScan, MadeBy, Memo, PersistPlan, Plan, ProjectPlan, Projection, Release, StagePlan,
    StageRows, StageRun, StageWork,
};
pub(crate) use recycle::Recycler;

/// What an `Rdd` can hold: values that can be cloned out of a stored partition and shared
/// between worker threads.
///
/// Implemented for every type that is `Clone + Send + Sync + 'static`.
///
/// # Examples
///
/// ```
/// fn holdable<T: zpark::Data>() {}
/// holdable::<(String, u64)>();
/// ```
pub trait Data: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Data for T {}

/// A unit of work for a backend: runs to completion on one of its threads.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// What an engine must provide: threads to run jobs on.
///
/// A job may fan out over the backend's threads (the local backend's jobs use rayon's
/// `par_iter`, which runs on the pool the job runs on).
pub trait Backend: Send + Sync + fmt::Debug {
    /// The URL this backend answers to (`local[4]`).
    fn url(&self) -> String;
    /// How many tasks run at once: the default number of partitions of a slice.
    fn parallelism(&self) -> usize;
    /// Runs `job` on the backend's threads, without blocking the caller.
    fn execute(&self, job: Job);
    /// True when called from one of the backend's own threads: a job asked for there runs at
    /// once, in place, instead of taking a round trip through the queue.
    fn on_worker_thread(&self) -> bool {
        false
    }
    /// Materializes a stage of a lineage (a shuffle, a whole-dataset aggregate, a persisted
    /// node; see [`plan`](self) for the plan's kinds). The default runs the stage's own Rust
    /// code on this backend's threads ([`StageRun::run_here`]); an engine on a cluster
    /// translates [`StageRun::plan`] into its own plan, runs it there and gives back the rows.
    fn run_stage<'a>(&'a self, engine: &'a Engine, stage: &'a dyn StageRun) -> BoxFuture<'a, Result<StageRows>> {
        stage.run_here(engine)
    }
    /// True for an engine whose stages run on a cluster: it runs only the built-in stages
    /// ([`StageWork::Builtin`]), and a stage whose work is a Rust closure is refused when its
    /// `Rdd` is made ([`Error::NotOnCluster`]). `false` by default.
    fn is_cluster(&self) -> bool {
        false
    }
    /// How long the last plan took on the cluster, from sent to answered (for metrics);
    /// `None` before any, or for an engine without a cluster (the default).
    fn last_round_trip(&self) -> Option<std::time::Duration> {
        None
    }
}

/// A handle on an engine: clone it freely, share it between threads.
///
/// # Examples
///
/// ```
/// use zpark::prelude::*;
///
/// # futures::executor::block_on(async {
/// let engine = Engine::local(2);
/// let rdd = engine.parallelize(vec![1, 2, 3, 4], 2);
/// assert_eq!(rdd.map(|x| x * 10).collect().await?, vec![10, 20, 30, 40]);
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Engine {
    backend: Arc<dyn Backend>,
    /// Slice buffers kept for the pipelines on this engine (`engine/buffers.rs`).
    buffers: Arc<buffers::SliceBuffers>,
}

impl Engine {
    /// The embedded engine with `threads` worker threads on a work-stealing pool.
    ///
    /// # Panics
    ///
    /// When `threads` is 0, or when the operating system refuses to start the threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = zpark::Engine::local(4);
    /// assert_eq!(engine.url(), "local[4]");
    /// assert_eq!(engine.parallelism(), 4);
    /// ```
    #[track_caller]
    pub fn local(threads: usize) -> Engine {
        assert!(
            threads > 0,
            "Engine::local: the engine needs at least 1 worker thread (0 given)"
        );
        match LocalBackend::new(threads) {
            Ok(backend) => Engine::from_backend(Arc::new(backend)),
            Err(err) => panic!("Engine::local: {err}"),
        }
    }

    /// An engine from a URL: `local` or `local[*]` (one thread per core), `local[N]`, or
    /// `SCHEME://...` for an engine registered with [`register_scheme`]:
    /// `sc://HOST:PORT` for Apache Spark once `zpark_spark::register()` has run (the crate
    /// `zpark-spark`; the default settings of `zpark_spark::builder`). Connecting to Spark
    /// blocks the calling thread until the server answers (at most its connect timeout, 10 s);
    /// in async code `zpark_spark::connect(url).await` does the same without blocking.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownEngineUrl`] for a URL of no known form (the message lists them),
    /// [`Error::InvalidArgument`] for `local[N]` with N over 1 024, and
    /// [`Error::EngineUnavailable`] for a Spark server that does not answer (naming the URL and
    /// the cause) or a Spark URL in a program that registered no Spark engine (the message
    /// says how to).
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = zpark::Engine::connect("local[2]")?;
    /// assert_eq!(engine.parallelism(), 2);
    /// assert!(zpark::Engine::connect("local[0]").is_err());
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn connect(url: &str) -> Result<Engine> {
        match url::parse(url)? {
            url::EngineUrl::Local(threads) => {
                let backend = LocalBackend::new(threads).map_err(|err| Error::EngineUnavailable {
                    url: url.to_string(),
                    reason: err.to_string(),
                })?;
                Ok(Engine::from_backend(Arc::new(backend)))
            }
            url::EngineUrl::Scheme(scheme) => connectors::connect(url, &scheme),
        }
    }
}

impl Engine {
    /// An engine on a backend of your own (the Spark engine of `zpark-spark` is one).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let engine = zpark::Engine::from_backend(Arc::new(zpark::engine::LocalBackend::new(1)?));
    /// assert_eq!(engine.url(), "local[1]");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_backend(backend: Arc<dyn Backend>) -> Engine {
        Engine {
            backend,
            buffers: Arc::default(),
        }
    }

    /// Frees the slice buffers this engine keeps for its pipelines.
    ///
    /// A pipeline's slicer (`parallelize`) fills buffers that its slices give back when they are
    /// dropped; the engine keeps a few of each element type (the slices one pipeline has in
    /// flight, and two more) so that the next pipeline on it does not pay the kernel for fresh
    /// memory again. They are freed with the last clone of the engine, or now with this call;
    /// buffers of slices still alive are freed when those slices are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    ///
    /// # futures::executor::block_on(async {
    /// let engine = Engine::local(2);
    /// let counts: Vec<u64> = futures::stream::iter(0..10_000u64)
    ///     .parallelize(&engine, 1000)
    ///     .count_rdd()
    ///     .continuize()
    ///     .map(|count| count.unwrap_or(0))
    ///     .collect()
    ///     .await;
    /// assert_eq!(counts, vec![1000; 10]);
    /// engine.release_buffers(); // the ten slices' buffers are not needed any more
    /// # });
    /// ```
    pub fn release_buffers(&self) {
        self.buffers.release();
    }

    /// The engine's stock of slice buffers of `T` elements.
    pub(crate) fn recycler<T: Data>(&self) -> Arc<Recycler<T>> {
        self.buffers.recycler()
    }

    /// The URL of this engine.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Engine::local(1).url(), "local[1]");
    /// ```
    pub fn url(&self) -> String {
        self.backend.url()
    }

    /// How many tasks the engine runs at once.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Engine::local(3).parallelism(), 3);
    /// ```
    pub fn parallelism(&self) -> usize {
        self.backend.parallelism()
    }

    /// True for an engine whose stages (shuffles, whole-dataset aggregates) run on a cluster,
    /// as the Spark engine's do: there a stage whose work is a Rust closure
    /// (`reduce_by_key(f)`, `combine_by_key`, `reduce_as_rdd(f)`) is refused with
    /// [`Error::NotOnCluster`], naming the built-in that works on both kinds of engine.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!zpark::Engine::local(1).is_cluster());
    /// ```
    pub fn is_cluster(&self) -> bool {
        self.backend.is_cluster()
    }

    /// How long the engine's last plan took on its cluster (for metrics).
    pub(crate) fn last_round_trip(&self) -> Option<std::time::Duration> {
        self.backend.last_round_trip()
    }

    /// Why this engine refuses a stage doing `work` (a Rust closure on a cluster), named
    /// `operation`: `None` when it runs it.
    pub(crate) fn refusal(&self, operation: &'static str, work: StageWork) -> Option<Error> {
        if self.is_cluster() {
            work.builtin(operation, &self.url()).err()
        } else {
            None
        }
    }

    /// Materializes `stage` the backend's way, into its `parts` partitions of `T`.
    pub(crate) async fn run_stage<T: 'static>(&self, stage: &dyn StageRun, parts: usize) -> Result<Vec<Vec<T>>> {
        let rows = self.backend.run_stage(self, stage).await?;
        rows.into_partitions(parts, stage.operation())
    }

    /// Runs `work` on the engine's threads and resolves to its result. A panic in `work` that
    /// escapes [`guarded`] becomes [`Error::ClosurePanicked`] naming `operation`. Called from
    /// one of the engine's own threads (an action driven by [`Engine::spawn`]), it runs in
    /// place.
    ///
    /// `work` is given a [`Cancel`] to check between partitions: it is set when the returned
    /// future is dropped before the result came (or, for work run in place, when the action's
    /// own future is dropped). A job whose future was dropped before it started does not run.
    pub(crate) fn run<R, F>(&self, operation: &'static str, work: F) -> impl Future<Output = Result<R>>
    where
        R: Send + 'static,
        F: FnOnce(&Cancel) -> Result<R> + Send + 'static,
    {
        let run_and_catch = move |cancel: &Cancel| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(cancel)))
                .unwrap_or_else(|payload| Err(panic::to_error(operation, payload)))
        };
        if self.backend.on_worker_thread() {
            let cancel = cancel::polled().unwrap_or_default();
            return Either::Left(future::ready(run_and_catch(&cancel)));
        }
        let cancel = Cancel::default();
        let guard = cancel.on_drop();
        let (tx, rx) = oneshot::channel();
        self.backend.execute(Box::new(move || {
            if cancel.is_cancelled() {
                return; // Dropped before it started.
            }
            // The receiver is gone when the action was dropped: the result is not wanted.
            let _ = tx.send(run_and_catch(&cancel));
        }));
        Either::Right(async move {
            let answer = rx.await;
            guard.disarm();
            answer.unwrap_or_else(|_| {
                Err(Error::Internal(
                    "the engine dropped a job without answering".to_string(),
                ))
            })
        })
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine").field("url", &self.url()).finish()
    }
}
