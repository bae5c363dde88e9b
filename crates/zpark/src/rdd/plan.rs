//! How the nodes of a lineage describe themselves as a [`Plan`] (`engine/plan.rs`), and the
//! [`StageRun`] every stage node gives its engine.
//!
//! A node never asks which engine it is on: a stage node's `prepare` hands itself to
//! [`Engine::run_stage`], and the engine either runs the node's own Rust code on its threads
//! ([`StageRun::run_here`]) or translates [`StageRun::plan`] and brings the rows back. A stage
//! whose rows the driver holds already describes itself as those rows (usually far fewer than
//! its input), so a cluster is sent them rather than the work again.

use std::sync::Arc;

use futures::future::FutureExt;

use super::node::{Node, NodePlan};
use super::stage::{compute_all, Stage};
use super::Data;
use crate::engine::{DataType, DriverRows, Engine, FileScan, MadeBy, Memo, Plan, ProjectPlan, StagePlan, StageWork};
use crate::error::Error;

/// `node` as a plan: its own when it has one, else the rows it makes on the driver.
pub(crate) fn plan_of<T: Data>(node: &Arc<dyn Node<T>>) -> Plan {
    match node.plan() {
        NodePlan::Plan(plan) => plan,
        NodePlan::Source => Plan::Rows(driver_rows(node, MadeBy::Source)),
        NodePlan::Closure => Plan::Rows(driver_rows(node, MadeBy::Closure)),
        NodePlan::Files(paths, format) => Plan::Files(FileScan::new(paths, format, driver_rows(node, MadeBy::Source))),
        NodePlan::Project(projection, input) => {
            Plan::Project(ProjectPlan::new(projection, input, driver_rows(node, MadeBy::Closure)))
        }
    }
}

/// The rows of `node`, made on the driver when an engine asks for them.
fn driver_rows<T: Data>(node: &Arc<dyn Node<T>>, made_by: MadeBy) -> DriverRows {
    let input = Arc::clone(node);
    DriverRows::new(
        node.operation(),
        made_by,
        DataType::of::<T>(),
        Box::new(move |engine: Engine| {
            async move {
                input.prepare(&engine).await?;
                let operation = input.operation();
                let rows = engine
                    .run(operation, move |cancel| compute_all(input.as_ref(), cancel))
                    .await?
                    .concat();
                Ok(Box::new(rows) as Box<dyn std::any::Any + Send>)
            }
            .boxed()
        }),
    )
}

/// A stage node's plan: the rows the driver holds of it once computed, else `work` over its
/// parent's plan (with the node's `memo` of what a cluster made of it).
pub(crate) fn stage_plan<I: Data, O: Data>(
    (operation, work, memo): (&'static str, StageWork, &Memo),
    parent: &Arc<dyn Node<I>>,
    stage: &Stage<O>,
) -> Plan {
    held(operation, stage)
        .unwrap_or_else(|| Plan::Stage(StagePlan::new(operation, work, plan_of(parent), memo.clone())))
}

/// The rows the driver holds of `stage`, as a plan; `None` before it is computed.
pub(crate) fn held<T: Data>(operation: &'static str, stage: &Stage<T>) -> Option<Plan> {
    let rows = stage.all_rows()?;
    Some(Plan::Rows(DriverRows::new(
        operation,
        MadeBy::Stage,
        DataType::of::<T>(),
        Box::new(move |_| futures::future::ready(Ok(Box::new(rows) as Box<dyn std::any::Any + Send>)).boxed()),
    )))
}

/// On an engine that refuses `work` (a Rust closure on a cluster), the refused `Rdd`, made
/// when the `Rdd` is built (so that a stream of slices says it once, before any slice is sent).
pub(crate) fn refused<T: Data>(engine: &Engine, operation: &'static str, work: StageWork) -> Option<super::Rdd<T>> {
    engine.refusal(operation, work).map(|error: Error| engine.failed(error))
}
