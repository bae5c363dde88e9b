//! `zpark run` at the edges a new user meets on real logs: the end of input with windows, huge
//! numbers, times as people write them, bytes that are not UTF-8, failures before the first
//! slice, slice labels, `uniq -c` semantics, exact sums, missing values, empty slices and a
//! full output device. Each test failed before the fix it names.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::Duration;

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};

/// A file of the test's own, holding `bytes`.
fn file(name: &str, bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("zpark-edges-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("write");
    path.display().to_string()
}

fn run(args: &[&str]) -> Output {
    cargo_bin_cmd!("zpark")
        .arg("run")
        .args(args)
        .output()
        .expect("run zpark")
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    cargo_bin_cmd!("zpark")
        .arg("run")
        .args(args)
        .write_stdin(input.to_vec())
        .output()
        .expect("run zpark")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The result columns of text output, without the label.
fn results(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .map(|l| l.split_once('\t').map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

fn labels(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

fn json(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

// 1. Windows at the end of input.

#[test]
fn a_sliding_window_over_a_file_read_in_one_slice_holds_every_record() {
    let numbers: String = (1..=1000).map(|n| format!("{n} /some/file\n")).collect();
    let input = file("sizes.txt", numbers.as_bytes());
    let output = run(&[
        &input, "--field", "1", "--parse", "int", "--every", "1s", "--window", "10s", "--slide", "5s", "sum",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The file is read within the first slice: the windows ending at 5 s and 10 s hold it.
    assert_eq!(results(&output), vec!["500500", "500500"], "{}", stderr(&output));
}

#[test]
fn lines_arriving_over_two_and_a_half_seconds_are_all_in_the_last_window() {
    let mut child = std::process::Command::new(cargo_bin!("zpark"))
        .args(["run", "-", "--every", "1s", "--window", "2s", "--slide", "2s", "count"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    for i in 0..25 {
        writeln!(stdin, "{i}").expect("write");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", stderr(&output));
    let total: u64 = results(&output)
        .iter()
        .map(|n| n.parse::<u64>().expect("a count"))
        .sum();
    assert_eq!(total, 25, "windows {:?}", stdout(&output));
}

#[test]
fn event_time_windows_longer_than_the_data_are_emitted() {
    let stamped: String = (0..50).map(|i| format!("2025-06-24T10:{:02}:00Z x\n", i)).collect();
    let input = file("day.log", stamped.as_bytes());
    let output = run(&[
        &input,
        "--event-time",
        "1",
        "--every",
        "1m",
        "--window",
        "1h",
        "--slide",
        "1h",
        "count",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["50"]);
    assert_eq!(labels(&output), vec!["2025-06-24T11:00:00.000Z"]);
}

// 2. No panic, no abort.

#[test]
fn any_count_and_top_k_run_and_too_many_threads_are_refused() {
    let input = file("few.txt", b"a\nb\na\n");
    for count in ["9223372036854775807", "4000000000", "18446744073709551615"] {
        let output = run(&[&input, "--count", count, "count"]);
        assert!(output.status.success(), "--count {count}: {}", stderr(&output));
        assert_eq!(results(&output), vec!["3"]);
    }
    let output = run(&[&input, "top", "9223372036854775807"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["a\t2", "b\t1"]);
    let output = run(&[&input, "--engine", "local[20000]", "count"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("at most 1024"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
}

// 3. Time fields as people write them.

#[test]
fn rfc3339_with_an_offset_and_the_common_log_format_are_event_times() {
    let input = file(
        "offsets.csv",
        b"t,v\n2025-06-24T16:36:26+02:00,a\n2025-06-24T14:36:27.5Z,b\n2025-06-24T10:36:28-04:00,c\n",
    );
    let output = run(&[
        &input,
        "--format",
        "csv",
        "--field",
        "v",
        "--event-time",
        "t",
        "--every",
        "1m",
        "count",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "2025-06-24T14:37:00.000Z\t3\n");

    let access = file(
        "access.log",
        br#"10.0.0.1 - - [24/Jun/2025:14:36:25 +0000] "GET / HTTP/1.0" 200 5
10.0.0.1 - - [24/Jun/2025:16:36:40 +0200] "GET /a HTTP/1.0" 404 0
10.0.0.2 - - [24/Jun/2025:14:37:05 +0000] "GET /b HTTP/1.0" 200 9
"#,
    );
    let output = run(&[
        &access,
        "--field",
        "9",
        "--event-time",
        "4",
        "--time-format",
        "clf",
        "--every",
        "1m",
        "count-by-value",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "2025-06-24T14:37:00.000Z\t200\t1\n2025-06-24T14:37:00.000Z\t404\t1\n2025-06-24T14:38:00.000Z\t200\t1\n"
    );
    let output = run(&[&access, "--event-time", "4", "--time-format", "%d/%b/%Y", "count"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains(":1: cannot parse"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("field `4`: not a time in the format `%d/%b/%Y`"),
        "{}",
        stderr(&output)
    );
}

// 4. Bytes are records too.

#[test]
fn a_line_that_is_not_utf8_is_a_record_or_a_parse_error_with_its_line() {
    let input = file("latin1.txt", b"caf\xe9\nok\ncaf\xe9\n\xff\n");
    let output = run(&[&input, "count-by-value"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["caf\u{fffd}\t2", "ok\t1", "\u{fffd}\t1"]);
    let output = run(&[&input, "--output", "json", "count-by-value"]);
    let values: Vec<String> = json(&output)
        .iter()
        .map(|o| o["value"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(values, vec!["caf\\xe9", "ok", "\\xff"]);

    let numbers = file("numbers.txt", b"1\n2\n\xff3\n4\n");
    let output = run(&[&numbers, "--parse", "int", "sum"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains(":3: cannot parse"), "{}", stderr(&output));
    assert!(stderr(&output).contains("not UTF-8"), "{}", stderr(&output));
    let output = run(&[&numbers, "--parse", "int", "--on-error", "skip", "sum"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["7"]);
    assert!(stderr(&output).contains("1 rejected"), "{}", stderr(&output));
}

#[test]
fn a_followed_file_goes_on_after_a_line_that_is_not_utf8() {
    let input = file("follow-latin1.txt", b"a\n\xe9\nb\n");
    let child = std::process::Command::new(cargo_bin!("zpark"))
        .args(["run", "--follow", &input, "--every", "1h", "count"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(600));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["3"]);
}

// 5. Nothing on standard output before a failure.

#[test]
fn a_run_that_fails_before_its_first_slice_writes_no_result() {
    let output = run(&["/nonexistent.log", "count"]);
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("/nonexistent.log"), "{}", stderr(&output));
    let output = run(&["--follow", "/nonexistent.log", "count"]);
    assert_eq!((output.status.code(), stdout(&output)), (Some(4), String::new()));
    let output = run_stdin(&["-", "--parse", "int", "count"], b"a\nb\n");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "no count of a slice cut short by the failure");
}

// 6. Every slice labelled.

#[test]
fn slices_of_records_are_labelled_by_number_and_json_carries_slice_start_and_end() {
    let input = file("six.txt", b"a\nb\nc\nd\ne\n");
    let output = run(&[&input, "--count", "2", "count"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "1\t2\n2\t2\n3\t1\n");
    let output = run(&[&input, "--count", "2", "--output", "json", "count"]);
    let spans: Vec<(u64, u64, u64)> = json(&output)
        .iter()
        .map(|o| {
            let n = |k: &str| o[k].as_u64().unwrap_or(0);
            (n("slice"), n("start"), n("end"))
        })
        .collect();
    assert_eq!(
        spans,
        vec![(1, 1, 2), (2, 3, 4), (3, 5, 5)],
        "slice, first and last line"
    );
    let output = run(&[&input, "--every", "1s", "--output", "json", "count"]);
    let first = &json(&output)[0];
    assert_eq!(
        (first["slice"].as_u64(), first["start"].as_f64(), first["end"].as_f64()),
        (Some(1), Some(0.0), Some(1.0))
    );
}

// 7. `uniq -c` in whole-line mode.

#[test]
fn whole_lines_are_counted_as_they_are_blank_ones_and_spaces_included() {
    let input = file("spaces.txt", b"a\n\n a\r\n\na\n");
    let output = run(&[&input, "count"]);
    assert_eq!(results(&output), vec!["5"], "as wc -l");
    let output = run(&[&input, "count-by-value"]);
    assert_eq!(
        results(&output),
        vec!["\t2", " a\t1", "a\t2"],
        "as sort | uniq -c (CRLF as LF)"
    );
}

// 8. Exact sums, missing values, empty slices, the output, plurals.

#[test]
fn an_integer_sum_past_i64_is_exact() {
    let input = file("big.txt", b"9223372036854775807\n9223372036854775807\n");
    let output = run(&[&input, "--parse", "int", "sum"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["18446744073709551614"]);
    let output = run(&[&input, "--parse", "int", "--output", "json", "sum"]);
    assert_eq!(json(&output)[0]["value"].as_u64(), Some(18_446_744_073_709_551_614));
}

#[test]
fn json_null_and_a_missing_key_follow_on_error() {
    let input = file(
        "users.json",
        br#"{"user":"ann"}
{"user":null}
{"other":1}
{"user":"ann"}
"#,
    );
    let output = run(&[&input, "--format", "json", "--field", "user", "count-by-value"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains(":2: cannot parse"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("null (a missing value)"),
        "{}",
        stderr(&output)
    );
    let output = run(&[
        &input,
        "--format",
        "json",
        "--field",
        "user",
        "--on-error",
        "skip",
        "count-by-value",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(&output), vec!["ann\t2"], "null is not the string \"null\"");
    assert!(stderr(&output).contains("2 rejected"), "{}", stderr(&output));
}

#[test]
fn skip_empty_leaves_out_empty_slices() {
    let stamped = b"100 a\n101 b\n400 c\n";
    let input = file("sparse.txt", stamped);
    let all = run(&[&input, "--event-time", "1", "--every", "1m", "count"]);
    assert_eq!(results(&all), vec!["2", "0", "0", "0", "0", "1"]);
    let some = run(&[&input, "--event-time", "1", "--every", "1m", "--skip-empty", "count"]);
    assert_eq!(results(&some), vec!["2", "1"]);
    let sums = run(&[
        &input,
        "--field",
        "1",
        "--parse",
        "int",
        "--event-time",
        "1",
        "--every",
        "1m",
        "--skip-empty",
        "sum",
    ]);
    assert_eq!(results(&sums), vec!["201", "400"]);
}

#[test]
fn a_full_output_device_is_named_and_the_summary_says_1_slice() {
    let input = file("one.txt", b"a\n");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = std::process::Command::new(cargo_bin!("zpark"))
        .args(["run", &input, "count"])
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write to standard output: No space left on device"),
        "{}",
        stderr(&output)
    );
    let output = run(&[&input, "count"]);
    assert!(
        stderr(&output).contains("1 record in, 1 slice, 0 rejected"),
        "{}",
        stderr(&output)
    );
}
