//! The incremental window (`reduce_by_key_and_window_inv`) against the plain one
//! (`reduce_by_key_and_window`) for a window of 60 slices sliding by one slice.
//!
//! `cargo bench -p zpark --bench windows`

#![allow(missing_docs)] // criterion_group! makes an undocumented function

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::executor::block_on;
use futures::StreamExt;
use zpark::prelude::*;

const SLICES: u64 = 120;
const PER_SLICE: u64 = 20_000;
const KEYS: u64 = 1_000;
const WINDOW_SLICES: u64 = 60;

fn slices(engine: &Engine) -> Vec<(SliceTime, Rdd<(u64, i64)>)> {
    (1..=SLICES)
        .map(|k| {
            let data: Vec<(u64, i64)> = (0..PER_SLICE).map(|i| ((i * 7 + k) % KEYS, 1)).collect();
            (
                SliceTime::with_interval(Duration::from_millis(100 * k), Duration::from_millis(100)),
                engine.parallelize(data, 2),
            )
        })
        .collect()
}

fn windows(c: &mut Criterion) {
    let engine = Engine::local(2);
    let input = slices(&engine);
    let window = Duration::from_millis(100 * WINDOW_SLICES);
    let slide = Duration::from_millis(100);
    let mut group = c.benchmark_group("window of 60 slices, slide 1");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SLICES));
    group.bench_function("plain reduce_by_key_and_window", |b| {
        b.iter(|| {
            let total: usize = block_on(
                futures::stream::iter(input.clone())
                    .reduce_by_key_and_window(|a, b| a + b, window, slide)
                    .then(|(_, rdd)| async move { rdd.count().await.expect("window") as usize })
                    .fold(0, |acc, n| async move { acc + n }),
            );
            assert!(total > 0);
        })
    });
    group.bench_function("incremental reduce_by_key_and_window_inv", |b| {
        b.iter(|| {
            let total: usize = block_on(
                futures::stream::iter(input.clone())
                    .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, window, slide)
                    .then(|(_, rdd)| async move { rdd.count().await.expect("window") as usize })
                    .fold(0, |acc, n| async move { acc + n }),
            );
            assert!(total > 0);
        })
    });
    group.finish();
}

criterion_group!(benches, windows);
criterion_main!(benches);
