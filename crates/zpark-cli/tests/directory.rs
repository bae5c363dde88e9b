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
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("a.log"), "a x 1\nb y 2\n").unwrap();
    std::fs::write(input.join("b.log"), "a x 3\nc z 4\n").unwrap();
    std::fs::write(input.join(".c.log.tmp"), "being written z z\n").unwrap();
    std::fs::write(dir.join("all.log"), "a x 1\nb y 2\na x 3\nc z 4\n").unwrap();
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
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("a.log"), "a 3\nb 4.5\nc x\nd -2\n").unwrap();
    std::fs::write(input.join("b.log"), "e 10\nf 007\ng  1e2 \n").unwrap();
    std::fs::write(dir.join("all.log"), "a 3\nb 4.5\nc x\nd -2\ne 10\nf 007\ng  1e2 \n").unwrap();
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
    std::fs::write(dir.join("a.log"), "a x\nshort\n").unwrap();
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
    std::fs::create_dir(&input).unwrap();
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
        std::fs::write(&staged, format!("k{i} a\nshared b\n")).unwrap();
        std::fs::rename(&staged, input.join(format!("part-{i}.log"))).unwrap();
    }
    std::thread::sleep(Duration::from_millis(700));
    signal(&child, "INT");
    let began = Instant::now();
    let status = child.wait().expect("zpark ends");
    assert!(began.elapsed() < Duration::from_secs(10), "stopped by SIGINT");
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    let mut counts = std::collections::BTreeMap::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        *counts.entry(fields[1].to_string()).or_insert(0) += fields[2].parse::<u64>().unwrap();
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
        (&["run", ".", "--checkpoint", "cp", "count"][..], "--checkpoint"),
        (&["run", ".", "--count", "10", "count"], "--count"),
        (&["run", ".", "--session", "1m", "--by-key", "1", "count"], "--session"),
        (
            &["run", ".", "--format", "csv", "--field", "name", "count"],
            "by position",
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
    std::fs::write(dir.join("a.log"), "x\n").unwrap();
    let output = run(&["run", "a.log", "--engine", "sc://127.0.0.1:1", "count"], &dir);
    assert_eq!(output.status.code(), Some(5));
    assert!(
        text(&output.stderr).contains("only a directory input runs on Spark"),
        "{}",
        text(&output.stderr)
    );
}
