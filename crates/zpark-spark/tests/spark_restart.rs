//! A Spark Connect server that dies in the middle of a stream and comes back: every slice
//! either comes back right or as an `Err` item for that slice; none is dropped, none hangs,
//! none comes back wrong. `#[ignore]`d (it stops and starts the server of
//! `scripts/spark-server.sh`); `scripts/test.sh` runs it with `--ignored`. Its own test
//! binary, so that no other test sees the restart.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use zpark::prelude::*;
use zpark_spark::Options;

fn server(action: &str) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/spark-server.sh");
    let status = Command::new(script).arg(action).status().expect("run spark-server.sh");
    assert!(status.success(), "spark-server.sh {action} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops and restarts the Spark Connect server of scripts/spark-server.sh"]
async fn slices_sent_while_the_server_restarts_come_back_right_or_as_errors() {
    let url = common::spark_url();
    let options = Options {
        attempts: 3,
        grace_period: Duration::ZERO,
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        ..Options::default()
    };
    let engine = common::engine_with(&url, options, 4).await;
    const SLICES: u64 = 60;
    let started = Instant::now();
    // 60 slices of 1 000 numbers, one every 500 ms; the server dies after slice 5 and is
    // started again 3 s later (it answers some 10 s after that).
    let slices = futures::stream::iter(0..SLICES * 1000)
        .chunks(1000)
        .then(|chunk| async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if chunk[0] == 5000 {
                server("stop");
                tokio::task::spawn_blocking(|| {
                    std::thread::sleep(Duration::from_secs(3));
                    server("start");
                });
            }
            futures::stream::iter(chunk)
        })
        .flatten()
        .parallelize(&engine, 1000)
        .count_rdd()
        .continuize_buffered(2);
    let results: Vec<zpark::Result<u64>> = slices.collect().await;
    assert_eq!(results.len() as u64, SLICES, "one item per slice, none dropped");
    let (mut right, mut failed) = (0, 0);
    for (slice, result) in results.iter().enumerate() {
        match result {
            Ok(count) => {
                assert_eq!(*count, 1000, "slice {slice} came back wrong");
                right += 1;
            }
            Err(error) => {
                assert!(matches!(error.root(), Error::Cluster { .. }), "slice {slice}: {error}");
                assert!(error.report().to_string().contains(&url), "{error}");
                failed += 1;
            }
        }
    }
    eprintln!("{right} right, {failed} errors, in {:?}", started.elapsed());
    assert!(failed > 0, "some slices should have met the dead server");
    let last: Vec<bool> = results.iter().rev().take(10).map(Result::is_ok).collect();
    assert!(
        last.iter().all(|ok| *ok),
        "the slices after the restart should come back right: {last:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(180));
}
