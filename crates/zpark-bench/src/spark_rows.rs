//! Rows 6, 8 and 9: the Spark engine's per-slice round trips of `count_by_value` over slices of
//! 1 000 and 100 000 keys, against (a) a bare call of the Spark Connect client crate doing the
//! same work (an Arrow batch made by hand, the same plan, the result read by hand) and (b) the
//! embedded engine, all in the same run; then the throughput with several slices in flight
//! against one at a time. Needs a Spark Connect server (`scripts/spark-server.sh start`).
//!
//! `cargo run --release -p zpark-bench --features spark -- --spark sc://127.0.0.1:15002 [--quick]`

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use arrow::array::{Array, Int64Array, StructArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use spark_connect_core::{ChannelBuilder, SparkConnectClient};
use spark_connect_proto as proto;
use zpark::prelude::*;
use zpark_spark::{codec, relation, Options};

use crate::rows::{median, Keys};
use crate::{Row, Scale};

/// `n` keys; slices with different `salt`s hold the keys in different orders.
fn keys(n: usize, salt: u64) -> Vec<u64> {
    Keys::default().skip((salt % 1000) as usize).take(n).collect()
}

/// The bare client: the slice as an Int64 column made by hand, the plan, the rows read by hand.
async fn bare_round_trip(client: &SparkConnectClient, data: &[u64]) -> anyhow::Result<usize> {
    let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Int64, false)]));
    let column = Int64Array::from(data.iter().map(|&k| k as i64).collect::<Vec<_>>());
    let batch = RecordBatch::try_new(schema, vec![Arc::new(column)])?;
    let bytes = codec::to_ipc(&[batch])?;
    let local = proto::Relation {
        common: None,
        rel_type: Some(proto::relation::RelType::LocalRelation(proto::LocalRelation {
            data: Some(bytes.into()),
            schema: None,
        })),
    };
    let request = proto::ExecutePlanRequest {
        session_id: client.session_id().to_string(),
        user_context: Some(proto::UserContext {
            user_id: "bench".into(),
            ..Default::default()
        }),
        plan: Some(proto::Plan {
            op_type: Some(proto::plan::OpType::Root(relation::count_by_value(local))),
        }),
        ..Default::default()
    };
    let mut responses = client.execute_plan(request).await.context("the bare client's plan")?;
    let mut keys = 0;
    while let Some(response) = responses.message().await? {
        if let Some(proto::execute_plan_response::ResponseType::ArrowBatch(batch)) = response.response_type {
            for batch in codec::from_ipc(&batch.data)? {
                let pairs = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<StructArray>()
                    .context("the result is not (key, count) pairs")?;
                keys += pairs.len();
            }
        }
    }
    Ok(keys)
}

/// Seconds per slice for `slices` slices of `n` keys through
/// `parallelize → count_rdd_by_value → continuize_buffered(in_flight)`.
async fn zpark_per_slice(engine: &Engine, n: usize, slices: usize, in_flight: usize) -> anyhow::Result<f64> {
    let data: Vec<u64> = (0..slices).flat_map(|s| keys(n, s as u64)).collect();
    let started = Instant::now();
    let mut counts = std::pin::pin!(futures::stream::iter(data)
        .parallelize(engine, n)
        .count_rdd_by_value()
        .continuize_buffered(in_flight));
    let mut results = 0;
    while let Some(count) = counts.next().await {
        count?; // a failed slice fails the row
        results += 1;
    }
    anyhow::ensure!(results >= slices, "{results} results for {slices} slices");
    Ok(started.elapsed().as_secs_f64() / slices as f64)
}

fn ms(seconds: f64) -> String {
    format!("{:.1} ms", seconds * 1e3)
}

/// The Spark rows against the server at `url`: row 6 and row 8 for each slice size, then row 9.
pub fn rows(url: &str, scale: Scale) -> anyhow::Result<Vec<Row>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(measure(url, scale.repeats.min(7)))
}

async fn measure(url: &str, repeats: usize) -> anyhow::Result<Vec<Row>> {
    let quick = repeats < 7;
    let partitions = Options::default().shuffle_partitions.unwrap_or(4);
    let sequential = zpark_spark::builder(url).slices_in_flight(1).connect().await?;
    let pipelined = zpark_spark::builder(url).slices_in_flight(4).connect().await?;
    let embedded = Engine::local(2);
    let bare = SparkConnectClient::connect(&ChannelBuilder::parse(url)?)
        .await
        .with_context(|| format!("the bare client cannot reach {url}"))?;
    bare.set_config("spark.sql.shuffle.partitions", &partitions.to_string())
        .await?;
    let mut rows = Vec::new();
    for (n, slices) in [
        (1000usize, if quick { 4 } else { 8 }),
        (100_000, if quick { 2 } else { 4 }),
    ] {
        // Warm both paths up (Spark compiles its plans on first use).
        bare_round_trip(&bare, &keys(n, 0)).await?;
        zpark_per_slice(&sequential, n, 1, 1).await?;
        let (mut zpark, mut baseline, mut local) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..repeats {
            // Alternate, so that a noisy stretch of the machine hits both alike.
            let started = Instant::now();
            for s in 0..slices {
                anyhow::ensure!(
                    bare_round_trip(&bare, &keys(n, s as u64)).await? > 0,
                    "no rows from the bare client"
                );
            }
            baseline.push(started.elapsed().as_secs_f64() / slices as f64);
            zpark.push(zpark_per_slice(&sequential, n, slices, 1).await?);
            local.push(zpark_per_slice(&embedded, n, slices, 1).await?);
        }
        let (zpark, baseline, local) = (median(zpark), median(baseline), median(local));
        rows.push(Row {
            number: 6,
            workload: format!("Spark engine ({url}), count_by_value, slices of {n} keys"),
            figure: format!("{} per slice", ms(zpark)),
            baseline: format!("{} per slice on the embedded engine", ms(local)),
            target: "reported".into(),
            met: None,
            note: format!("spark.sql.shuffle.partitions = {partitions}; slower on Spark"),
            result: format!("{:.0}x", zpark / local),
        });
        let above = (zpark / baseline - 1.0) * 100.0;
        rows.push(Row {
            number: 8,
            workload: format!("Spark round trip, count_by_value, slices of {n} keys"),
            figure: format!("{} per slice", ms(zpark)),
            baseline: format!("{} per slice, a bare call of the client crate", ms(baseline)),
            target: "<= +15 %".into(),
            met: Some(above <= 15.0),
            note: "above the bare client".into(),
            result: format!("{above:+.1} %"),
        });
    }
    let n = 1000;
    let slices = if quick { 8 } else { 16 };
    let (mut one, mut four) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        one.push(zpark_per_slice(&sequential, n, slices, 1).await?);
        four.push(zpark_per_slice(&pipelined, n, slices, 4).await?);
    }
    let (one, four) = (median(one), median(four));
    rows.push(Row {
        number: 9,
        workload: format!("Spark engine, slices of {n} keys, 4 in flight"),
        figure: format!("{} per slice", ms(four)),
        baseline: format!("{} per slice, 1 at a time", ms(one)),
        target: ">= 2x".into(),
        met: Some(one / four >= 2.0),
        note: "throughput against 1 at a time".into(),
        result: format!("{:.2}x", one / four),
    });
    Ok(rows)
}
