//! `zpark tour --engine sc://...` (built with `--features spark`): every pipeline of the tour
//! gives on Spark what it gives on the embedded engine. `#[ignore]`d: it needs a Spark Connect
//! server, which `scripts/test.sh` starts before running it with `--ignored`.
#![cfg(feature = "spark")]

use std::process::Command;

fn tour(engine: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_zpark"))
        .args(["tour", "--engine", engine])
        .output()
        .expect("run zpark");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "tour on {engine}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Each section's result lines, without the timestamps (the first line names the engine).
fn sections(stdout: &str) -> Vec<(String, Vec<String>)> {
    stdout
        .split("\n== ")
        .skip(1)
        .map(|part| {
            let mut lines = part.lines();
            let title = lines.next().unwrap_or_default().to_string();
            let results = lines
                .map(|line| line.split("*** ").last().unwrap_or(line).to_string())
                .filter(|line| !line.is_empty())
                .collect();
            (title, results)
        })
        .collect()
}

#[test]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
fn every_tour_pipeline_gives_on_spark_what_it_gives_embedded() {
    let url = std::env::var("ZPARK_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".to_string());
    let (spark, local) = (sections(&tour(&url)), sections(&tour("local[2]")));
    assert_eq!(spark.len(), 8);
    assert_eq!(spark.len(), local.len());
    for ((title, on_spark), (_, embedded)) in spark.into_iter().zip(local) {
        // Inside a slice, shuffled results come in the engine's hash order (as in Spark): the
        // sections of shuffles compare as multisets, the others line by line, slice by slice.
        let shuffled = ["2.", "6.", "7."].iter().any(|n| title.starts_with(n));
        let (mut on_spark, mut embedded) = (on_spark, embedded);
        if shuffled {
            on_spark.sort();
            embedded.sort();
        }
        assert_eq!(on_spark, embedded, "section {title}");
    }
}
