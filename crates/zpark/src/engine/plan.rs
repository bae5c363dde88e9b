//! The lineage of an `Rdd` as data: a [`Plan`] of seven node kinds, and the [`StageRun`] that an
//! engine is asked to materialize.
//!
//! As in DataFusion, the plan (what to compute) is apart from its execution (how): the dataset
//! nodes of `rdd/` describe themselves as a plan and never ask which engine they are on; the
//! engine's one trait, [`Backend`](super::Backend), decides how each stage runs. The embedded
//! engine runs a stage's own Rust code on its threads ([`StageRun::run_here`], with its fast
//! paths: stored partitions, fused iteration, the counting cache); an engine on a cluster
//! translates the plan into its own (the Spark engine into Spark Connect relations) and runs
//! there only the built-in stages ([`StageWork::Builtin`]); rows the driver makes (sources and
//! element-wise closures, [`Plan::Rows`]) reach it as rows. Spark's RDD contract maps onto it:
//! a node's partitions and compute stay in the nodes, its dependencies are the plan's inputs.

use std::any::Any;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::{Mutex, OnceCell};

use super::builtin::{ClusterData, DataType, StageOp};
use super::Engine;
use crate::error::{Error, Result};
use crate::field::Field;

/// One node of a lineage, as an engine that translates lineages sees it.
///
/// # Examples
///
/// An engine on a cluster walks a plan with one `match` (the testkit's fake cluster engine and
/// the Spark engine do this):
///
/// ```
/// use zpark::engine::{Plan, StageWork};
///
/// fn describe(plan: &Plan) -> String {
///     match plan {
///         Plan::Rows(rows) => format!("rows of {}", rows.operation()),
///         Plan::Files(files) => format!("{} files", files.paths().len()),
///         Plan::Project(project) => format!("{} of {}", project.projection(), describe(project.input())),
///         Plan::Stage(stage) => match stage.work() {
///             StageWork::Builtin(op) => format!("{op:?}({})", describe(stage.input())),
///             StageWork::Closure { .. } => format!("closure {}", stage.operation()),
///         },
///         Plan::Union(inputs) => inputs.iter().map(describe).collect::<Vec<_>>().join(" + "),
///         Plan::Persisted(persisted) => format!("persisted({})", describe(persisted.input())),
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Debug)]
pub enum Plan {
    /// Rows the driver makes: a source of data, element-wise closures over one, or a stage
    /// whose rows the driver holds already.
    Rows(DriverRows),
    /// A source that describes its data: files an engine may read itself (`Engine::text_files`).
    Files(FileScan),
    /// A built-in element-wise operation an engine may run itself: a [`Field`] of each line
    /// (`Rdd::field`), or a number parsed from each text (`parse_int`, `parse_float`).
    Project(ProjectPlan),
    /// A stage: a built-in operation, or a Rust closure over whole partitions or keys.
    Stage(StagePlan),
    /// The rows of every input, in order, duplicates kept.
    Union(Vec<Plan>),
    /// Its input, kept by the engine once computed (`Rdd::persist`).
    Persisted(PersistPlan),
}

/// Who makes the rows of a [`Plan::Rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadeBy {
    /// A source of data (`parallelize`, a slice of a stream).
    Source,
    /// Element-wise Rust closures (`map`, `filter`, `flat_map`) over rows of the driver.
    Closure,
    /// A stage the driver has already computed (or read back from a cluster).
    Stage,
}

/// Computes the rows of a driver node: a `Box<Vec<T>>` of the plan's row type.
type ComputeRows = Box<dyn FnOnce(Engine) -> BoxFuture<'static, Result<Box<dyn Any + Send>>> + Send>;

/// Rows that the driver makes ([`Plan::Rows`]): what an engine on a cluster uploads.
pub struct DriverRows {
    operation: &'static str,
    made_by: MadeBy,
    row: DataType,
    compute: ComputeRows,
}

impl DriverRows {
    /// Rows computed by `compute` when the engine asks for them (a `Box<Vec<T>>` where `T` is
    /// `row`).
    pub(crate) fn new(operation: &'static str, made_by: MadeBy, row: DataType, compute: ComputeRows) -> DriverRows {
        DriverRows {
            operation,
            made_by,
            row,
            compute,
        }
    }

    /// The operation that made these rows (`parallelize`, `map`, `count_by_value`).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Who makes them.
    pub fn made_by(&self) -> MadeBy {
        self.made_by
    }

    /// Their Rust type.
    pub fn row(&self) -> DataType {
        self.row
    }

    /// Computes them on the driver: a `Box<Vec<T>>` where `T` is [`row`](DriverRows::row).
    ///
    /// # Errors
    ///
    /// The error of the lineage that makes them (a closure's panic, a failed source).
    pub fn compute(self, engine: &Engine) -> BoxFuture<'static, Result<Box<dyn Any + Send>>> {
        (self.compute)(engine.clone())
    }
}

impl std::fmt::Debug for DriverRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverRows")
            .field("operation", &self.operation)
            .field("made_by", &self.made_by)
            .field("row", &self.row.name)
            .finish()
    }
}

/// How the files of a [`FileScan`] are read into `String` rows.
///
/// # Examples
///
/// ```
/// use zpark::engine::FileFormat;
/// assert_ne!(FileFormat::Text, FileFormat::Parquet);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileFormat {
    /// Lines of text, one row per line without its ending (`\n`, `\r\n` or `\r`), as
    /// Spark's text source reads them (`Engine::text_files`). CSV and JSON lines are read so
    /// too, their fields taken per line ([`Field::csv`], [`Field::json`]).
    Text,
    /// Parquet files, one row per record as one JSON object of its columns (null columns left
    /// out), as Spark's `to_json(struct(*))` writes it (`Engine::parquet_files`).
    Parquet,
}

/// The rows of files ([`Plan::Files`]): `String` rows in a [`FileFormat`]. An engine that
/// reads files itself reads them there; any other asks for the rows
/// ([`FileScan::into_rows`]), which the driver reads.
#[derive(Debug)]
pub struct FileScan {
    paths: Vec<PathBuf>,
    format: FileFormat,
    rows: DriverRows,
}

impl FileScan {
    pub(crate) fn new(paths: Vec<PathBuf>, format: FileFormat, rows: DriverRows) -> FileScan {
        FileScan { paths, format, rows }
    }

    /// The files, in order (absolute when the `Rdd` was made with absolute paths; glob
    /// patterns already expanded, see `Engine::text_files`).
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// How they are read.
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The same lines, read on the driver.
    pub fn into_rows(self) -> DriverRows {
        self.rows
    }
}

/// What a built-in element-wise operation computes ([`Plan::Project`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Projection {
    /// Each line's [`Field`]: `String` rows to `Option<String>`.
    Field(Field),
    /// Each text as a whole number: `Option<String>` rows to `Option<i64>` (`Rdd::parse_int`).
    Int,
    /// Each text as a floating-point number: `Option<String>` rows to `Option<f64>`
    /// (`Rdd::parse_float`).
    Float,
}

impl std::fmt::Display for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Projection::Field(field) => write!(f, "{field}"),
            Projection::Int => f.write_str("whole number"),
            Projection::Float => f.write_str("number"),
        }
    }
}

/// A built-in element-wise operation over its input ([`Plan::Project`]).
#[derive(Debug)]
pub struct ProjectPlan {
    projection: Projection,
    input: Box<Plan>,
    rows: DriverRows,
}

impl ProjectPlan {
    pub(crate) fn new(projection: Projection, input: Plan, rows: DriverRows) -> ProjectPlan {
        ProjectPlan {
            projection,
            input: Box::new(input),
            rows,
        }
    }

    /// What it computes of each row.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// What it reads.
    pub fn input(&self) -> &Plan {
        &self.input
    }

    /// The parts to translate: the projection and the input.
    pub fn into_parts(self) -> (Projection, Plan) {
        (self.projection, *self.input)
    }

    /// The same rows, made on the driver (for an engine that does not project itself).
    pub fn into_rows(self) -> DriverRows {
        self.rows
    }
}

/// What a stage computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageWork {
    /// A built-in operation, which a cluster runs itself.
    Builtin(StageOp),
    /// A Rust closure over whole partitions or keys (`reduce_by_key(f)`, `combine_by_key`,
    /// `reduce_as_rdd(f)`): only an engine that runs Rust runs it. `instead` names the
    /// built-in that works everywhere.
    Closure {
        /// What to use on a cluster.
        instead: &'static str,
    },
}

impl StageWork {
    /// The built-in operation, or the refusal of a closure by the engine at `url`
    /// ([`Error::NotOnCluster`], naming `operation` and what to use instead).
    ///
    /// # Errors
    ///
    /// For a [`StageWork::Closure`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::engine::{StageOp, StageWork};
    /// assert!(matches!(StageWork::Builtin(StageOp::Distinct).builtin("distinct", "sc://h:1"), Ok(StageOp::Distinct)));
    /// let refused = StageWork::Closure { instead: "use reduce_with" }.builtin("reduce", "sc://h:1");
    /// assert!(matches!(refused, Err(zpark::Error::NotOnCluster { operation: "reduce", .. })));
    /// ```
    pub fn builtin(self, operation: &'static str, url: &str) -> Result<StageOp> {
        match self {
            StageWork::Builtin(op) => Ok(op),
            StageWork::Closure { instead } => Err(Error::NotOnCluster {
                operation,
                url: url.to_string(),
                instead,
            }),
        }
    }
}

/// A stage of a plan ([`Plan::Stage`]): its work over its input.
#[derive(Debug)]
pub struct StagePlan {
    operation: &'static str,
    work: StageWork,
    input: Box<Plan>,
    memo: Memo,
}

impl StagePlan {
    pub(crate) fn new(operation: &'static str, work: StageWork, input: Plan, memo: Memo) -> StagePlan {
        StagePlan {
            operation,
            work,
            input: Box::new(input),
            memo,
        }
    }

    /// The operation's name (`count_by_value`, `reduce_by_key`).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// What it computes.
    pub fn work(&self) -> StageWork {
        self.work
    }

    /// What it reads.
    pub fn input(&self) -> &Plan {
        &self.input
    }

    /// The parts of the stage, to translate: its work, its input, and the [`Memo`] of what an
    /// engine made of it.
    pub fn into_parts(self) -> (StageWork, Plan, Memo) {
        (self.work, *self.input, self.memo)
    }

    /// The stage as data of the engine at `url`, made once per stage however many later
    /// stages read it: `stage` of the built-in over what `input` makes of the input's plan. A
    /// stage whose work is a closure is refused ([`Error::NotOnCluster`]).
    ///
    /// # Errors
    ///
    /// The refusal, or `input`'s or `stage`'s error.
    pub async fn translate_once<I, Fut, S>(self, url: &str, input: I, stage: S) -> Result<ClusterData>
    where
        I: FnOnce(Plan) -> Fut,
        Fut: Future<Output = Result<ClusterData>>,
        S: FnOnce(StageOp, &ClusterData) -> Result<ClusterData>,
    {
        let op = self.work.builtin(self.operation, url)?;
        let (plan, memo) = (*self.input, self.memo);
        memo.get_or_build(|| async move { stage(op, &input(plan).await?) })
            .await
    }
}

impl Plan {
    /// True for a persisted node over rows of the driver: an engine on a cluster keeps it
    /// where its rows are, on the driver ([`StageRun::run_here`]), rather than upload them to
    /// keep them there.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn check(plan: &zpark::engine::Plan) -> bool {
    /// plan.stays_on_driver()
    /// # }
    /// ```
    pub fn stays_on_driver(&self) -> bool {
        matches!(self, Plan::Persisted(persisted) if matches!(persisted.input(), Plan::Rows(_)))
    }

    /// What `translate` makes of each of `plans`, in order (the inputs of a union).
    ///
    /// # Errors
    ///
    /// The first error of `translate`.
    pub async fn translate_each<T, F, Fut>(plans: Vec<Plan>, mut translate: F) -> Result<Vec<T>>
    where
        F: FnMut(Plan) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut all = Vec::with_capacity(plans.len());
        for plan in plans {
            all.push(translate(plan).await?);
        }
        Ok(all)
    }
}

/// What an engine on a cluster made of one stage of a lineage, kept with the stage's node so
/// that the stage is translated once however many later stages read it.
///
/// # Examples
///
/// ```
/// use zpark::engine::{ClusterData, Memo};
/// # futures::executor::block_on(async {
/// let memo = Memo::default();
/// let first = memo.get_or_build(|| async { Ok(ClusterData::new(1u8)) }).await?;
/// let again = memo.get_or_build(|| async { Ok(ClusterData::new(2u8)) }).await?;
/// assert_eq!(again.downcast_ref::<u8>(), Some(&1));
/// # let _ = first;
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Memo(Arc<OnceCell<ClusterData>>);

impl Memo {
    /// The data built before, or `build`'s (kept unless it failed).
    ///
    /// # Errors
    ///
    /// `build`'s error.
    pub async fn get_or_build<F, Fut>(&self, build: F) -> Result<ClusterData>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ClusterData>>,
    {
        self.0.get_or_try_init(build).await.cloned()
    }
}

/// Releases what an engine keeps of persisted data; sent even when its future is dropped.
pub type Release = Box<dyn FnOnce() -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// A persisted node of a plan ([`Plan::Persisted`]).
#[derive(Debug)]
pub struct PersistPlan {
    input: Box<Plan>,
    kept: Arc<Kept>,
}

impl PersistPlan {
    pub(crate) fn new(input: Plan, kept: Arc<Kept>) -> PersistPlan {
        PersistPlan {
            input: Box::new(input),
            kept,
        }
    }

    /// What it persists.
    pub fn input(&self) -> &Plan {
        &self.input
    }

    /// The data the engine keeps: the first time, `build` makes it of the input and
    /// `persist` asks the engine to keep it (and says how to release it); the same data after.
    /// After `Rdd::unpersist` the input is built again and not kept.
    ///
    /// # Errors
    ///
    /// `build`'s or `persist`'s error.
    pub async fn keep<B, BuildFut, P, PersistFut>(self, build: B, persist: P) -> Result<ClusterData>
    where
        B: FnOnce(Plan) -> BuildFut,
        BuildFut: Future<Output = Result<ClusterData>>,
        P: FnOnce(ClusterData) -> PersistFut,
        PersistFut: Future<Output = Result<Release>>,
    {
        let mut kept = self.kept.state.lock().await;
        if let KeptState::Kept(data, _) = &*kept {
            return Ok(data.clone());
        }
        let data = build(*self.input).await?;
        if matches!(*kept, KeptState::Nothing) {
            let release = persist(data.clone()).await?;
            *kept = KeptState::Kept(data.clone(), release);
        }
        Ok(data)
    }
}

/// What an engine keeps of a persisted node, shared by the node and its plans.
#[derive(Default)]
pub(crate) struct Kept {
    state: Mutex<KeptState>,
}

#[derive(Default)]
enum KeptState {
    /// Nothing yet.
    #[default]
    Nothing,
    /// This data, and how to release it.
    Kept(ClusterData, Release),
    /// Nothing any more: `unpersist` was called; stages read the lineage again.
    Released,
}

impl Kept {
    /// Releases what is kept, and keeps nothing from now on.
    pub(crate) async fn release(&self) -> Result<()> {
        let mut state = self.state.lock().await;
        match std::mem::replace(&mut *state, KeptState::Released) {
            KeptState::Kept(_, release) => release().await,
            _ => Ok(()),
        }
    }
}

/// The last holder gone (the persisted node, and any plan of it still being translated): what
/// the engine keeps is released, the request sent without waiting for the answer.
impl Drop for Kept {
    fn drop(&mut self) {
        if let KeptState::Kept(_, release) = std::mem::take(self.state.get_mut()) {
            drop(release());
        }
    }
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kept(..)")
    }
}

/// The result of a stage an engine ran, for the stage's node to store.
pub enum StageRows {
    /// Its partitions, a `Box<Vec<Vec<T>>>` (computed on the engine's threads).
    Partitions(Box<dyn Any + Send>),
    /// Its rows, a `Box<Vec<T>>` (read back from a cluster): cut into the stage's number of
    /// partitions.
    Rows(Box<dyn Any + Send>),
}

impl StageRows {
    /// The typed partitions, `parts` of them.
    pub(crate) fn into_partitions<T: 'static>(self, parts: usize, operation: &'static str) -> Result<Vec<Vec<T>>> {
        let wrong = || {
            Error::Internal(format!(
                "the engine's `{operation}` gave rows of another type than `{}`",
                std::any::type_name::<T>()
            ))
        };
        match self {
            StageRows::Partitions(parts) => parts.downcast::<Vec<Vec<T>>>().map(|parts| *parts).map_err(|_| wrong()),
            StageRows::Rows(rows) => Ok(partitioned(*rows.downcast::<Vec<T>>().map_err(|_| wrong())?, parts)),
        }
    }
}

/// Rows cut into exactly `parts` partitions (the node's own count) of nearly equal size.
fn partitioned<T>(rows: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let parts = parts.max(1);
    let size = rows.len().div_ceil(parts);
    let mut rows = rows.into_iter();
    (0..parts).map(|_| rows.by_ref().take(size).collect()).collect()
}

/// A stage of a lineage to materialize (a shuffle, a whole-dataset aggregate, a persisted
/// node): what [`Backend::run_stage`](super::Backend::run_stage) is given.
pub trait StageRun: Send + Sync {
    /// The operation's name.
    fn operation(&self) -> &'static str;
    /// The Rust type of its rows.
    fn output(&self) -> DataType;
    /// The stage as a plan: a [`Plan::Stage`] or [`Plan::Persisted`] over its input's plan.
    fn plan(&self) -> Plan;
    /// Runs the stage's own Rust code on `engine`'s threads: first the stages it reads, then
    /// its partitions in parallel.
    fn run_here<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<StageRows>>;
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
