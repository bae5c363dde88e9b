//! The Spark engine's planner: a stage's [`Plan`] as a Spark Connect relation, run on the
//! server, its rows read back (as DataFusion's physical planner turns a logical plan into its
//! own execution plan).
//!
//! Rows of the driver ([`Plan::Rows`]) become a `LocalRelation` of Arrow batches; files
//! ([`Plan::Files`]) a read by Spark itself (`files.rs`), and a field of each line
//! ([`Plan::Project`]) a Spark expression over them, so those rows never reach the driver; a built-in
//! stage becomes its Spark form over its input's relation (`relation.rs`), made once per stage
//! however many later stages read it ([`Memo`](zpark::engine::Memo)); a union is a
//! `UNION ALL`; a persisted node is cached on the server the first time and unpersisted when
//! its last `Rdd` goes. A persisted node over rows of the driver stays on the driver.

use std::any::Any;

use futures::future::{BoxFuture, FutureExt};
use zpark::engine::{ClusterData, DataType, DriverRows, Plan, Release, StageOp, StageRows, StageRun};
use zpark::Engine;

use super::{Planned, SparkBackend};
use crate::relation::{self, Slices};
use crate::shared::Work;

impl SparkBackend {
    /// [`Backend::run_stage`](zpark::engine::Backend::run_stage) on Spark.
    pub(super) fn run_stage_on_spark<'a>(
        &'a self,
        engine: &'a Engine,
        stage: &'a dyn StageRun,
    ) -> BoxFuture<'a, zpark::Result<StageRows>> {
        async move {
            let plan = stage.plan();
            if plan.stays_on_driver() {
                return stage.run_here(engine).await;
            }
            let data = self.translate(engine, plan).await?;
            self.fetch(&data, stage.output()).await.map(StageRows::Rows)
        }
        .boxed()
    }

    /// `plan` as data on the server.
    fn translate<'a>(&'a self, engine: &'a Engine, plan: Plan) -> BoxFuture<'a, zpark::Result<ClusterData>> {
        async move {
            match plan {
                Plan::Rows(rows) => self.upload(engine, rows).await,
                Plan::Files(files) if files.paths().is_empty() => self.upload(engine, files.into_rows()).await,
                Plan::Files(files) => Ok(Planned::plan(crate::files::read(files.format(), files.paths()))),
                Plan::Project(project) if !crate::files::has_expression(project.projection()) => {
                    self.upload(engine, project.into_rows()).await
                }
                Plan::Project(project) => {
                    let (projection, input) = project.into_parts();
                    let input = self.translate(engine, input).await?;
                    let projected = crate::files::project(Self::relation(&input)?.clone(), &projection)
                        .ok_or_else(|| zpark::Error::Internal(format!("no Spark expression for the {projection}")))?;
                    Ok(Planned::plan(projected))
                }
                Plan::Stage(stage) => {
                    let input = |input| self.translate(engine, input);
                    stage
                        .translate_once(&self.url, input, |op, input| self.stage(op, input))
                        .await
                }
                Plan::Union(inputs) => {
                    self.union(&Plan::translate_each(inputs, |input| self.translate(engine, input)).await?)
                }
                Plan::Persisted(persisted) => {
                    let build = |input| self.translate(engine, input);
                    persisted.keep(build, |data| self.persist(data)).await
                }
            }
        }
        .boxed()
    }

    /// Rows made on the driver, as a relation.
    async fn upload(&self, engine: &Engine, rows: DriverRows) -> zpark::Result<ClusterData> {
        let encoder = self.registry.get(rows.row()).map_err(|e| self.cluster_error(e))?;
        let rows = encoder
            .encode(rows.compute(engine).await?)
            .map_err(|e| self.cluster_error(e))?;
        let relation = relation::from_batch(&rows, self.max_rows).map_err(|e| self.cluster_error(e))?;
        Ok(ClusterData::new(Planned {
            relation,
            rows: Some(rows),
            shareable: None,
        }))
    }

    /// The built-in `op` over `input`: a stage straight over rows of the driver may share its
    /// plan with other slices in flight (`shared.rs`).
    fn stage(&self, op: StageOp, input: &ClusterData) -> zpark::Result<ClusterData> {
        let input = Self::planned(input)?;
        Ok(ClusterData::new(Planned {
            relation: relation::stage(op, input.relation.clone(), Slices::One),
            rows: None,
            shareable: input.rows.clone().map(|rows| (op, rows)),
        }))
    }

    fn union(&self, inputs: &[ClusterData]) -> zpark::Result<ClusterData> {
        let mut relations = inputs.iter().map(Self::relation);
        let first = relations
            .next()
            .ok_or_else(|| zpark::Error::Internal("a union of no data on the cluster".into()))??
            .clone();
        let all = relations.try_fold(first, |all, next| {
            Ok::<_, zpark::Error>(relation::union(all, next?.clone()))
        })?;
        Ok(Planned::plan(all))
    }

    /// Caches `data` on the server; the [`Release`] unpersists it, sent even when its future
    /// is dropped (a persisted `Rdd` dropped from synchronous code).
    async fn persist(&self, data: ClusterData) -> zpark::Result<Release> {
        self.on_plan(&data, |client, plan| async move { client.persist(&plan).await })
            .await?;
        let relation = Self::relation(&data)?.clone();
        let (client, url) = (self.client.clone(), self.url.clone());
        let runtime = self.runtime.0.as_ref().map(|runtime| runtime.handle().clone());
        Ok(Box::new(move || {
            let Some(runtime) = runtime else {
                return futures::future::ready(Ok(())).boxed();
            };
            let sent = runtime.spawn(async move { client.unpersist(&relation).await });
            async move {
                sent.await
                    .map_err(|e| zpark::Error::cluster(url.clone(), format!("the request's task failed: {e}")))?
                    .map_err(|e| zpark::Error::cluster(url, e))
            }
            .boxed()
        }))
    }

    /// Computes `data` on the server and brings its rows back: a `Box<Vec<R>>` where `R` is
    /// `row`.
    fn fetch(&self, data: &ClusterData, row: DataType) -> BoxFuture<'static, zpark::Result<Box<dyn Any + Send>>> {
        let prepared = Self::planned(data).and_then(|planned| {
            let decoder = self.registry.get(row).map_err(|e| self.cluster_error(e))?;
            Ok((planned.relation.clone(), planned.shareable.clone(), decoder))
        });
        let (plan, shareable, decoder) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return futures::future::ready(Err(error)).boxed(),
        };
        let work = match shareable {
            Some((op, rows)) => Work::Stage(op, rows),
            None => Work::Plan(Box::new(plan)),
        };
        let sharing = std::sync::Arc::clone(&self.sharing);
        self.on_client(async move { sharing.fetch(work, decoder).await })
    }
}
