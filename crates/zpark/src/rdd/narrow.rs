//! Narrow operations: each output partition reads one input partition, so a chain of them runs
//! as one fused iterator per partition.

use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};

use super::node::NodePlan;
use super::node::{Node, PartIter};
use super::plan::plan_of;
use super::{Data, Rdd};
use crate::engine::{guarded, Engine, Plan};
use crate::error::Result;

/// `rdd.map(f)`.
struct Map<T, F> {
    parent: Arc<dyn Node<T>>,
    f: F,
}

/// `rdd.filter(f)`.
struct Filter<T, F> {
    parent: Arc<dyn Node<T>>,
    f: F,
}

/// `rdd.flat_map(f)`.
struct FlatMap<T, U, F> {
    parent: Arc<dyn Node<T>>,
    f: F,
    output: PhantomData<fn() -> U>,
}

impl<T: Data, U: Data, F: Fn(T) -> U + Send + Sync> Node<U> for Map<T, F> {
    fn operation(&self) -> &'static str {
        "map"
    }
    fn partitions(&self) -> usize {
        self.parent.partitions()
    }
    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        self.parent.prepare(engine)
    }
    fn compute(&self, part: usize) -> Result<PartIter<'_, U>> {
        let f = &self.f;
        Ok(Box::new(
            self.parent.compute(part)?.map(move |x| guarded("map", || f(x))),
        ))
    }
}

impl<T: Data, F: Fn(&T) -> bool + Send + Sync> Node<T> for Filter<T, F> {
    fn operation(&self) -> &'static str {
        "filter"
    }
    fn partitions(&self) -> usize {
        self.parent.partitions()
    }
    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        self.parent.prepare(engine)
    }
    fn compute(&self, part: usize) -> Result<PartIter<'_, T>> {
        let f = &self.f;
        Ok(Box::new(
            self.parent.compute(part)?.filter(move |x| guarded("filter", || f(x))),
        ))
    }
}

impl<T, U, I, F> Node<U> for FlatMap<T, U, F>
where
    T: Data,
    U: Data,
    I: IntoIterator<Item = U> + 'static,
    F: Fn(T) -> I + Send + Sync,
{
    fn operation(&self) -> &'static str {
        "flat_map"
    }
    fn partitions(&self) -> usize {
        self.parent.partitions()
    }
    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        self.parent.prepare(engine)
    }
    fn compute(&self, part: usize) -> Result<PartIter<'_, U>> {
        let f = &self.f;
        Ok(Box::new(
            self.parent
                .compute(part)?
                .flat_map(move |x| guarded("flat_map", || f(x))),
        ))
    }
}

impl<T: Data> Rdd<T> {
    /// Applies `f` to every element.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![1, 2, 3], 2);
    /// assert_eq!(rdd.map(|x| x + 1).collect().await?, vec![2, 3, 4]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn map<U: Data, F>(&self, f: F) -> Rdd<U>
    where
        F: Fn(T) -> U + Send + Sync + 'static,
    {
        self.derive(Arc::new(Map {
            parent: Arc::clone(&self.node),
            f,
        }))
    }

    /// Keeps the elements for which `f` is true.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec![1, 2, 3, 4], 2);
    /// assert_eq!(rdd.filter(|x| x % 2 == 0).collect().await?, vec![2, 4]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn filter<F>(&self, f: F) -> Rdd<T>
    where
        F: Fn(&T) -> bool + Send + Sync + 'static,
    {
        self.derive(Arc::new(Filter {
            parent: Arc::clone(&self.node),
            f,
        }))
    }

    /// Replaces every element with the elements `f` gives for it.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let rdd = zpark::Engine::local(2).parallelize(vec!["a b", "c"], 2);
    /// let words = rdd.flat_map(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>());
    /// assert_eq!(words.collect().await?, vec!["a", "b", "c"]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn flat_map<U: Data, I, F>(&self, f: F) -> Rdd<U>
    where
        I: IntoIterator<Item = U> + 'static,
        F: Fn(T) -> I + Send + Sync + 'static,
    {
        self.derive(Arc::new(FlatMap {
            parent: Arc::clone(&self.node),
            f,
            output: PhantomData,
        }))
    }

    /// The elements of both, `self`'s partitions first; duplicates are kept (as in Spark).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let both = engine.parallelize(vec![1, 2], 1).union(&engine.parallelize(vec![2, 3], 1));
    /// assert_eq!(both.collect().await?, vec![1, 2, 2, 3]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn union(&self, other: &Rdd<T>) -> Rdd<T> {
        self.derive(Arc::new(UnionAll {
            parents: vec![Arc::clone(&self.node), Arc::clone(&other.node)],
        }))
    }

    fn derive<U: Data>(&self, node: Arc<dyn Node<U>>) -> Rdd<U> {
        Rdd::from_node(self.engine.clone(), node)
    }
}

/// The union of many (`rdd.union(&other)`, `engine.union(&rdds)`): the partitions of each, in
/// order. On a cluster it is a union there as soon as one of them lives there.
struct UnionAll<T> {
    parents: Vec<Arc<dyn Node<T>>>,
}

impl<T: Data> Node<T> for UnionAll<T> {
    fn operation(&self) -> &'static str {
        "union"
    }
    fn partitions(&self) -> usize {
        self.parents.iter().map(|parent| parent.partitions()).sum()
    }
    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        async move {
            futures::future::try_join_all(self.parents.iter().map(|parent| parent.prepare(engine))).await?;
            Ok(())
        }
        .boxed()
    }
    fn compute(&self, mut part: usize) -> Result<PartIter<'_, T>> {
        for parent in &self.parents {
            match part.checked_sub(parent.partitions()) {
                None => return parent.compute(part),
                Some(rest) => part = rest,
            }
        }
        Ok(Box::new(std::iter::empty()))
    }
    /// A union in the plan as soon as one of its parents is more than rows of the driver (a
    /// stage, a persisted node); else rows of the driver itself.
    fn plan(&self) -> NodePlan {
        let plans: Vec<Plan> = self.parents.iter().map(plan_of).collect();
        if plans.iter().all(|plan| matches!(plan, Plan::Rows(_))) {
            return NodePlan::Closure;
        }
        NodePlan::Plan(Plan::Union(plans))
    }
}

impl Engine {
    /// The union of many `Rdd`s (Spark's `SparkContext.union`): their partitions in order; an
    /// empty `Rdd` when `rdds` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let parts = vec![engine.parallelize(vec![1], 1), engine.parallelize(vec![2, 3], 1)];
    /// assert_eq!(engine.union(&parts).collect().await?, vec![1, 2, 3]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn union<T: Data>(&self, rdds: &[Rdd<T>]) -> Rdd<T> {
        match rdds {
            [] => self.empty(),
            [single] => single.clone(),
            many => {
                let parents = many.iter().map(|rdd| Arc::clone(&rdd.node)).collect();
                Rdd::from_node(self.clone(), Arc::new(UnionAll { parents }))
            }
        }
    }
}
