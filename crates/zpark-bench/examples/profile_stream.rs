//! Row 3 alone (three runs on one engine, the first cold), for a profiler: `perf record -g target/release/examples/profile_stream [THREADS] [RECORDS]`.
use futures::executor::block_on;
use futures::StreamExt;
use zpark::prelude::*;

fn main() {
    let threads = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let engine = Engine::local(threads);
    let n = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30_000_000u64);
    // The first run warms the engine's buffers; the ones after it are what row 3 times.
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let total = block_on(
            // Row 3's keys: 0..1000 with a stride of 617.
            futures::stream::iter((0..n).scan(0u64, |key, _| {
                let this = *key;
                *key += 617;
                if *key >= 1000 {
                    *key -= 1000;
                }
                Some(this)
            }))
            .parallelize(&engine, 1_000_000)
            .count_rdd_by_value()
            .continuize()
            .fold(0u64, |acc, r| async move { acc + r.map_or(0, |(_, c)| c) }),
        );
        assert_eq!(total, n);
        println!("{:.2} ns per record", t.elapsed().as_secs_f64() / n as f64 * 1e9);
    }
}
