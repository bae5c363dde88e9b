//! A Spark Connect server that dies while plans are being sent, and comes back: every plan
//! either returns the right result or an error; none hangs, none returns a wrong result.
//! `#[ignore]`d (it stops and starts the server of `scripts/spark-server.sh`); `scripts/test.sh`
//! runs it with `--ignored`. Its own test binary, so that no other test sees the restart.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use zpark_spark::relation;
use zpark_spark::{Options, SparkClient, SparkError};

fn server(action: &str) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/spark-server.sh");
    let status = Command::new(script).arg(action).status().expect("run spark-server.sh");
    assert!(status.success(), "spark-server.sh {action} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops and restarts the Spark Connect server of scripts/spark-server.sh"]
async fn plans_sent_while_the_server_restarts_come_back_right_or_as_errors() {
    let options = Options {
        attempts: 3,
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        ..Options::default()
    };
    let url = std::env::var("ZPARK_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".to_string());
    let spark = SparkClient::connect(&url, options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let data: Vec<u64> = (0..1000).collect();
    let plan = relation::count(relation::local(&data, 10_000).unwrap());

    let (mut right, mut failed) = (0, 0);
    let mut restarted = false;
    let started = Instant::now();
    for slice in 0..40 {
        if slice == 5 {
            // The server dies between two plans, and comes back a while later.
            server("stop");
            let restart = tokio::task::spawn_blocking(|| {
                std::thread::sleep(Duration::from_secs(3));
                server("start");
            });
            tokio::spawn(async move { restart.await.expect("restart") });
            restarted = true;
        }
        let sent = Instant::now();
        match spark.collect::<u64>(&plan).await {
            Ok(count) => {
                assert_eq!(count, vec![1000], "slice {slice} came back wrong");
                right += 1;
            }
            Err(error) => {
                assert!(
                    matches!(error, SparkError::RetriesExhausted { .. }),
                    "slice {slice}: {error}"
                );
                assert!(error.to_string().contains(&url), "{error}");
                failed += 1;
            }
        }
        assert!(
            sent.elapsed() < Duration::from_secs(30),
            "slice {slice} took {:?}",
            sent.elapsed()
        );
        if restarted && right >= 10 && failed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!("{right} right, {failed} errors, in {:?}", started.elapsed());
    assert!(failed > 0, "some plans should have met the dead server");
    assert!(right >= 10, "plans should come back right once the server is up again");
}
