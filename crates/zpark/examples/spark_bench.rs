//! The Spark engine's benchmark: per-slice round trips of `count_by_value` over slices of
//! 1 000 and 100 000 keys, against (a) a bare call of the Spark Connect client crate doing the
//! same work (an Arrow batch made by hand, the same plan, the result read by hand) and (b) the
//! embedded engine, all in the same run; then the throughput with several slices in flight
//! against one at a time. Needs a Spark Connect server (`scripts/spark-server.sh start`).
//!
//! `cargo run --release -p zpark --features spark --example spark_bench [-- --quick] [-- --url sc://HOST:PORT]`

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, Int64Array, StructArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use spark_connect_core::{ChannelBuilder, SparkConnectClient};
use spark_connect_proto as proto;
use zpark::prelude::*;
use zpark::spark::{codec, relation, Options};

fn keys(n: usize, salt: u64) -> Vec<u64> {
    (0..n as u64)
        .map(|i| (i.wrapping_add(salt).wrapping_mul(2_654_435_761) >> 7) % 1000)
        .collect()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The bare client: the slice as an Int64 column made by hand, the plan, the rows read by hand.
async fn bare_round_trip(client: &SparkConnectClient, data: &[u64]) -> usize {
    let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Int64, false)]));
    let column = Int64Array::from(data.iter().map(|&k| k as i64).collect::<Vec<_>>());
    let batch = RecordBatch::try_new(schema, vec![Arc::new(column)]).expect("batch");
    let bytes = codec::to_ipc(&[batch]).expect("ipc");
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
    let mut responses = client.execute_plan(request).await.expect("execute");
    let mut keys = 0;
    while let Some(response) = responses.message().await.expect("response") {
        if let Some(proto::execute_plan_response::ResponseType::ArrowBatch(batch)) = response.response_type {
            for batch in codec::from_ipc(&batch.data).expect("arrow") {
                let pairs = batch.column(0).as_any().downcast_ref::<StructArray>().expect("pairs");
                keys += pairs.len();
            }
        }
    }
    keys
}

/// Seconds per slice for `slices` slices of `n` keys through
/// `parallelize → count_rdd_by_value → continuize_buffered(in_flight)`.
async fn zpark_per_slice(engine: &Engine, n: usize, slices: usize, in_flight: usize) -> f64 {
    let data: Vec<u64> = (0..slices).flat_map(|s| keys(n, s as u64)).collect();
    let started = Instant::now();
    let results = futures::stream::iter(data)
        .parallelize(engine, n)
        .count_rdd_by_value()
        .continuize_buffered(in_flight)
        .fold(0usize, |k, r| async move {
            r.expect("slice");
            k + 1
        })
        .await;
    assert!(results >= slices, "every slice has values");
    started.elapsed().as_secs_f64() / slices as f64
}

fn ms(seconds: f64) -> String {
    format!("{:.1} ms", seconds * 1e3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> zpark::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let url = args
        .iter()
        .position(|a| a == "--url")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "sc://127.0.0.1:15002".to_string());
    let repeats = if quick { 3 } else { 7 };
    let partitions = Options::default().shuffle_partitions.unwrap_or(4);
    println!(
        "spark_bench ({} mode) against {url}, spark.sql.shuffle.partitions = {partitions}",
        if quick { "quick" } else { "full" }
    );

    let sequential = zpark::spark::builder(&url).slices_in_flight(1).connect().await?;
    let pipelined = zpark::spark::builder(&url).slices_in_flight(4).connect().await?;
    let embedded = Engine::local(2);
    let bare = SparkConnectClient::connect(&ChannelBuilder::parse(&url).expect("url"))
        .await
        .expect("bare client");
    bare.set_config("spark.sql.shuffle.partitions", &partitions.to_string())
        .await
        .expect("config");

    for (n, slices) in [
        (1000usize, if quick { 4 } else { 8 }),
        (100_000, if quick { 2 } else { 4 }),
    ] {
        // Warm both paths up (Spark compiles its plans on first use).
        bare_round_trip(&bare, &keys(n, 0)).await;
        zpark_per_slice(&sequential, n, 1, 1).await;
        let (mut zpark, mut baseline, mut local) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..repeats {
            // Alternate, so that a noisy stretch of the machine hits both alike.
            let started = Instant::now();
            for s in 0..slices {
                assert!(bare_round_trip(&bare, &keys(n, s as u64)).await > 0);
            }
            baseline.push(started.elapsed().as_secs_f64() / slices as f64);
            zpark.push(zpark_per_slice(&sequential, n, slices, 1).await);
            local.push(zpark_per_slice(&embedded, n, slices, 1).await);
        }
        let (zpark, baseline, local) = (median(zpark), median(baseline), median(local));
        println!(
            "row 6 | count_by_value, slices of {n} keys | Spark engine {} per slice | embedded engine {} per slice | {:.0}x slower on Spark (reported)",
            ms(zpark),
            ms(local),
            zpark / local
        );
        println!(
            "row 8 | Spark round trip, slices of {n} keys | zpark {} per slice | bare client crate {} | target +15 % ({}) | {:+.1} %",
            ms(zpark),
            ms(baseline),
            if zpark <= baseline * 1.15 { "met" } else { "MISSED" },
            (zpark / baseline - 1.0) * 100.0
        );
    }

    let n = 1000;
    let slices = if quick { 8 } else { 16 };
    let (mut one, mut four) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        one.push(zpark_per_slice(&sequential, n, slices, 1).await);
        four.push(zpark_per_slice(&pipelined, n, slices, 4).await);
    }
    let (one, four) = (median(one), median(four));
    println!(
        "row 9 | slices of {n} keys in flight | 4 in flight {} per slice | 1 at a time {} per slice | target 2x ({}) | {:.2}x throughput",
        ms(four),
        ms(one),
        if one / four >= 2.0 { "met" } else { "MISSED" },
        one / four
    );
    Ok(())
}
