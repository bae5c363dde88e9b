//! The Spark Connect server frozen (SIGSTOP) for longer than a plan may take: the keep-alive
//! pings notice it within seconds, the plan is sent again, and the slice is an `Err` item when
//! the retries run out; the stream never hangs and goes on right once the server runs again
//! (SIGCONT). `#[ignore]`d (it stops the server of `scripts/spark-server.sh`); `scripts/test.sh`
//! runs it. Its own test binary, so that no other test sees the freeze.

use std::time::{Duration, Instant};

use zpark_spark::Options;

mod common;

use common::{engine_with, signal_server, six_slices_disturbed_at_the_third, spark_url};

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
    let engine = engine_with(&url, options, 1).await;
    let started = Instant::now();
    let thaw = std::sync::Arc::new(std::sync::Mutex::new(None::<Thaw>));
    let frozen = std::sync::Arc::clone(&thaw);
    // Slice 3 is sent to a server frozen for 10 s: longer than the plan limit (4 s) and than
    // its two attempts (each cut at about 3 s by the pings, the connect timeout or the limit),
    // shorter than the stream.
    let freeze = move || {
        signal_server("-STOP");
        *frozen.lock().expect("lock") = Some(Thaw);
        let frozen = std::sync::Arc::clone(&frozen);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(10));
            drop(frozen.lock().expect("lock").take());
        });
    };
    let failed = six_slices_disturbed_at_the_third(&engine, freeze, Duration::from_secs(90)).await;
    drop(thaw.lock().expect("lock").take());
    assert!(failed.iter().all(|e| e.contains("gave up")), "{failed:?}");
    let took = started.elapsed();
    eprintln!("the freeze cost {took:?}");
    assert!(
        took < Duration::from_secs(60),
        "the freeze cost {took:?}, not a plan limit of 20 s per attempt"
    );
}
