//! `zpark run --metrics FILE|-`: one JSON line per slice whose counts add up to the run's
//! summary, and the usage errors around it.

use std::path::{Path, PathBuf};

mod common;

use common::{run, text};

fn scratch(name: &str) -> PathBuf {
    common::scratch("metrics", name)
}

/// The numbers of the summary line: records in, slices, rejected.
fn summary(stderr: &str) -> (u64, u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.contains("records in"))
        .expect("a summary line");
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

/// A log of 25 000 lines (7 users), then 3 lines without a second field.
fn write_log(dir: &Path) -> u64 {
    let mut text: String = (1..=25_000).map(|i| format!("u{} {i}\n", i % 7)).collect();
    text.push_str("bad\nbad\nbad\n");
    std::fs::write(dir.join("m.log"), &text).expect("log");
    text.len() as u64
}

#[test]
fn every_slice_has_a_line_whose_counts_add_up_to_the_summary() {
    let dir = scratch("summary");
    let bytes = write_log(&dir);
    let output = run(
        &[
            "run",
            "m.log",
            "--field",
            "2",
            "--parse",
            "int",
            "--on-error",
            "skip",
            "--count",
            "10000",
            "--checkpoint",
            "ck",
            "--output-dir",
            "out",
            "--metrics",
            "-",
            "sum",
        ],
        &dir,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let (records, slices, rejected) = summary(&text(&output.stderr));
    assert_eq!((records, slices, rejected), (25_003, 3, 3));
    assert_eq!(lines.len() as u64, slices, "one line per slice");
    let sum = |field: &str| lines.iter().map(|l| l[field].as_u64().expect(field)).sum::<u64>();
    assert_eq!(sum("records") + sum("rejected"), records);
    assert_eq!(sum("rejected"), rejected);
    assert_eq!(sum("bytes"), bytes, "every byte of the log in one slice");
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line["slice"].as_u64(), Some(n as u64 + 1));
        for field in ["end", "scheduling_delay_ms", "processing_ms"] {
            assert!(line[field].as_f64().is_some_and(|v| v >= 0.0), "{field}: {line}");
        }
        assert!(line["waiting"].as_u64().is_some(), "{line}");
        assert!(line["state_keys"].is_null(), "no state without a window: {line}");
    }
    assert_eq!(lines[0]["records"].as_u64(), Some(10_000));
}

#[test]
fn a_window_s_state_is_its_keys_and_a_file_gets_the_lines() {
    let dir = scratch("window");
    write_log(&dir);
    let output = run(
        &[
            "run",
            "m.log",
            "--field",
            "1",
            "--on-error",
            "skip",
            "--every",
            "100ms",
            "--window",
            "200ms",
            "--metrics",
            "metrics.jsonl",
            "count-by-value",
        ],
        &dir,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).expect("metrics file");
    let first: serde_json::Value = serde_json::from_str(metrics.lines().next().expect("a line")).expect("JSON");
    // The 7 users and the 3 lines "bad" (the whole line is field 1): 8 keys in the window.
    assert_eq!(first["state_keys"].as_u64(), Some(8), "{first}");
    assert_eq!(first["end"].as_f64(), Some(0.1));
}

#[test]
fn metrics_on_standard_output_need_the_results_elsewhere_and_slices_of_count_or_time() {
    let dir = scratch("usage");
    write_log(&dir);
    let taken = run(&["run", "m.log", "--metrics", "-", "count"], &dir);
    assert_eq!(taken.status.code(), Some(2));
    assert!(text(&taken.stderr).contains("--output-dir"), "{}", text(&taken.stderr));
    let within = run(
        &["run", "m.log", "--within", "10,1s", "--metrics", "m.jsonl", "count"],
        &dir,
    );
    assert_eq!(within.status.code(), Some(2));
    assert!(
        text(&within.stderr).contains("--metrics needs --every or --count"),
        "{}",
        text(&within.stderr)
    );
}
