//! A cluster engine in a few hundred lines, for tests: what adding an engine takes.
//!
//! [`FakeCluster`] implements zpark's engine traits from outside the core, as the Spark engine
//! does: one trait, [`Backend`]: threads for the work that stays on the driver (here a local
//! pool), and [`Backend::run_stage`], which translates a stage's [`Plan`] (count by value,
//! distinct, reduce by key with a built-in reducer, group by key, count, reduce, over rows
//! uploaded from the driver, unions and persisted nodes) into work on its "cluster". Its "cluster" holds rows as JSON
//! values (serde), so it knows a type once it is [registered](FakeCluster::register), as the
//! Spark engine learns a type's Arrow codec. It records every call it gets ([`FakeCluster::calls`]),
//! so that a test can see which stages left the driver.
//!
//! ```
//! use zpark::prelude::*;
//! use zpark_testkit::fake_cluster::FakeCluster;
//!
//! # futures::executor::block_on(async {
//! let cluster = FakeCluster::with_common_types();
//! let engine = cluster.engine();
//! let mut counts = engine.parallelize(vec![1u64, 1, 2], 2).count_by_value().collect().await?;
//! counts.sort();
//! assert_eq!(counts, vec![(1, 2), (2, 1)]);
//! assert_eq!(cluster.calls(), ["upload u64 3", "stage CountByValue", "fetch"]);
//! # Ok::<_, zpark::Error>(()) }).unwrap();
//! ```

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::{BoxFuture, FutureExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use zpark::engine::{
    Backend, ClusterData, DataType, DriverRows, Job, LocalBackend, Numbers, Plan, Reducer, Release, StageOp, StageRows,
    StageRun,
};
use zpark::{Engine, Error, Result};

/// Rows on the fake cluster.
type Rows = Arc<Vec<Value>>;

/// Turns a `Box<Vec<T>>` into rows, and rows back into a `Box<Vec<T>>`.
struct Codec {
    encode: fn(Box<dyn Any + Send>) -> Result<Vec<Value>>,
    decode: fn(&[Value]) -> Result<Box<dyn Any + Send>>,
}

fn encode<T: Serialize + 'static>(rows: Box<dyn Any + Send>) -> Result<Vec<Value>> {
    let rows = rows
        .downcast::<Vec<T>>()
        .map_err(|_| Error::Internal("rows of another type".into()))?;
    rows.iter()
        .map(|row| serde_json::to_value(row).map_err(fake_error))
        .collect()
}

fn decode<T: DeserializeOwned + Send + 'static>(rows: &[Value]) -> Result<Box<dyn Any + Send>> {
    let rows: Vec<T> = rows
        .iter()
        .map(|row| serde_json::from_value(row.clone()).map_err(fake_error))
        .collect::<Result<_>>()?;
    Ok(Box::new(rows))
}

fn fake_error(error: impl std::fmt::Display) -> Error {
    Error::cluster(URL, error.to_string())
}

const URL: &str = "fake://cluster";

/// The fake cluster engine. Cloning it shares its calls and types.
#[derive(Clone)]
pub struct FakeCluster {
    inner: Arc<Inner>,
}

struct Inner {
    driver: LocalBackend,
    codecs: Mutex<HashMap<TypeId, Arc<Codec>>>,
    calls: Mutex<Vec<String>>,
}

impl FakeCluster {
    /// A fake cluster that knows the element types of the conformance suite (numbers, strings,
    /// pairs of them and the `(K, Vec<V>)` of `group_by_key`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cluster = zpark_testkit::fake_cluster::FakeCluster::with_common_types();
    /// assert!(cluster.calls().is_empty());
    /// ```
    ///
    /// # Panics
    ///
    /// When the driver's two threads cannot be started.
    pub fn with_common_types() -> FakeCluster {
        let cluster = FakeCluster {
            inner: Arc::new(Inner {
                driver: LocalBackend::new(2).unwrap_or_else(|e| panic!("the driver's threads: {e}")),
                codecs: Mutex::default(),
                calls: Mutex::default(),
            }),
        };
        macro_rules! types {
            ($($t:ty),*) => {$(
                cluster.register::<$t>();
                cluster.register::<(u64, $t)>();
                cluster.register::<(i64, $t)>();
                cluster.register::<(i32, $t)>();
                cluster.register::<(String, $t)>();
                cluster.register::<(u64, Vec<$t>)>();
                cluster.register::<(i32, Vec<$t>)>();
                cluster.register::<(String, Vec<$t>)>();
            )*};
        }
        types!(u64, i64, u32, i32, f64, String);
        cluster.register::<Option<String>>();
        cluster.register::<(Option<String>, u64)>();
        cluster
    }

    /// Teaches the cluster the rows of type `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cluster = zpark_testkit::fake_cluster::FakeCluster::with_common_types();
    /// cluster.register::<(u64, Vec<String>)>();
    /// ```
    pub fn register<T: Serialize + DeserializeOwned + Send + 'static>(&self) {
        let codec = Codec {
            encode: encode::<T>,
            decode: decode::<T>,
        };
        lock(&self.inner.codecs).insert(TypeId::of::<T>(), Arc::new(codec));
    }

    /// An engine on this cluster.
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = zpark_testkit::fake_cluster::FakeCluster::with_common_types().engine();
    /// assert!(engine.is_cluster());
    /// assert_eq!(engine.url(), "fake://cluster");
    /// ```
    pub fn engine(&self) -> Engine {
        Engine::from_backend(Arc::new(self.clone()))
    }

    /// Every call the cluster got so far, in order: `upload TYPE ROWS`, `stage OP`,
    /// `union N`, `persist`, `unpersist`, `fetch`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cluster = zpark_testkit::fake_cluster::FakeCluster::with_common_types();
    /// assert_eq!(cluster.engine().parallelize(vec![1u64, 2], 1).count().await?, 2);
    /// assert_eq!(cluster.calls(), ["upload u64 2", "stage Count", "fetch"]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn calls(&self) -> Vec<String> {
        lock(&self.inner.calls).clone()
    }

    fn record(&self, call: String) {
        lock(&self.inner.calls).push(call);
    }

    fn codec(&self, row: DataType) -> Result<Arc<Codec>> {
        lock(&self.inner.codecs).get(&row.id).cloned().ok_or_else(|| {
            fake_error(format!(
                "the fake cluster does not know type `{}`: register it first",
                row.name
            ))
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A short name for a type in the call log: `u64`, `(u64, u64)`, `alloc::string::String` as `String`.
fn short(name: &str) -> String {
    name.replace("alloc::string::", "").replace("alloc::vec::", "")
}

impl std::fmt::Debug for FakeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCluster").finish_non_exhaustive()
    }
}

impl Backend for FakeCluster {
    fn url(&self) -> String {
        URL.to_string()
    }

    fn parallelism(&self) -> usize {
        self.inner.driver.parallelism()
    }

    fn execute(&self, job: Job) {
        self.inner.driver.execute(job);
    }

    fn on_worker_thread(&self) -> bool {
        self.inner.driver.on_worker_thread()
    }

    fn is_cluster(&self) -> bool {
        true
    }

    /// A persisted node over rows of the driver stays on the driver; every other stage is
    /// translated, run on the cluster and fetched.
    fn run_stage<'a>(&'a self, engine: &'a Engine, stage: &'a dyn StageRun) -> BoxFuture<'a, Result<StageRows>> {
        async move {
            let plan = stage.plan();
            if plan.stays_on_driver() {
                return stage.run_here(engine).await;
            }
            let data = self.translate(engine, plan).await?;
            self.fetch(&data, stage.output()).map(StageRows::Rows)
        }
        .boxed()
    }
}

impl FakeCluster {
    /// `plan` as rows on the cluster.
    fn translate<'a>(&'a self, engine: &'a Engine, plan: Plan) -> BoxFuture<'a, Result<ClusterData>> {
        async move {
            match plan {
                Plan::Rows(rows) => self.upload(engine, rows).await,
                // It reads no files and takes no fields itself: the driver does, as for any
                // engine that does not translate these kinds.
                Plan::Files(files) => self.upload(engine, files.into_rows()).await,
                Plan::Project(project) => self.upload(engine, project.into_rows()).await,
                Plan::Stage(stage) => {
                    let input = |input| self.translate(engine, input);
                    stage
                        .translate_once(URL, input, |op, input| self.stage(op, input))
                        .await
                }
                Plan::Union(inputs) => {
                    self.union(&Plan::translate_each(inputs, |input| self.translate(engine, input)).await?)
                }
                Plan::Persisted(persisted) => {
                    let build = |input| self.translate(engine, input);
                    persisted.keep(build, |_| async { Ok(self.persist()) }).await
                }
            }
        }
        .boxed()
    }
}

fn rows_of(data: &ClusterData) -> Result<Rows> {
    data.downcast_ref::<Rows>()
        .cloned()
        .ok_or_else(|| Error::Internal("data the fake cluster did not make".into()))
}

impl FakeCluster {
    async fn upload(&self, engine: &Engine, rows: DriverRows) -> Result<ClusterData> {
        let row = rows.row();
        let rows = (self.codec(row)?.encode)(rows.compute(engine).await?)?;
        self.record(format!("upload {} {}", short(row.name), rows.len()));
        Ok(ClusterData::new(Rows::new(rows)))
    }

    fn stage(&self, op: StageOp, input: &ClusterData) -> Result<ClusterData> {
        self.record(format!("stage {op:?}"));
        let rows = rows_of(input)?;
        Ok(ClusterData::new(Rows::new(run_stage(op, &rows)?)))
    }

    fn union(&self, inputs: &[ClusterData]) -> Result<ClusterData> {
        self.record(format!("union {}", inputs.len()));
        let mut all = Vec::new();
        for input in inputs {
            all.extend(rows_of(input)?.iter().cloned());
        }
        Ok(ClusterData::new(Rows::new(all)))
    }

    /// Keeps data (it is kept anyway), and says how to release it.
    fn persist(&self) -> Release {
        self.record("persist".into());
        let cluster = self.clone();
        Box::new(move || {
            cluster.record("unpersist".into());
            futures::future::ready(Ok(())).boxed()
        })
    }

    fn fetch(&self, data: &ClusterData, row: DataType) -> Result<Box<dyn Any + Send>> {
        self.record("fetch".into());
        rows_of(data).and_then(|rows| (self.codec(row)?.decode)(&rows))
    }
}

/// What a stage makes of its input rows.
fn run_stage(op: StageOp, rows: &[Value]) -> Result<Vec<Value>> {
    Ok(match op {
        StageOp::CountByValue => by_key(
            rows.iter().map(|row| (row.clone(), Value::from(1u64))),
            Reducer::Count,
            Numbers::Integers,
        )?,
        StageOp::Distinct => distinct(rows),
        StageOp::ReduceByKey(reducer, numbers) => by_key(pairs(rows)?, reducer, numbers)?,
        StageOp::GroupByKey => group(pairs(rows)?),
        StageOp::Count => vec![Value::from(rows.len() as u64)],
        StageOp::Reduce(reducer, numbers) => {
            let mut total = None;
            for row in rows {
                let value = if reducer == Reducer::Count {
                    Value::from(1u64)
                } else {
                    row.clone()
                };
                total = Some(match total {
                    None => value,
                    Some(so_far) => combine(reducer, numbers, &so_far, &value)?,
                });
            }
            total.into_iter().collect()
        }
    })
}

/// `[k, v]` rows as pairs.
fn pairs(rows: &[Value]) -> Result<impl Iterator<Item = (Value, Value)> + '_> {
    rows.iter()
        .map(|row| match row.as_array().map(Vec::as_slice) {
            Some([key, value]) => Ok((key.clone(), value.clone())),
            _ => Err(fake_error(format!("not a pair: {row}"))),
        })
        .collect::<Result<Vec<_>>>()
        .map(Vec::into_iter)
}

/// Keys in a stable order (their JSON text), for maps over JSON values.
fn text(value: &Value) -> String {
    value.to_string()
}

fn by_key(pairs: impl Iterator<Item = (Value, Value)>, reducer: Reducer, numbers: Numbers) -> Result<Vec<Value>> {
    let mut totals: BTreeMap<String, (Value, Value)> = BTreeMap::new();
    for (key, value) in pairs {
        let value = if reducer == Reducer::Count {
            Value::from(1u64)
        } else {
            value
        };
        let merged = match totals.remove(&text(&key)) {
            Some((_, so_far)) => combine(reducer, numbers, &so_far, &value)?,
            None => value,
        };
        totals.insert(text(&key), (key, merged));
    }
    Ok(totals.into_values().map(|(k, v)| Value::Array(vec![k, v])).collect())
}

fn group(pairs: impl Iterator<Item = (Value, Value)>) -> Vec<Value> {
    let mut groups: BTreeMap<String, (Value, Vec<Value>)> = BTreeMap::new();
    for (key, value) in pairs {
        groups
            .entry(text(&key))
            .or_insert_with(|| (key, Vec::new()))
            .1
            .push(value);
    }
    groups
        .into_values()
        .map(|(k, values)| Value::Array(vec![k, Value::Array(values)]))
        .collect()
}

fn distinct(rows: &[Value]) -> Vec<Value> {
    let mut seen = BTreeMap::new();
    for row in rows {
        seen.entry(text(row)).or_insert_with(|| row.clone());
    }
    seen.into_values().collect()
}

/// Two partial results of `reducer` combined, as numbers of the kind given: by
/// [`Reducer::apply`], as the embedded engine combines them (`u64` when both fit, else `i64`).
fn combine(reducer: Reducer, numbers: Numbers, a: &Value, b: &Value) -> Result<Value> {
    let not_a_number = || fake_error(format!("{reducer:?} of values that are not numbers: {a}, {b}"));
    Ok(match (numbers, a.as_u64().zip(b.as_u64())) {
        (Numbers::Floats, _) => {
            let (x, y) = a.as_f64().zip(b.as_f64()).ok_or_else(not_a_number)?;
            Value::from(reducer.apply(x, y))
        }
        (Numbers::Integers, Some((x, y))) => Value::from(reducer.apply(x, y)),
        (Numbers::Integers, None) => {
            let (x, y) = a.as_i64().zip(b.as_i64()).ok_or_else(not_a_number)?;
            Value::from(reducer.apply(x, y))
        }
    })
}
