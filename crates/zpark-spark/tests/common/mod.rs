//! What the Spark test files share: the server's URL, signals to the server that
//! `scripts/spark-server.sh` started, an engine with options, and the disturbed stream of the
//! freeze and stall tests. (Each test file uses some of it.)
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The server's URL: `ZPARK_SPARK_URL`, or the one `scripts/spark-server.sh` starts.
pub fn spark_url() -> String {
    std::env::var("ZPARK_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".to_string())
}

/// `signal` (`-KILL`, `-STOP`, `-CONT`) to the server that `scripts/spark-server.sh` started
/// (its PID file).
pub fn signal_server(signal: &str) {
    let port = std::env::var("ZPARK_SPARK_PORT").unwrap_or_else(|_| "15002".to_string());
    let run = std::env::var("ZPARK_SPARK_RUN").unwrap_or_else(|_| {
        let tmp = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".to_string());
        format!("{tmp}/zpark-spark-{port}")
    });
    let pid = std::fs::read_to_string(PathBuf::from(run).join("server.pid")).expect("the server's PID file");
    let status = Command::new("kill").args([signal, pid.trim()]).status().expect("kill");
    assert!(status.success(), "{signal} to the server (PID {pid})");
}

/// The Spark engine at `url` with `options`, `in_flight` slices at once.
pub async fn engine_with(url: &str, options: zpark_spark::Options, in_flight: usize) -> zpark::Engine {
    zpark_spark::builder(url)
        .options(options)
        .slices_in_flight(in_flight)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()))
}

/// Slices of a disturbed stream: six slices of 100 numbers counted on `engine`, with
/// `disturb` called as slice 3 is read (it freezes the server, stalls the connection, ...);
/// the stream must end within `limit`. Checks what holds whatever the disturbance: one item
/// per slice, at least one of them an `Err` item, every slice that came back right, and the
/// last one back (the stream goes on). Returns the failed slices' messages, whole chains.
pub async fn six_slices_disturbed_at_the_third(
    engine: &zpark::Engine,
    disturb: impl Fn() + Send + Sync + 'static,
    limit: std::time::Duration,
) -> Vec<String> {
    use futures::StreamExt;
    use zpark::prelude::*;
    const SLICES: u64 = 6;
    let disturb = std::sync::Arc::new(disturb);
    let slices = futures::stream::iter(0..SLICES * 100)
        .chunks(100)
        .then(move |chunk| {
            let disturb = std::sync::Arc::clone(&disturb);
            async move {
                if chunk[0] == 200 {
                    disturb();
                }
                futures::stream::iter(chunk)
            }
        })
        .flatten()
        .parallelize(engine, 100)
        .count_rdd()
        .continuize();
    let results: Vec<zpark::Result<u64>> = tokio::time::timeout(limit, slices.collect())
        .await
        .expect("the stream never hangs");
    assert_eq!(results.len() as u64, SLICES, "one item per slice: {results:?}");
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.report().to_string()))
        .collect();
    assert!(!failed.is_empty(), "the disturbed slice is an Err item");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .all(|count| *count == 100),
        "the slices that came back are right: {results:?}"
    );
    assert!(
        results.last().is_some_and(Result::is_ok),
        "the stream goes on once the disturbance is over: {results:?}"
    );
    eprintln!("{SLICES} slices, {} failed", failed.len());
    failed
}
