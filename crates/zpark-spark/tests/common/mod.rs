//! What the Spark test files share: the server's URL, and signals to the server that
//! `scripts/spark-server.sh` started. (Each test file uses some of it.)
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
