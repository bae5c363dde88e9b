//! The Spark Connect server frozen (SIGSTOP) for longer than a plan may take: the keep-alive
//! pings notice it within seconds, the plan is sent again, and the slice is an `Err` item when
//! the retries run out; the stream never hangs and goes on right once the server runs again
//! (SIGCONT). `#[ignore]`d (it stops the server of `scripts/spark-server.sh`); `scripts/test.sh`
//! runs it. Its own test binary, so that no other test sees the freeze.

use std::time::{Duration, Instant};

use futures::StreamExt;
use zpark::prelude::*;
use zpark_spark::Options;

mod common;

use common::{signal_server, spark_url};

/// Sends SIGCONT when dropped: the server runs again whatever the test does.
struct Thaw;

impl Drop for Thaw {
    fn drop(&mut self) {
        signal_server("-CONT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops the Spark Connect server of scripts/spark-server.sh for a while"]
async fn a_frozen_server_is_a_lost_connection_then_an_err_item_and_the_stream_goes_on() {
    let url = spark_url();
    let options = Options {
        attempts: 2,
        grace_period: Duration::ZERO,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(200),
        connect_timeout: Duration::from_secs(3),
        plan_timeout: Duration::from_secs(4),
        keep_alive_interval: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(2),
        ..Options::default()
    };
    let engine = zpark_spark::builder(&url)
        .options(options)
        .slices_in_flight(1)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    const SLICES: u64 = 6;
    let started = Instant::now();
    let thaw = std::sync::Arc::new(std::sync::Mutex::new(None::<Thaw>));
    let frozen = std::sync::Arc::clone(&thaw);
    // Slice 3 is sent to a server frozen for 10 s: longer than the plan limit (4 s) and than
    // its two attempts (each cut at about 3 s by the pings, the connect timeout or the limit),
    // shorter than the stream.
    let slices = futures::stream::iter(0..SLICES * 100)
        .chunks(100)
        .then(move |chunk| {
            let frozen = std::sync::Arc::clone(&frozen);
            async move {
                if chunk[0] == 200 {
                    signal_server("-STOP");
                    *frozen.lock().expect("lock") = Some(Thaw);
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(10));
                        drop(frozen.lock().expect("lock").take());
                    });
                }
                futures::stream::iter(chunk)
            }
        })
        .flatten()
        .parallelize(&engine, 100)
        .count_rdd()
        .continuize();
    let results: Vec<zpark::Result<u64>> = tokio::time::timeout(Duration::from_secs(90), slices.collect())
        .await
        .expect("the stream never hangs");
    drop(thaw.lock().expect("lock").take());
    assert_eq!(results.len() as u64, SLICES, "one item per slice: {results:?}");
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.report().to_string()))
        .collect();
    assert!(!failed.is_empty(), "the slice sent to the frozen server is an Err item");
    assert!(failed.iter().all(|e| e.contains("gave up")), "{failed:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .all(|count| *count == 100),
        "the slices that came back are right: {results:?}"
    );
    assert!(
        results.last().is_some_and(Result::is_ok),
        "the stream goes on once the server runs again: {results:?}"
    );
    let took = started.elapsed();
    eprintln!("{SLICES} slices, {} failed, in {took:?}", failed.len());
    assert!(
        took < Duration::from_secs(60),
        "the freeze cost {took:?}, not a plan limit of 20 s per attempt"
    );
}
