//! Row 1 in a loop, for a profiler: `perf record -g target/release/examples/profile_count_by_value`.
use futures::executor::block_on;
use zpark::prelude::*;

fn main() {
    let engine = Engine::local(2);
    let data: Vec<u64> = (0..1_000_000u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) % 1000)
        .collect();
    let rdd = engine.parallelize(data, 2);
    let t = std::time::Instant::now();
    for _ in 0..2000 {
        let c = block_on(rdd.count_by_value().collect()).expect("count_by_value");
        assert_eq!(c.len(), 1000);
    }
    println!("{:.3} ms per count_by_value", t.elapsed().as_secs_f64() / 2000.0 * 1e3);
}
