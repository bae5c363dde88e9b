//! Rows 1 and 2 of BENCHMARKS.md as criterion micro-benchmarks: `count_by_value` on a slice of
//! 1 000 000 keys against a one-thread `FxHashMap` loop, and slices of 1 000 keys through
//! `parallelize -> count_rdd_by_value -> continuize` against the same counting inline.
//! Each group holds zpark and its baseline, so criterion's report gives both in one run.
//!
//! `cargo bench -p zpark --bench count_by_value`

#![allow(missing_docs)] // criterion_group! makes an undocumented function

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::executor::block_on;
use futures::StreamExt;
use rustc_hash::FxHashMap;
use zpark::prelude::*;

const KEYS: u64 = 1_000;

/// 0..1000 walked with a stride of 617: every run of 1 000 keys holds each key once.
fn keys(n: usize) -> Vec<u64> {
    (0..n as u64).map(|i| i * 617 % KEYS).collect()
}

/// Not inlined, as in zpark-bench: inlined into the timing closure, the same loop ran up to
/// twice as slow from one run to the next (see BENCHMARKS.md, session 5).
#[inline(never)]
fn hashmap_count(keys: &[u64]) -> FxHashMap<u64, u64> {
    let mut counts = FxHashMap::default();
    for key in keys {
        *counts.entry(*key).or_insert(0) += 1;
    }
    counts
}

fn count_by_value(c: &mut Criterion) {
    const SLICE: usize = 1_000_000;
    let engine = Engine::local(2);
    let data = keys(SLICE);
    let slice = engine.parallelize(data.clone(), 2);
    let mut group = c.benchmark_group("count_by_value, 1 000 000 keys in 0..1000");
    group.throughput(Throughput::Elements(SLICE as u64));
    group.bench_function("baseline: one thread, FxHashMap", |b| {
        b.iter(|| black_box(hashmap_count(black_box(&data))))
    });
    group.bench_function("zpark local[2]", |b| {
        b.iter(|| {
            let counts = block_on(slice.count_by_value().collect()).expect("count_by_value");
            assert_eq!(counts.len(), KEYS as usize);
            counts
        })
    });
    group.finish();
}

fn per_slice_overhead(c: &mut Criterion) {
    const SLICES: usize = 200;
    const PER_SLICE: usize = 1_000;
    let engine = Engine::local(2);
    let data = keys(SLICES * PER_SLICE);
    let mut group = c.benchmark_group("200 slices of 1 000 keys");
    group.throughput(Throughput::Elements(SLICES as u64));
    group.bench_function("baseline: chunks counted inline", |b| {
        b.iter(|| {
            block_on(
                futures::stream::iter(data.iter().copied())
                    .chunks(PER_SLICE)
                    .map(|chunk| hashmap_count(&chunk).len())
                    .fold(0, |n, keys| async move { n + keys }),
            )
        })
    });
    group.bench_function("zpark parallelize -> count_rdd_by_value -> continuize", |b| {
        b.iter(|| {
            block_on(
                futures::stream::iter(data.iter().copied())
                    .parallelize(&engine, PER_SLICE)
                    .count_rdd_by_value()
                    .continuize()
                    .fold(0, |n, result| async move { n + usize::from(result.is_ok()) }),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, count_by_value, per_slice_overhead);
criterion_main!(benches);
