//! Row 1's turns run by run (`cargo run --release -p zpark-bench --example turns`): each zpark run of a
//! ten-run turn right after a turn of the one-thread baseline, median over 30 turns.
use futures::executor::block_on;
use rustc_hash::FxHashMap;
use std::hint::black_box;
use std::time::Instant;
use zpark::prelude::*;

#[inline(never)]
fn hashmap_count(keys: &[u64]) -> FxHashMap<u64, u64> {
    let mut counts = FxHashMap::default();
    for key in keys {
        *counts.entry(*key).or_insert(0) += 1;
    }
    counts
}

fn main() {
    let engine = Engine::local(2);
    let data: Vec<u64> = (0..1_000_000u64).map(|i| i * 617 % 1000).collect();
    let rdd = engine.parallelize(data.clone(), 2);
    let mut per_position = vec![Vec::new(); 10];
    let mut base = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        for _ in 0..10 {
            black_box(hashmap_count(black_box(&data)));
        }
        base.push(t.elapsed().as_secs_f64() / 10.0 * 1e3);
        for slot in per_position.iter_mut() {
            let t = Instant::now();
            let c = block_on(rdd.count_by_value().collect()).expect("count");
            black_box(c);
            slot.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("baseline {:.3} ms", med(base));
    for (i, v) in per_position.into_iter().enumerate() {
        println!("zpark run {i} of the turn: {:.3} ms", med(v));
    }
}
