//! `zpark run DIR --engine sc://...` (built with `--features spark`): Spark reads the
//! directory's files itself, and the output is byte for byte the embedded engine's, for each
//! operation and each record format. `#[ignore]`d: it needs a Spark Connect server, which
//! `scripts/test.sh` starts before running it with `--ignored`.
#![cfg(feature = "spark")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn spark_url() -> String {
    std::env::var("ZPARK_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".to_string())
}

/// A directory of `files` (name, content), fresh for this test.
fn directory(name: &str, files: &[(&str, String)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zpark-cli-dir-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("directory");
    for (file, content) in files {
        std::fs::write(dir.join(file), content).expect("file");
    }
    dir
}

/// `zpark run DIR args... --engine engine`'s standard output; the run must succeed.
fn run(dir: &Path, args: &[&str], engine: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_zpark"))
        .arg("run")
        .arg(dir)
        .args(["--engine", engine])
        .args(args)
        .output()
        .expect("run zpark");
    assert!(
        output.status.success(),
        "zpark run {} {args:?} --engine {engine}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// A case: its name, its files (name, content), and the arguments that read them.
type Case = (&'static str, Vec<(&'static str, String)>, Vec<&'static str>);

/// Lines of a dpkg-like log, with a few values repeated, in three formats.
fn logs() -> [Case; 4] {
    let rows: Vec<(String, &str, &str)> = (0..300)
        .map(|i| {
            (
                format!("{:02}:{:02}", i / 60, i % 60),
                ["install", "remove", "status", "configure"][i % 4],
                ["libc", "zlib", "curl"][i % 3],
            )
        })
        .collect();
    let lines = |from: usize, to: usize| -> String {
        rows[from..to]
            .iter()
            .map(|(t, a, p)| format!("2025-06-24 {t} {a} {p}\n"))
            .collect()
    };
    let json = |from: usize, to: usize| -> String {
        rows[from..to]
            .iter()
            .map(|(t, a, p)| format!("{{\"time\": \"{t}\", \"action\": \"{a}\", \"package\": \"{p}\"}}\n"))
            .collect()
    };
    let csv = |from: usize, to: usize| -> String {
        rows[from..to]
            .iter()
            .map(|(t, a, p)| format!("2025-06-24,{t},\"{a}\",{p}\n"))
            .collect()
    };
    [
        (
            "lines",
            vec![("a.log", lines(0, 120)), ("b.log", lines(120, 300))],
            vec!["--field", "3"],
        ),
        (
            "whole",
            vec![
                ("a.log", lines(0, 100).replace("2025-06-24 ", "")),
                ("b.log", lines(0, 50).replace("2025-06-24 ", "")),
            ],
            vec![],
        ),
        (
            "json",
            vec![("a.json", json(0, 200)), ("b.json", json(200, 300))],
            vec!["--format", "json", "--field", "action"],
        ),
        (
            "csv",
            vec![("a.csv", csv(0, 150)), ("b.csv", csv(150, 300))],
            vec!["--format", "csv", "--field", "4"],
        ),
    ]
}

#[test]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
fn each_operation_and_format_gives_the_same_bytes_on_spark_as_on_the_embedded_engine() {
    let spark = spark_url();
    for (format, files, args) in logs() {
        let dir = directory(format, &files);
        for operation in [
            &["count"][..],
            &["count-by-value"],
            &["top", "2"],
            &["distinct"],
            &["--window", "3s", "--slide", "2s", "count-by-value"],
        ] {
            let mut all: Vec<&str> = args.clone();
            all.extend_from_slice(operation);
            let local = run(&dir, &all, "local[2]");
            assert!(!local.is_empty(), "{format} {operation:?}: no output");
            assert_eq!(run(&dir, &all, &spark), local, "{format} {operation:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
fn numbers_are_summed_and_compared_alike_on_spark() {
    let numbers: String = (0..200)
        .map(|i| format!("t{} {}\n", i % 7, (i * 37) % 101 - 50))
        .collect();
    // Fractions a binary float holds exactly, so that sums in any order are the same bits.
    let decimals: String = (0..200)
        .map(|i| format!("t{} {}.{}\n", i % 5, i % 13, ["0", "25", "5", "75"][i % 4]))
        .collect();
    let dir = directory(
        "numbers",
        &[("a.log", numbers), ("b.log", format!("{decimals}bad x\nalso 1e3\n"))],
    );
    let spark = spark_url();
    for parse in ["int", "float"] {
        for operation in ["sum", "min", "max", "count", "count-by-value"] {
            let args = ["--field", "2", "--parse", parse, "--on-error", "skip", operation];
            let local = run(&dir, &args, "local[2]");
            assert!(!local.is_empty(), "{parse} {operation}: no output");
            assert_eq!(run(&dir, &args, &spark), local, "{parse} {operation}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
fn lines_without_the_field_are_counted_or_named_alike_on_spark() {
    let dir = directory(
        "missing",
        &[
            ("a.log", "a x\nb y\nshort\na z\n".to_string()),
            ("b.log", "lonely\nc x\n".to_string()),
        ],
    );
    let args = ["--field", "2", "--on-error", "skip", "count-by-value"];
    assert_eq!(run(&dir, &args, &spark_url()), run(&dir, &args, "local[2]"));
    let output = Command::new(env!("CARGO_BIN_EXE_zpark"))
        .arg("run")
        .arg(&dir)
        .args(["--engine", &spark_url(), "--field", "2", "count-by-value"])
        .output()
        .expect("run zpark");
    assert_eq!(output.status.code(), Some(3), "a bad record under --on-error fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a.log:3: cannot parse \"short\": no word 2"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory holding the Parquet files of `tests/data` (written by Spark 4.3, snappy;
/// 300 records of time, action, package, size and ok, `action` null in every 17th).
fn parquet_directory() -> PathBuf {
    let dir = directory("parquet", &[]);
    for name in ["events-a.parquet", "events-b.parquet"] {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
        std::fs::copy(&from, dir.join(name)).expect("copy a Parquet file");
    }
    dir
}

#[test]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
fn parquet_columns_give_the_same_bytes_on_spark_as_on_the_embedded_engine() {
    let dir = parquet_directory();
    let spark = spark_url();
    let cases: [&[&str]; 8] = [
        &["--field", "action", "--on-error", "skip", "count-by-value"],
        &["--field", "action", "--on-error", "skip", "top", "2"],
        &["--field", "package", "distinct"],
        &["--field", "ok", "count-by-value"],
        &["--field", "size", "--parse", "int", "sum"],
        &["--field", "size", "--parse", "int", "min"],
        &["--field", "size", "--parse", "float", "max"],
        &["count"],
    ];
    for args in cases {
        let args = [&["--format", "parquet"][..], args].concat();
        let local = run(&dir, &args, "local[2]");
        assert!(!local.is_empty(), "{args:?}: no output");
        assert_eq!(run(&dir, &args, &spark), local, "{args:?}");
    }
    // 300 records, of which 18 have no action: counted apart, not dropped.
    let counts = run(
        &dir,
        &[
            "--format",
            "parquet",
            "--field",
            "action",
            "--on-error",
            "skip",
            "count",
        ],
        "local[2]",
    );
    assert!(counts.contains("282"), "{counts}");
    // A null column is a bad record: named by file and record on both engines.
    for engine in ["local[2]", spark.as_str()] {
        let output = Command::new(env!("CARGO_BIN_EXE_zpark"))
            .arg("run")
            .arg(&dir)
            .args(["--engine", engine, "--format", "parquet", "--field", "action", "count"])
            .output()
            .expect("run zpark");
        assert_eq!(
            output.status.code(),
            Some(3),
            "{engine}: a null column under --on-error fail"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("events-a.parquet:1: cannot parse"),
            "{engine}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
