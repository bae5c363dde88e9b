//! `Rdd<String>::field`: a [`Field`] of each line, and `Rdd<Option<String>>::parse_int` /
//! `parse_float`: built-in element-wise operations that an engine may run itself (on Spark,
//! expressions over the lines where they were read).

use std::sync::Arc;

use futures::future::BoxFuture;

use super::node::{Node, NodePlan, PartIter};
use super::plan::plan_of;
use super::Rdd;
use crate::engine::{Engine, Plan, Projection};
use crate::error::Result;
use crate::field::Field;

/// `lines.field(field)`.
struct FieldOf {
    parent: Arc<dyn Node<String>>,
    field: Field,
}

impl Node<Option<String>> for FieldOf {
    fn operation(&self) -> &'static str {
        "field"
    }

    fn partitions(&self) -> usize {
        self.parent.partitions()
    }

    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        self.parent.prepare(engine)
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, Option<String>>> {
        let field = &self.field;
        Ok(Box::new(self.parent.compute(part)?.map(move |line| field.of(&line))))
    }

    /// Over lines of the driver, taken on the driver with them; over lines an engine reads
    /// itself, a projection there.
    fn plan(&self) -> NodePlan {
        match plan_of(&self.parent) {
            Plan::Rows(_) => NodePlan::Closure,
            input => NodePlan::Project(Projection::Field(self.field.clone()), input),
        }
    }
}

impl Rdd<String> {
    /// The [`Field`] of each line: `None` for a line without it (nothing is dropped; count
    /// the `None`s, or drop them with `flat_map`). The same on every engine; on Spark over
    /// [`Engine::text_files`] it is a Spark expression, so that the lines stay where they
    /// are read.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::Field;
    /// # futures::executor::block_on(async {
    /// let lines = zpark::Engine::local(2).parallelize(vec!["a x".to_string(), "b".into()], 2);
    /// let mut counts = lines.field(Field::word(2)?).count_by_value().collect().await?;
    /// counts.sort();
    /// assert_eq!(counts, vec![(None, 1), (Some("x".to_string()), 1)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn field(&self, field: Field) -> Rdd<Option<String>> {
        Rdd::from_node(
            self.engine.clone(),
            Arc::new(FieldOf {
                parent: Arc::clone(&self.node),
                field,
            }),
        )
    }
}

/// `texts.parse_int()` and `texts.parse_float()`.
struct Parsed<T> {
    parent: Arc<dyn Node<Option<String>>>,
    projection: Projection,
    parse: fn(&str) -> Option<T>,
}

impl<T: crate::Data> Node<Option<T>> for Parsed<T> {
    fn operation(&self) -> &'static str {
        "parse"
    }

    fn partitions(&self) -> usize {
        self.parent.partitions()
    }

    fn prepare<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<()>> {
        self.parent.prepare(engine)
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, Option<T>>> {
        let parse = self.parse;
        Ok(Box::new(
            self.parent
                .compute(part)?
                .map(move |text| text.as_deref().and_then(parse)),
        ))
    }

    fn plan(&self) -> NodePlan {
        match plan_of(&self.parent) {
            Plan::Rows(_) => NodePlan::Closure,
            input => NodePlan::Project(self.projection.clone(), input),
        }
    }
}

impl Rdd<Option<String>> {
    /// Each text as a whole number (`i64`): `None` for a missing text or one that is not a
    /// whole number (`"1.5"`, `"x"`), the same on every engine (on Spark,
    /// `try_cast(value AS BIGINT)`). Sums, minimums and maximums with a built-in
    /// [`Reducer`](crate::Reducer) leave the `None`s out, as Spark leaves out nulls.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::{Field, Reducer};
    /// # futures::executor::block_on(async {
    /// let lines = zpark::Engine::local(2).parallelize(vec!["a 2".to_string(), "b x".into(), "c -5".into()], 2);
    /// let numbers = lines.field(Field::word(2)?).parse_int();
    /// assert_eq!(numbers.collect().await?, vec![Some(2), None, Some(-5)]);
    /// assert_eq!(numbers.reduce_with(Reducer::Sum).await?, Some(Some(-3)));
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn parse_int(&self) -> Rdd<Option<i64>> {
        self.parsed(Projection::Int, crate::field::parse_int)
    }

    /// Each text as a floating-point number (`f64`): `None` for a missing text or one that is
    /// not a number, the same on every engine (on Spark, `try_cast(value AS DOUBLE)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::Field;
    /// # futures::executor::block_on(async {
    /// let lines = zpark::Engine::local(1).parallelize(vec!["t 1.5".to_string(), "t 2e3".into()], 1);
    /// let numbers = lines.field(Field::word(2)?).parse_float();
    /// assert_eq!(numbers.collect().await?, vec![Some(1.5), Some(2000.0)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn parse_float(&self) -> Rdd<Option<f64>> {
        self.parsed(Projection::Float, crate::field::parse_float)
    }

    fn parsed<T: crate::Data>(&self, projection: Projection, parse: fn(&str) -> Option<T>) -> Rdd<Option<T>> {
        Rdd::from_node(
            self.engine.clone(),
            Arc::new(Parsed {
                parent: Arc::clone(&self.node),
                projection,
                parse,
            }),
        )
    }
}
