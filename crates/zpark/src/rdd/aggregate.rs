//! Whole-dataset aggregates kept lazy: an `Rdd` of at most one element that holds the count or
//! the reduction of its parent. Per-slice operations (`count_rdd`, `reduce_rdd`) use them so
//! that a slice stays an `Rdd` until `continuize` asks for it.

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use rayon::prelude::*;

use super::node::NodePlan;
use super::node::{Node, PartIter};
use super::plan::{refused, stage_plan};
use super::stage::Stage;
use super::{Data, Rdd};
use crate::engine::{
    guarded, DataType, Engine, Memo, Plan, Reducer, Reducible, StageOp, StageRows, StageRun, StageWork,
};
use crate::error::Result;

type PerPartition<T, R> = dyn Fn(&dyn Node<T>, usize) -> Result<Option<R>> + Send + Sync;
type Combine<R> = dyn Fn(R, R) -> R + Send + Sync;

/// Folds each partition to an optional value, then combines those values.
struct Aggregate<T, R> {
    operation: &'static str,
    /// What the stage is in a plan.
    work: StageWork,
    /// What an engine on a cluster made of it.
    memo: Memo,
    parent: Arc<dyn Node<T>>,
    per_partition: Arc<PerPartition<T, R>>,
    combine: Arc<Combine<R>>,
    stage: Stage<R>,
}

impl<T: Data, R: Data> Node<R> for Aggregate<T, R> {
    fn operation(&self) -> &'static str {
        self.operation
    }

    fn partitions(&self) -> usize {
        1
    }

    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        self.stage.ensure(move || engine.run_stage(self, 1)).boxed()
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, R>> {
        self.stage.partition(part)
    }

    fn plan(&self) -> NodePlan {
        NodePlan::Plan(StageRun::plan(self))
    }
}

impl<T: Data, R: Data> StageRun for Aggregate<T, R> {
    fn operation(&self) -> &'static str {
        self.operation
    }

    fn output(&self) -> DataType {
        DataType::of::<R>()
    }

    fn plan(&self) -> Plan {
        stage_plan((self.operation, self.work, &self.memo), &self.parent, &self.stage)
    }

    fn run_here<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<StageRows>> {
        let per_partition = Arc::clone(&self.per_partition);
        let combine = Arc::clone(&self.combine);
        let (operation, parent) = (self.operation, Arc::clone(&self.parent));
        async move {
            parent.prepare(engine).await?;
            let total = engine
                .run(operation, move |cancel| {
                    let values: Vec<Option<R>> = (0..parent.partitions())
                        .into_par_iter()
                        .map(|part| {
                            cancel.check()?;
                            per_partition(parent.as_ref(), part)
                        })
                        .collect::<Result<_>>()?;
                    let total = values
                        .into_iter()
                        .flatten()
                        .reduce(|a, b| guarded(operation, || combine(a, b)));
                    Ok(vec![total.into_iter().collect::<Vec<R>>()])
                })
                .await?;
            Ok(StageRows::Partitions(Box::new(total)))
        }
        .boxed()
    }
}

/// `f` over the elements of each partition.
fn over_elements<T: Data, R>(
    f: impl Fn(PartIter<'_, T>) -> Option<R> + Send + Sync + 'static,
) -> Arc<PerPartition<T, R>> {
    Arc::new(move |node: &dyn Node<T>, part| Ok(f(node.compute(part)?)))
}

impl<T: Data> Rdd<T> {
    /// An `Rdd` holding one element: the number of elements of this one (0 when empty).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// assert_eq!(engine.parallelize(vec!['a', 'b'], 2).count_as_rdd().collect().await?, vec![2]);
    /// assert_eq!(engine.empty::<char>().count_as_rdd().collect().await?, vec![0]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn count_as_rdd(&self) -> Rdd<u64> {
        self.aggregate(
            "count",
            StageWork::Builtin(StageOp::Count),
            // A stored partition is counted by its length, without reading it.
            Arc::new(|node: &dyn Node<T>, part| {
                let count = match node.stored(part) {
                    Some(stored) => stored.len(),
                    None => node.compute(part)?.count(),
                };
                Ok(Some(count as u64))
            }),
            Arc::new(|a, b| a + b),
        )
    }

    /// An `Rdd` holding the reduction of this one with `f`: one element, or none when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let sum = engine.parallelize(vec![1, 2, 3], 2).reduce_as_rdd(|a, b| a + b);
    /// assert_eq!(sum.collect().await?, vec![6]);
    /// assert!(engine.empty::<i32>().reduce_as_rdd(|a, b| a + b).collect().await?.is_empty());
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn reduce_as_rdd<F>(&self, f: F) -> Rdd<T>
    where
        F: Fn(T, T) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let g = Arc::clone(&f);
        self.aggregate(
            "reduce",
            StageWork::Closure {
                instead: "use reduce_with(Reducer::Sum | Reducer::Min | Reducer::Max) on an Rdd, or reduce_rdd_with(...) on a stream of slices, which the cluster runs itself",
            },
            over_elements(move |iter| iter.reduce(|a, b| guarded("reduce", || g(a, b)))),
            f,
        )
    }

    /// An `Rdd` holding the reduction of this one with a built-in [`Reducer`]: one element,
    /// or none when empty. What a cluster runs itself, where `reduce_as_rdd` with a Rust
    /// closure is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let sum = engine.parallelize(vec![1, 2, 3], 2).reduce_as_rdd_with(zpark::Reducer::Sum);
    /// assert_eq!(sum.collect().await?, vec![6]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn reduce_as_rdd_with(&self, reducer: Reducer) -> Rdd<T>
    where
        T: Reducible,
    {
        self.aggregate(
            "reduce_with",
            StageWork::Builtin(StageOp::Reduce(reducer, T::NUMBERS)),
            // Missing values (`None`) are left out, as Spark leaves out nulls: a dataset of
            // only missing values has no reduction.
            over_elements(move |iter| {
                iter.filter(|v: &T| !v.is_nothing())
                    .map(|v| reducer.first(v))
                    .reduce(|a, b| reducer.apply(a, b))
            }),
            Arc::new(move |a, b| reducer.apply(a, b)),
        )
    }

    /// Combines all elements with a built-in [`Reducer`]; `None` for an empty `Rdd`.
    ///
    /// # Errors
    ///
    /// As [`collect`](Rdd::collect).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![4.5, -1.0, 2.0], 2);
    /// assert_eq!(rdd.reduce_with(zpark::Reducer::Min).await?, Some(-1.0));
    /// assert_eq!(rdd.reduce_with(zpark::Reducer::Count).await?, Some(3.0));
    /// assert_eq!(rdd.filter(|x| *x > 9.0).reduce_with(zpark::Reducer::Count).await?, None);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub async fn reduce_with(&self, reducer: Reducer) -> Result<Option<T>>
    where
        T: Reducible,
    {
        Ok(self.reduce_as_rdd_with(reducer).collect().await?.pop())
    }

    fn aggregate<R: Data>(
        &self,
        operation: &'static str,
        work: StageWork,
        per_partition: Arc<PerPartition<T, R>>,
        combine: Arc<Combine<R>>,
    ) -> Rdd<R> {
        if let Some(refused) = refused(&self.engine, operation, work) {
            return refused;
        }
        let node = Aggregate {
            operation,
            work,
            memo: Memo::default(),
            parent: Arc::clone(&self.node),
            per_partition,
            combine,
            stage: Stage::new(),
        };
        Rdd::from_node(self.engine.clone(), Arc::new(node))
    }
}
