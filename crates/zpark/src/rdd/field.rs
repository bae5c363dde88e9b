//! `Rdd<String>::field`: a [`Field`] of each line, a built-in element-wise operation that an
//! engine may run itself (on Spark, an expression over the lines where they were read).

use std::sync::Arc;

use futures::future::BoxFuture;

use super::node::{Node, NodePlan, PartIter};
use super::plan::plan_of;
use super::Rdd;
use crate::engine::{Engine, Plan};
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
            input => NodePlan::Project(self.field.clone(), input),
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
