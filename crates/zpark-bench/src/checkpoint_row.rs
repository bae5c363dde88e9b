//! Row 7: what checkpointing costs. The kill test's pipeline (per-slice sums by key, a window
//! of 5 slices, running totals by key) over a file, in slices of about 100 ms of work: with a checkpoint and
//! the exactly-once slice-file sink (two `fsync`ed renames per slice) against the same
//! pipeline with neither, in the same run.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use zpark::checkpoint::{Pipeline, Replay, Slicing};
use zpark::prelude::*;
use zpark::sink::{SliceFiles, SliceLines};
use zpark_testkit::checkpointed::WindowAndTotals;

use crate::rows::median;
use crate::{Row, Scale};

const SLICE: Duration = Duration::from_millis(100);

fn write_input(path: &Path, lines: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for i in 0..lines {
        writeln!(out, "k{:03} {}", (i * 7919) % 1000, i % 10)?;
    }
    out.flush()
}

/// One run over `input`.
async fn one_run(engine: &Engine, input: &Path, slicing: Slicing, work: Option<&Path>) -> anyhow::Result<Measured> {
    let mut stage = WindowAndTotals::default();
    let mut pipeline = Pipeline::new(engine, slicing, "input", Replay::FromPosition);
    if let Some(work) = work {
        pipeline = pipeline.checkpoint(work.join("checkpoint")).reset_checkpoint();
    }
    let run = pipeline.start(&mut stage)?;
    let lines = zpark::source::lines_from(input, run.position()).map(|line| line.unwrap_or_else(|e| panic!("{e}")));
    if let Some(work) = work {
        // The previous run's output: the harness's cleaning, not this run's work (unlinking
        // its 20 files took 5-7 ms, 0.4 % of a run).
        let _ = std::fs::remove_dir_all(work.join("out"));
    }
    let started = Instant::now();
    let summary = match work {
        Some(work) => {
            let mut sink = SliceFiles::open(work.join("out"), 0)?;
            run.run(lines, &mut stage, &mut sink).await?
        }
        None => {
            run.run(lines, &mut stage, &mut SliceLines::new(std::io::sink(), "nowhere"))
                .await?
        }
    };
    Ok(Measured {
        rate: summary.elements as f64 / started.elapsed().as_secs_f64(),
        slices: summary.slices,
        committing_per_slice: summary.committing / u32::try_from(summary.slices.max(1)).unwrap_or(u32::MAX),
    })
}

struct Measured {
    /// Records per second.
    rate: f64,
    slices: u64,
    /// Output and checkpoint writes per slice.
    committing_per_slice: Duration,
}

/// Row 7.
pub fn checkpoint_overhead(scale: Scale) -> anyhow::Result<Row> {
    let work: PathBuf = std::env::temp_dir().join(format!("zpark-bench-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let input = work.join("input.txt");
    write_input(&input, scale.checkpoint_lines)?;
    let engine = Engine::connect("local[2]")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (mut with, mut without, mut slices, mut committing) = (Vec::new(), Vec::new(), 0, Vec::new());
    // Slices of about 100 ms of work: counted (so that both variants cut the same slices), with
    // the count calibrated by a first run on the clock.
    let calibration = runtime.block_on(one_run(&engine, &input, Slicing::Every(SLICE), None))?;
    let slicing = Slicing::Count((calibration.rate * SLICE.as_secs_f64()) as usize);
    for repeat in 0..scale.repeats * 3 {
        // Alternate which goes first, so that a noisy stretch of the machine hits both alike.
        let mut pair = [None, Some(work.as_path())];
        if repeat % 2 == 1 {
            pair.reverse();
        }
        for variant in pair {
            let measured = runtime.block_on(one_run(&engine, &input, slicing, variant))?;
            match variant {
                Some(_) => {
                    with.push(measured.rate);
                    slices = measured.slices;
                    committing.push(measured.committing_per_slice.as_secs_f64());
                }
                None => without.push(measured.rate),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    // Each pair ran back to back: the median of the pairs' ratios cancels slow drifts of the
    // shared machine better than the ratio of the medians.
    let ratio = median(with.iter().zip(&without).map(|(w, wo)| w / wo).collect());
    let (with, without, committing) = (median(with), median(without), median(committing));
    let change = match ratio {
        r if r <= 1.0 => format!("{:.1} % less", (1.0 - r) * 100.0),
        r => format!("{:.1} % more, within noise", (r - 1.0) * 100.0),
    };
    Ok(Row {
        number: 7,
        workload: format!(
            "checkpoint + exactly-once sink at 100 ms slices: {} lines, window and keyed state ({slices} slices, {slicing})",
            scale.checkpoint_lines
        ),
        figure: format!("{:.2} M records/s", with / 1e6),
        baseline: format!("{:.2} M records/s without checkpoint", without / 1e6),
        note: format!(
            "{change}; writes and commit {:.2} ms per 100 ms slice (while the next is read); throughput",
            committing * 1e3
        ),
        result: format!("{ratio:.3}x"),
        target: ">= 0.95x".into(),
        met: Some(ratio >= 0.95),
    })
}
