//! Row 1 in a loop, for a profiler: `perf record -g target/release/examples/profile_count_by_value`.
use futures::executor::block_on;
use zpark::prelude::*;

fn main() {
    let engine = Engine::local(2);
    // Row 1's keys: 0..1000 with a stride of 617.
    let data: Vec<u64> = (0..1_000_000u64).map(|i| i * 617 % 1000).collect();
    let rdd = engine.parallelize(data, 2);
    let t = std::time::Instant::now();
    for _ in 0..2000 {
        let c = block_on(rdd.count_by_value().collect()).expect("count_by_value");
        assert_eq!(c.len(), 1000);
    }
    println!("{:.3} ms per count_by_value", t.elapsed().as_secs_f64() / 2000.0 * 1e3);
}
