//! Row 14: windowed reductions in constant time per slide. `reduce_by_key_and_window(+)` over
//! slices of 10 000 pairs with 1 000 keys, sliding by one slice, windows of 10, 100 and 1 000
//! slices; the baseline is the window recomputed from its slices' reductions at every slide
//! (the path before two stacks: `window_rdd` over the reduced slices, then `reduce_by_key`).

use std::time::{Duration, Instant};

use futures::executor::block_on;
use futures::{Stream, StreamExt};
use zpark::prelude::*;

use crate::rows::median;
use crate::{Row, Scale};

const PAIRS: usize = 10_000;
const KEYS: u64 = 1_000;
const WINDOWS: [u32; 3] = [10, 100, 1_000];
const D: Duration = Duration::from_millis(100);

/// One slice's pairs: every key 10 times, in a stride order.
fn slice_pairs() -> Vec<(u64, u64)> {
    (0..PAIRS as u64).map(|i| ((i * 617) % KEYS, 1)).collect()
}

/// `n` slices every 100 ms (by their times; nothing waits).
fn slices(engine: &Engine, n: usize) -> impl Stream<Item = (SliceTime, Rdd<(u64, u64)>)> + Unpin {
    let pairs = slice_pairs();
    let engine = engine.clone();
    futures::stream::iter(1..=n as u32)
        .map(move |k| (SliceTime::with_interval(D * k, D), engine.parallelize(pairs.clone(), 2)))
}

/// The median time between two windows once the window is full, over `measured` slides:
/// each window's result counted (and so computed) as it comes; the windows before are
/// dropped unread (the recomputing baseline then costs nothing while its window fills).
fn per_slide(
    windows: impl Stream<Item = (SliceTime, Rdd<(u64, u64)>)> + Unpin,
    full_after: usize,
    measured: usize,
) -> anyhow::Result<f64> {
    block_on(async move {
        let mut windows = windows.skip(full_after - 1).take(measured + 1);
        let mut times = Vec::new();
        while let Some((_, rdd)) = windows.next().await {
            let keys = rdd.count().await?;
            anyhow::ensure!(keys == KEYS, "a window of {keys} keys, not {KEYS}");
            times.push(Instant::now());
        }
        let gaps: Vec<f64> = times.windows(2).map(|t| (t[1] - t[0]).as_secs_f64()).collect();
        Ok(median(gaps))
    })
}

fn two_stacks(engine: &Engine, window: u32, measured: usize) -> anyhow::Result<f64> {
    let n = window as usize + measured + 1;
    let windows = slices(engine, n).reduce_by_key_and_window(|a, b| a + b, D * window, D);
    per_slide(windows.take(n), window as usize, measured)
}

fn recomputed(engine: &Engine, window: u32, measured: usize) -> anyhow::Result<f64> {
    let n = window as usize + measured + 1;
    let windows = slices(engine, n)
        .map(|(time, rdd)| (time, rdd.reduce_by_key(|a, b| a + b).persist()))
        .window_rdd(D * window, D)
        .map(|(time, rdd)| (time, rdd.reduce_by_key(|a, b| a + b)));
    per_slide(windows.take(n), window as usize, measured)
}

pub fn sliding_window(scale: Scale) -> anyhow::Result<Row> {
    let engine = Engine::connect("local[2]")?;
    // The recomputed windows take up to a third of a second a slide: fewer of them.
    let (measured, measured_baseline) = (scale.repeats * 8, scale.repeats * 2);
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for window in WINDOWS {
        eprintln!("  window of {window} slices...");
        ours.push(two_stacks(&engine, window, measured)?);
        theirs.push(recomputed(&engine, window, measured_baseline)?);
    }
    let ms = |s: f64| format!("{:.2}", s * 1e3);
    let growth = ours[2] / ours[0];
    let speedup = theirs[2] / ours[2];
    Ok(Row {
        number: 14,
        workload: "reduce_by_key_and_window(+), slices of 10 000 pairs with 1 000 keys, slide 1 slice, windows of 10 / 100 / 1 000 slices, local[2]".into(),
        figure: format!(
            "{} / {} / {} ms per slide",
            ms(ours[0]),
            ms(ours[1]),
            ms(ours[2])
        ),
        baseline: format!(
            "the window recomputed from its slices: {} / {} / {} ms per slide",
            ms(theirs[0]),
            ms(theirs[1]),
            ms(theirs[2])
        ),
        note: format!(
            "median of {measured} slides once full ({measured_baseline} recomputed); at 1 000 slices {growth:.2}x the 10-slice window's time; speedup over recomputing"
        ),
        result: format!("{speedup:.1}x"),
        target: ">= 20x, and <= 2x the 10-slice time at 1 000".into(),
        met: Some(speedup >= 20.0 && growth <= 2.0),
    })
}
