//! `count_by_value` on slices of 1 000 000 u64 keys of several cardinalities, `local[2]`:
//! milliseconds per slice (median of 15), to see what the counting cache costs where keys
//! rarely repeat. `cargo run --release -p zpark-bench --example count_cardinality`
use futures::executor::block_on;
use zpark::prelude::*;

fn main() {
    let engine = Engine::local(2);
    for distinct in [10u64, 1_000, 100_000, 1_000_000] {
        let keys: Vec<u64> = (0..1_000_000u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) % distinct)
            .collect();
        let rdd = engine.parallelize(keys, 2);
        let mut times: Vec<f64> = (0..16)
            .map(|_| {
                let started = std::time::Instant::now();
                let counts = block_on(rdd.count_by_value().collect()).expect("count_by_value");
                assert!(counts.len() as u64 <= distinct);
                started.elapsed().as_secs_f64() * 1e3
            })
            .skip(1)
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{distinct:>9} distinct keys: {:.2} ms per slice",
            times[times.len() / 2]
        );
    }
}
