//! The Spark Connect server killed with SIGKILL while plans run, and started again within the
//! retry budget: every slice comes back, right, once; none is lost, none doubled. A plan the
//! dead server was running is sent again. `#[ignore]`d (it kills and starts the server of
//! `scripts/spark-server.sh`); `scripts/test.sh` runs it. Its own test binary, so that no other
//! test sees the kill.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use zpark::prelude::*;
use zpark_spark::Options;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/spark-server.sh")
}

mod common;

use common::{signal_server, spark_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "kills and starts again the Spark Connect server of scripts/spark-server.sh"]
async fn slices_sent_while_the_server_is_killed_and_restarted_all_come_back_right() {
    let url = spark_url();
    // The default grace period (60 s) is longer than a restart (the server answers some 6 to
    // 15 s after it starts).
    let options = Options {
        initial_backoff: Duration::from_millis(250),
        max_backoff: Duration::from_secs(1),
        plan_timeout: Duration::from_secs(30),
        ..Options::default()
    };
    let engine = common::engine_with(&url, options, 2).await;
    const SLICES: u64 = 30;
    let started = Instant::now();
    let slices = futures::stream::iter(0..SLICES * 1000)
        .chunks(1000)
        .then(|chunk| async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if chunk[0] == 5000 {
                signal_server("-9");
                tokio::task::spawn_blocking(|| {
                    std::thread::sleep(Duration::from_secs(1));
                    let started = Command::new(script()).arg("start").status().expect("start the server");
                    assert!(started.success(), "spark-server.sh start");
                });
            }
            futures::stream::iter(chunk)
        })
        .flatten()
        .parallelize(&engine, 1000)
        .count_rdd()
        .continuize_buffered(2);
    // A server that did not come back would have each slice spend its whole budget.
    let results: Vec<zpark::Result<u64>> = tokio::time::timeout(Duration::from_secs(150), slices.collect())
        .await
        .expect("the slices came back within 150 s (did the server start again?)");
    assert_eq!(
        results.len() as u64,
        SLICES,
        "one item per slice, none lost, none doubled"
    );
    for (slice, result) in results.iter().enumerate() {
        match result {
            Ok(count) => assert_eq!(*count, 1000, "slice {slice} came back wrong"),
            Err(error) => panic!("slice {slice} was lost to the restart: {}", error.report()),
        }
    }
    eprintln!(
        "{SLICES} slices right across a SIGKILL and restart, in {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(180));
}
