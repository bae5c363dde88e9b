//! `zpark run --session GAP --by-key FIELD`: per key, the operation over each session of its
//! records; a session is written once, when it closes or when the input ends; a checkpointed
//! run killed and resumed counts every record once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::{append, run, signal, text, zpark};

fn scratch(name: &str) -> PathBuf {
    common::scratch("sessions", name)
}

#[test]
fn each_key_s_sessions_with_the_operation_as_text_and_json() {
    let dir = scratch("file");
    std::fs::write(dir.join("s.log"), "ada 1\nbob 2\nada 3\nada 3\n").unwrap();
    let sum = run(
        &[
            "run",
            "s.log",
            "--by-key",
            "1",
            "--field",
            "2",
            "--parse",
            "int",
            "--session",
            "5s",
            "sum",
        ],
        &dir,
    );
    assert!(sum.status.success(), "{}", text(&sum.stderr));
    assert_eq!(text(&sum.stdout), "ada\t0.000s\t1.000s\t7\nbob\t0.000s\t1.000s\t2\n");

    let top = run(
        &[
            "run",
            "s.log",
            "--by-key",
            "1",
            "--field",
            "2",
            "--session",
            "5s",
            "--output",
            "json",
            "top",
            "1",
        ],
        &dir,
    );
    assert!(top.status.success(), "{}", text(&top.stderr));
    let objects: Vec<serde_json::Value> = text(&top.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["key"], "ada");
    assert_eq!(
        (objects[0]["value"].as_str(), objects[0]["count"].as_u64()),
        (Some("3"), Some(2))
    );
    assert_eq!(
        (objects[0]["start"].as_f64(), objects[0]["end"].as_f64()),
        (Some(0.0), Some(1.0))
    );
}

#[test]
fn a_key_idle_for_the_gap_is_written_at_once_and_its_return_starts_another_session() {
    let dir = scratch("follow");
    let log = dir.join("app.log");
    append(&log, "ada x\nbob x\n");
    let mut child = zpark(
        &[
            "run",
            "--follow",
            "app.log",
            "--by-key",
            "1",
            "--every",
            "100ms",
            "--session",
            "300ms",
            "count",
        ],
        &dir,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    let began = Instant::now();
    // Both sessions close about 300 ms after the first slice, while the run goes on.
    for _ in 0..2 {
        std::io::BufRead::read_line(&mut out, &mut first).expect("a session");
    }
    assert!(began.elapsed() < Duration::from_secs(5), "the sessions closed late");
    let keys: Vec<&str> = first.lines().map(|l| l.split('\t').next().unwrap_or("")).collect();
    assert_eq!(keys, vec!["ada", "bob"], "{first}");
    assert!(first.lines().all(|l| l.ends_with("\t1")), "{first}");
    append(&log, "ada y\nada z\n");
    // Read within a poll of the file (100 ms); a second leaves room on a busy machine.
    std::thread::sleep(Duration::from_millis(1000));
    signal(&child, "TERM");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).expect("rest");
    let output = child.wait_with_output().expect("reap");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(rest.lines().count(), 1, "ada's second session: {rest}");
    assert!(rest.starts_with("ada\t") && rest.trim_end().ends_with("\t2"), "{rest}");
}

#[test]
fn usage_errors_say_what_goes_with_what() {
    let dir = scratch("usage");
    std::fs::write(dir.join("s.log"), "a\n").unwrap();
    let without_key = run(&["run", "s.log", "--session", "5s", "count"], &dir);
    assert_eq!(without_key.status.code(), Some(2));
    assert!(
        text(&without_key.stderr).contains("--by-key"),
        "{}",
        text(&without_key.stderr)
    );
    let with_window = run(
        &[
            "run",
            "s.log",
            "--session",
            "5s",
            "--by-key",
            "1",
            "--window",
            "2s",
            "count",
        ],
        &dir,
    );
    assert_eq!(with_window.status.code(), Some(2));
    assert!(
        text(&with_window.stderr).contains("--window"),
        "{}",
        text(&with_window.stderr)
    );
    let not_multiple = run(&["run", "s.log", "--session", "1500ms", "--by-key", "1", "count"], &dir);
    assert_eq!(not_multiple.status.code(), Some(2));
    assert!(
        text(&not_multiple.stderr).contains("not a whole multiple of the slice length"),
        "{}",
        text(&not_multiple.stderr)
    );
}

/// Per key, the records counted in every session written to the slice files of `out`.
fn counted(out: &Path) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for entry in std::fs::read_dir(out).expect("output dir") {
        let path = entry.expect("entry").path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("slice-"))
        {
            continue;
        }
        for line in std::fs::read_to_string(&path).expect("slice file").lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let n: u64 = fields[3].parse().expect("a count");
            *totals.entry(fields[0].to_string()).or_insert(0) += n;
        }
    }
    totals
}

#[test]
fn killed_and_resumed_every_record_is_in_one_session_once() {
    let dir = scratch("kill");
    let log = dir.join("app.log");
    let chunk = |round: u64| -> String {
        (0..2_000u64)
            .map(|i| format!("user{} {}\n", (round * 31 + i * 7) % 53, i))
            .collect()
    };
    append(&log, &chunk(0));
    // Sessions of an hour: they stay open across the kills, in the checkpoint.
    let args = [
        "run",
        "--follow",
        "app.log",
        "--by-key",
        "1",
        "--every",
        "100ms",
        "--session",
        "1h",
        "--checkpoint",
        "ck",
        "--output-dir",
        "out",
        "count",
    ];
    for (round, signal_name) in ["KILL", "KILL", "TERM", "KILL", "INT", "KILL"].into_iter().enumerate() {
        let mut child = zpark(&args, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(350));
        append(&log, &chunk(round as u64 + 1));
        std::thread::sleep(Duration::from_millis(150 + 60 * round as u64));
        signal(&child, signal_name);
        let status = child.wait().expect("reap");
        if signal_name != "KILL" {
            assert!(status.success(), "stopped by SIG{signal_name}: {status}");
        }
    }
    // A stop is not the end of the input: the open sessions stay in the checkpoint. The last
    // run, without --follow, reads what is left to the end of the file, where they are written.
    let mut to_the_end = args.to_vec();
    to_the_end.remove(1);
    let last = run(&to_the_end, &dir);
    assert!(last.status.success(), "{}", text(&last.stderr));

    let once = run(
        &[
            "run",
            "app.log",
            "--by-key",
            "1",
            "--session",
            "1h",
            "--checkpoint",
            "ck-once",
            "--output-dir",
            "out-once",
            "count",
        ],
        &dir,
    );
    assert!(once.status.success(), "{}", text(&once.stderr));
    let expected = counted(&dir.join("out-once"));
    assert_eq!(
        expected.values().sum::<u64>(),
        14_000,
        "every line of the log in a session"
    );
    assert_eq!(counted(&dir.join("out")), expected);
    // The stops split no session: one an hour long per user, as in the uninterrupted run.
    let sessions: usize = std::fs::read_dir(dir.join("out"))
        .expect("out")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("slice-"))
        })
        .map(|path| std::fs::read_to_string(path).expect("slice file").lines().count())
        .sum();
    assert_eq!(sessions, expected.len(), "one session per user");
}

#[test]
fn sessions_in_event_time_leave_late_records_out_and_count_them() {
    let dir = scratch("event-time");
    // (second, user): slices of 10 s, 5 s of lateness; bob's record at 3 s comes too late.
    std::fs::write(dir.join("ev.log"), "1 ada\n12 ada\n14 bob\n45 ada\n3 bob\n70 bob\n").unwrap();
    let output = run(
        &[
            "run",
            "ev.log",
            "--event-time",
            "1",
            "--time-format",
            "epoch",
            "--every",
            "10s",
            "--lateness",
            "5s",
            "--by-key",
            "2",
            "--session",
            "20s",
            "count",
        ],
        &dir,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "ada\t1970-01-01T00:00:00.000Z\t1970-01-01T00:00:20.000Z\t2\n\
         bob\t1970-01-01T00:00:10.000Z\t1970-01-01T00:00:20.000Z\t1\n\
         ada\t1970-01-01T00:00:40.000Z\t1970-01-01T00:00:50.000Z\t1\n\
         bob\t1970-01-01T00:01:10.000Z\t1970-01-01T00:01:20.000Z\t1\n"
    );
    assert!(text(&output.stderr).contains("1 late"), "{}", text(&output.stderr));
}
