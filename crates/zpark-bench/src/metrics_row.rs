//! Row 15: what a metrics listener costs per slice. Row 2's pipeline (slices of 1 000 records,
//! `parallelize -> count_rdd_by_value -> continuize`) with and without `continuize().metrics()`
//! read by the consumer, paired runs back to back.

use futures::executor::block_on;
use futures::StreamExt;
use zpark::prelude::*;

use crate::rows::median;
use crate::{Row, Scale};

const SLICES: usize = 2000;
const PER_SLICE: usize = 1000;

fn run(engine: &Engine, listen: bool) -> f64 {
    let started = std::time::Instant::now();
    block_on(async {
        let mut results = futures::stream::iter(0..(SLICES * PER_SLICE) as u64)
            .map(|n| n % 1000)
            .parallelize(engine, PER_SLICE)
            .count_rdd_by_value()
            .continuize();
        let metrics = listen.then(|| results.metrics());
        let counted = results
            .fold(0u64, |n, r| async move { n + r.map_or(0, |(_, c)| c) })
            .await;
        assert_eq!(counted, (SLICES * PER_SLICE) as u64);
        if let Some(metrics) = metrics {
            let slices = metrics.count().await;
            assert_eq!(slices, SLICES);
        }
    });
    started.elapsed().as_secs_f64()
}

pub fn listener_overhead(scale: Scale) -> anyhow::Result<Row> {
    let engine = Engine::connect("local[2]")?;
    run(&engine, true); // warm up
    run(&engine, false);
    let pairs: Vec<(f64, f64)> = (0..scale.repeats * 3)
        .map(|_| (run(&engine, true), run(&engine, false)))
        .collect();
    let per_slice = |seconds: f64| seconds / SLICES as f64 * 1e6;
    let with = per_slice(median(pairs.iter().map(|p| p.0).collect()));
    let without = per_slice(median(pairs.iter().map(|p| p.1).collect()));
    let above = median(pairs.iter().map(|(w, wo)| per_slice(w - wo)).collect());
    Ok(Row {
        number: 15,
        workload: "row 2's pipeline (slices of 1 000 records) with a metrics listener on continuize".into(),
        figure: format!("{with:.1} us/slice"),
        baseline: format!("{without:.1} us/slice without a listener"),
        note: format!("above the baseline, median of {} paired runs", pairs.len()),
        result: format!("{above:+.2} us"),
        target: "<= 2 us above".into(),
        met: Some(above <= 2.0),
    })
}
