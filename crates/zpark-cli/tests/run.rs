//! `zpark run`, run as a user runs it: files, standard input, a socket, and every error path.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn zpark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zpark"))
        .args(args)
        .output()
        .expect("run zpark")
}

fn zpark_with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zpark"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zpark");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("zpark-run-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The result columns of text output, without the time column.
fn results(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .map(|l| l.split_once('\t').map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

const ACCESS_LOG: &str = r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326
127.0.0.1 - - [10/Oct/2000:13:55:37 -0700] "GET /b.gif HTTP/1.0" 404 0
127.0.0.1 - - [10/Oct/2000:13:55:38 -0700] "GET /c.gif HTTP/1.0" 200 100
10.0.0.2 - - [10/Oct/2000:13:55:39 -0700] "GET /d.gif HTTP/1.0" 500 7
"#;

#[test]
fn status_codes_of_an_access_log_counted_by_value() {
    let log = file("access.log", ACCESS_LOG);
    let output = zpark(&["run", &log, "--field", "9", "count-by-value"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["200\t2", "404\t1", "500\t1"]);
    assert!(
        stderr(&output).contains("zpark: 4 records in, 1 slice, 0 rejected"),
        "{}",
        stderr(&output)
    );
}

/// A path that names a pipe (here `/dev/stdin`, a pipe from this test) cannot be read at an
/// offset: it is read in turn from its start, as a regular file is read in ranges.
#[test]
fn a_path_that_names_a_pipe_is_read_from_its_start() {
    let output = zpark_with_stdin(&["run", "/dev/stdin", "--field", "9", "count-by-value"], ACCESS_LOG);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["200\t2", "404\t1", "500\t1"]);
}

/// A named pipe (`mkfifo`) as the input: the run waits for its writer and reads all it writes.
#[test]
fn a_named_pipe_is_read_whole() {
    let fifo = std::env::temp_dir().join(format!("zpark-run-{}-fifo", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success(), "mkfifo {}", fifo.display());
    let child = Command::new(env!("CARGO_BIN_EXE_zpark"))
        .args(["run", &fifo.display().to_string(), "--field", "9", "count-by-value"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zpark");
    std::fs::write(&fifo, ACCESS_LOG).expect("write to the pipe");
    let output = child.wait_with_output().expect("wait");
    let _ = std::fs::remove_file(&fifo);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["200\t2", "404\t1", "500\t1"]);
}

#[test]
fn every_operation_on_numbers() {
    let log = file("numbers.log", ACCESS_LOG);
    let run = |op: &[&str]| {
        let mut args = vec!["run", &log, "--field", "10", "--parse", "int"];
        args.extend_from_slice(op);
        let output = zpark(&args);
        assert!(output.status.success(), "{op:?}: {}", stderr(&output));
        results(&output)
    };
    assert_eq!(run(&["count"]), vec!["4"]);
    assert_eq!(run(&["sum"]), vec!["2433"]);
    assert_eq!(run(&["min"]), vec!["0"]);
    assert_eq!(run(&["max"]), vec!["2326"]);
    assert_eq!(run(&["distinct"]), vec!["0", "7", "100", "2326"]);
    assert_eq!(run(&["--count", "2", "sum"]), vec!["2326", "107"]);
}

#[test]
fn top_k_of_json_lines_from_standard_input_as_json() {
    let input = r#"{"user":"ann"}
{"user":"bob"}
{"user":"ann"}
{"user":"cid"}
{"user":"ann"}
{"user":"bob"}
"#;
    let output = zpark_with_stdin(
        &[
            "run", "-", "--format", "json", "--field", "user", "--output", "json", "top", "2",
        ],
        input,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let objects: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let top: Vec<(String, u64)> = objects
        .iter()
        .map(|o| {
            (
                o["value"].as_str().expect("value").to_string(),
                o["count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(top, vec![("ann".to_string(), 3), ("bob".to_string(), 2)]);
    // Every object names its slice and where it starts and ends (seconds since the start).
    assert_eq!(objects[0]["slice"].as_u64(), Some(1));
    assert!(objects[0]["start"].is_number() && objects[0]["end"].is_number());
}

#[test]
fn csv_columns_by_name_and_event_time_with_late_records() {
    let input = "t,v\n1.2,a\n1.7,b\n0.4,c\n3.1,a\n";
    let output = zpark_with_stdin(
        &[
            "run",
            "--format",
            "csv",
            "--field",
            "v",
            "--event-time",
            "t",
            "--every",
            "1s",
            "--lateness",
            "500ms",
            "count",
        ],
        input,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().collect::<Vec<_>>(),
        vec![
            "1970-01-01T00:00:02.000Z\t2",
            "1970-01-01T00:00:03.000Z\t0",
            "1970-01-01T00:00:04.000Z\t1"
        ]
    );
    assert!(stderr(&output).contains("1 late"), "{}", stderr(&output));
}

#[test]
fn a_sum_per_window_from_a_local_socket() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("tcp://{}", server.local_addr().expect("address"));
    let sender = std::thread::spawn(move || {
        let (mut socket, _) = server.accept().expect("accept");
        for i in 1..=12u32 {
            writeln!(socket, "{i}").expect("send");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let output = zpark(&[
        "run", &address, "--parse", "int", "--every", "200ms", "--window", "1s", "--slide", "200ms", "sum",
    ]);
    sender.join().expect("sender");
    assert!(output.status.success(), "{}", stderr(&output));
    let sums: Vec<i64> = results(&output).iter().map(|s| s.parse().expect("a sum")).collect();
    assert!(!sums.is_empty());
    assert!(sums.iter().all(|s| (0..=78).contains(s)), "{sums:?}");
    // The 12 numbers arrive within about 240 ms: some 1 s window holds them all.
    assert_eq!(sums.iter().copied().max(), Some(78), "{sums:?}");
    assert!(stderr(&output).contains("12 records in"), "{}", stderr(&output));
}

#[test]
fn a_bad_record_fails_with_input_line_and_field_or_is_skipped_and_counted() {
    let log = file("bad.log", "1\n2\nthree\n4\n");
    let output = zpark(&["run", &log, "--parse", "int", "sum"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("{log}:3: cannot parse \"three\": not an integer")),
        "{}",
        stderr(&output)
    );
    let csv = file("bad.csv", "n,name\n1,a\nx,b\n");
    let output = zpark(&["run", &csv, "--format", "csv", "--field", "n", "--parse", "int", "sum"]);
    assert!(
        stderr(&output).contains(":3: cannot parse \"x,b\": field `n`: not an integer"),
        "{}",
        stderr(&output)
    );
    let output = zpark(&["run", &log, "--parse", "int", "--on-error", "skip", "sum"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["7"]);
    assert!(
        stderr(&output).contains("4 records in, 1 slice, 1 rejected"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("skipped:"), "{}", stderr(&output));
}

#[test]
fn usage_errors_exit_with_2_and_say_what_is_wrong() {
    let log = file("usage.log", "1\n");
    let cases: [(&[&str], &str); 6] = [
        (
            &["run", &log, "--no-such-flag", "count"],
            "unexpected argument '--no-such-flag'",
        ),
        (
            &["run", &log, "--every", "5x", "count"],
            "invalid value '5x' for '--every <DUR>'",
        ),
        (&["run", &log, "--every", "0s", "count"], "longer than zero"),
        (
            &["run", &log, "--count", "10", "--window", "2s", "count"],
            "--window needs slices of time",
        ),
        (
            &["run", &log, "--every", "1s", "--window", "1500ms", "count"],
            "not a whole multiple",
        ),
        (&["run", &log, "sum"], "sum needs numbers"),
    ];
    for (args, expected) in cases {
        let output = zpark(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(expected), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn unreadable_inputs_exit_with_4_and_name_them() {
    let output = zpark(&["run", "/no/such/zpark.log", "count"]);
    assert_eq!(output.status.code(), Some(4));
    // The input and the cause, each said once.
    assert_eq!(
        stderr(&output).trim(),
        "zpark: cannot read /no/such/zpark.log: No such file or directory (os error 2)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let output = zpark(&["run", &format!("tcp://127.0.0.1:{port}"), "count"]);
    assert_eq!(output.status.code(), Some(4));
    assert!(
        stderr(&output).contains(&format!("cannot read tcp://127.0.0.1:{port}")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_or_unavailable_engines_exit_with_5() {
    let log = file("engine.log", "1\n");
    for (engine, expected) in [
        ("yarn", "unknown engine URL `yarn`"),
        ("sc://127.0.0.1:15002", "only a directory input runs on Spark"),
    ] {
        let output = zpark(&["run", &log, "--engine", engine, "count"]);
        assert_eq!(output.status.code(), Some(5), "{engine}");
        assert!(stderr(&output).contains(expected), "{engine}: {}", stderr(&output));
    }
}

#[test]
fn ctrl_c_flushes_the_slice_in_progress_and_prints_the_summary() {
    let log = file("growing.log", "a\nb\nc\n");
    let child = Command::new(env!("CARGO_BIN_EXE_zpark"))
        .args(["run", "--follow", &log, "--every", "1h", "count"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(700));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        results(&output),
        vec!["3"],
        "the hour-long slice in progress is flushed"
    );
    assert!(
        stderr(&output).contains("zpark: 3 records in, 1 slice, 0 rejected"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn nothing_but_results_and_the_summary_when_piped() {
    let log = file("quiet.log", "x\ny\n");
    let output = zpark(&["run", &log, "count"]);
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "only the summary, no progress line: {err:?}");
}

#[test]
fn help_has_examples() {
    let output = zpark(&["run", "--help"]);
    let text = stdout(&output);
    assert!(
        text.contains("Examples:") && text.contains("count-by-value") && text.contains("Exit codes"),
        "{text}"
    );
}

#[test]
fn slices_by_key_runs_and_by_size_within_a_time() {
    let csv = file("by.csv", "host,bytes\na,1\na,2\nb,5\nb,5\na,1\n");
    let output = zpark(&[
        "run", &csv, "--format", "csv", "--field", "bytes", "--parse", "int", "--by", "host", "sum",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        results(&output),
        vec!["3", "10", "1"],
        "one slice per run of equal hosts"
    );
    let numbers = file("within.log", &(1..=7).map(|n| format!("{n}\n")).collect::<String>());
    let output = zpark(&["run", &numbers, "--parse", "int", "--within", "3,10s", "sum"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["6", "15", "7"], "slices close at 3 records");
}
