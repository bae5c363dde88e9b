//! `zpark run DIR` and `zpark run --follow DIR` on the embedded engine: the files of a
//! directory, read by the engine's workers, in slices of time; what a directory run refuses.
//! (The same runs on Spark, byte for byte: `directory_spark.rs`.)

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{run, scratch, signal, text, zpark};

#[test]
fn the_files_there_are_counted_as_their_lines_would_be_in_one_file() {
    let dir = scratch("directory", "present");
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("test setup");
    std::fs::write(input.join("a.log"), "a x 1\nb y 2\n").expect("test setup");
    std::fs::write(input.join("b.log"), "a x 3\nc z 4\n").expect("test setup");
    std::fs::write(input.join(".c.log.tmp"), "being written z z\n").expect("test setup");
    std::fs::write(dir.join("all.log"), "a x 1\nb y 2\na x 3\nc z 4\n").expect("test setup");
    for args in [
        &["--field", "2", "count-by-value"][..],
        &["count"],
        &["--field", "1", "distinct"],
    ] {
        let from_dir = run(&[&["run", "in"][..], args].concat(), &dir);
        assert!(from_dir.status.success(), "{}", text(&from_dir.stderr));
        let from_file = run(&[&["run", "all.log"][..], args].concat(), &dir);
        assert_eq!(text(&from_dir.stdout), text(&from_file.stdout), "{args:?}");
    }
}

#[test]
fn numbers_are_typed_and_summed_as_they_would_be_in_one_file() {
    let dir = scratch("directory", "numbers");
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("test setup");
    std::fs::write(input.join("a.log"), "a 3\nb 4.5\nc x\nd -2\n").expect("test setup");
    std::fs::write(input.join("b.log"), "e 10\nf 007\ng  1e2 \n").expect("test setup");
    std::fs::write(dir.join("all.log"), "a 3\nb 4.5\nc x\nd -2\ne 10\nf 007\ng  1e2 \n").expect("test setup");
    for parse in ["int", "float"] {
        for operation in ["sum", "min", "max", "count", "count-by-value"] {
            let args = ["--field", "2", "--parse", parse, "--on-error", "skip", operation];
            let from_dir = run(&[&["run", "in"][..], &args].concat(), &dir);
            assert!(from_dir.status.success(), "{}", text(&from_dir.stderr));
            let from_file = run(&[&["run", "all.log"][..], &args].concat(), &dir);
            assert_eq!(text(&from_dir.stdout), text(&from_file.stdout), "{parse} {operation}");
        }
    }
}

#[test]
fn a_line_without_the_field_names_its_file_and_line_or_is_counted() {
    let dir = scratch("directory", "missing");
    std::fs::write(dir.join("a.log"), "a x\nshort\n").expect("test setup");
    let failed = run(&["run", ".", "--field", "2", "count-by-value"], &dir);
    assert_eq!(failed.status.code(), Some(3));
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains("a.log:2: cannot parse \"short\": no word 2"),
        "{stderr}"
    );
    let skipped = run(
        &["run", ".", "--field", "2", "--on-error", "skip", "count-by-value"],
        &dir,
    );
    assert!(skipped.status.success(), "{}", text(&skipped.stderr));
    assert_eq!(text(&skipped.stdout), "1.000s\tx\t1\n");
    assert!(
        text(&skipped.stderr).contains("1 rejected"),
        "{}",
        text(&skipped.stderr)
    );
}

#[test]
fn a_followed_directory_counts_each_file_moved_in_once_until_stopped() {
    let dir = scratch("directory", "follow");
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("test setup");
    let mut child = zpark(
        &[
            "run",
            "--follow",
            "in",
            "--every",
            "200ms",
            "--skip-empty",
            "--field",
            "1",
            "count-by-value",
        ],
        &dir,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("zpark");
    for i in 0..3 {
        std::thread::sleep(Duration::from_millis(150));
        let staged = dir.join(format!("part-{i}.log"));
        std::fs::write(&staged, format!("k{i} a\nshared b\n")).expect("test setup");
        std::fs::rename(&staged, input.join(format!("part-{i}.log"))).expect("test setup");
    }
    std::thread::sleep(Duration::from_millis(700));
    signal(&child, "INT");
    let began = Instant::now();
    let status = child.wait().expect("zpark ends");
    assert!(began.elapsed() < Duration::from_secs(10), "stopped by SIGINT");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("test setup")
        .read_to_string(&mut stdout)
        .expect("test setup");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("test setup")
        .read_to_string(&mut stderr)
        .expect("test setup");
    assert!(status.success(), "{stderr}");
    let mut counts = std::collections::BTreeMap::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        *counts.entry(fields[1].to_string()).or_insert(0) += fields[2].parse::<u64>().expect("test setup");
    }
    let expected: std::collections::BTreeMap<String, u64> = [("k0", 1), ("k1", 1), ("k2", 1), ("shared", 3)]
        .map(|(k, n)| (k.to_string(), n))
        .into();
    assert_eq!(counts, expected, "{stdout}");
}

#[test]
fn what_a_directory_run_cannot_do_yet_is_a_usage_error_that_says_so() {
    let dir = scratch("directory", "usage");
    for (args, says) in [
        (&["run", ".", "--count", "10", "count"][..], "--count"),
        (&["run", ".", "--session", "1m", "--by-key", "1", "count"], "--session"),
        (
            &["run", ".", "--format", "csv", "--field", "name", "count"],
            "by position",
        ),
        (
            &["run", ".", "--format", "parquet", "--field", "2", "count"],
            "Parquet columns are named",
        ),
        (
            &["run", "-", "--format", "parquet", "--field", "action", "count"],
            "reads the Parquet files of a directory",
        ),
    ] {
        let output = run(args, &dir);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains(says),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn a_file_input_on_spark_is_refused_saying_a_directory_runs_there() {
    let dir = scratch("directory", "spark-file");
    std::fs::write(dir.join("a.log"), "x\n").expect("test setup");
    let output = run(&["run", "a.log", "--engine", "sc://127.0.0.1:1", "count"], &dir);
    assert_eq!(output.status.code(), Some(5));
    assert!(
        text(&output.stderr).contains("only a directory input runs on Spark"),
        "{}",
        text(&output.stderr)
    );
}

/// Counts by value over every committed slice file of `out`.
fn totals(out: &std::path::Path) -> std::collections::BTreeMap<String, u64> {
    let mut totals = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(out).expect("test setup") {
        let path = entry.expect("test setup").path();
        if !path
            .file_name()
            .expect("test setup")
            .to_string_lossy()
            .starts_with("slice-")
        {
            continue;
        }
        for line in std::fs::read_to_string(&path).expect("test setup").lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            *totals.entry(fields[1].to_string()).or_insert(0) += fields[2].parse::<u64>().expect("test setup");
        }
    }
    totals
}

#[test]
fn a_checkpointed_directory_run_reads_each_file_once_across_runs() {
    let dir = scratch("directory", "checkpoint");
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("test setup");
    std::fs::write(input.join("a.log"), "x 1\ny 2\n").expect("test setup");
    let args = [
        "run",
        "in",
        "--checkpoint",
        "cp",
        "--output-dir",
        "out",
        "--field",
        "1",
        "count-by-value",
    ];
    let first = run(&args, &dir);
    assert!(first.status.success(), "{}", text(&first.stderr));
    std::fs::write(input.join("b.log"), "x 3\nz 4\n").expect("test setup");
    let second = run(&args, &dir);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stderr).contains("resum"), "{}", text(&second.stderr));
    let third = run(&args, &dir);
    assert!(third.status.success(), "{}", text(&third.stderr));
    let expected: std::collections::BTreeMap<String, u64> =
        [("x", 2), ("y", 1), ("z", 1)].map(|(k, n)| (k.to_string(), n)).into();
    assert_eq!(totals(&dir.join("out")), expected, "each file once over three runs");
}

#[test]
fn a_followed_directory_killed_and_resumed_counts_each_file_once() {
    let dir = scratch("directory", "kill");
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("test setup");
    let args = [
        "run",
        "--follow",
        "in",
        "--every",
        "100ms",
        "--checkpoint",
        "cp",
        "--output-dir",
        "out",
        "--field",
        "1",
        "count-by-value",
    ];
    let mut expected = std::collections::BTreeMap::new();
    for round in 0..4u64 {
        let child = zpark(&args, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("zpark");
        for i in 0..5u64 {
            let name = format!("r{round}-{i}.log");
            let staged = dir.join(format!(".{name}"));
            std::fs::write(&staged, format!("k{} a\nk{} b\n", i % 3, round)).expect("test setup");
            std::fs::rename(&staged, input.join(&name)).expect("test setup");
            *expected.entry(format!("k{}", i % 3)).or_insert(0) += 1;
            *expected.entry(format!("k{round}")).or_insert(0) += 1;
            std::thread::sleep(Duration::from_millis(30 + 17 * ((round * 5 + i) % 4)));
        }
        // Killed at once: some files committed, some read and not committed, some not read.
        signal(&child, "KILL");
        let _ = child.wait_with_output();
    }
    // The same pipeline (a checkpoint refuses another slicing), over the files there now.
    let rest = run(
        &[
            "run",
            "in",
            "--every",
            "100ms",
            "--checkpoint",
            "cp",
            "--output-dir",
            "out",
            "--field",
            "1",
            "count-by-value",
        ],
        &dir,
    );
    assert!(rest.status.success(), "{}", text(&rest.stderr));
    assert!(
        text(&rest.stderr).contains("resuming from checkpoint"),
        "{}",
        text(&rest.stderr)
    );
    assert_eq!(totals(&dir.join("out")), expected, "each file once, whatever the kills");
}
