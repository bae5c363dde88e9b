//! Row 3's driver alone: the stream sliced by `parallelize`, each slice only counted (`count_rdd`).
use futures::executor::block_on;
use futures::StreamExt;
use zpark::prelude::*;

fn main() {
    let engine = Engine::local(2);
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000_000u64);
    let t = std::time::Instant::now();
    let total = block_on(
        futures::stream::iter((0..n).scan(0u64, |key, _| {
            let this = *key;
            *key += 617;
            if *key >= 1000 {
                *key -= 1000;
            }
            Some(this)
        }))
        .parallelize(&engine, 1_000_000)
        .count_rdd()
        .continuize()
        .fold(0u64, |acc, r| async move { acc + r.unwrap_or(0) }),
    );
    assert_eq!(total, n);
    println!("{:.2} ns per record", t.elapsed().as_secs_f64() / n as f64 * 1e9);
}
