//! `zpark tour`, run as a user runs it.

use std::process::Command;

fn zpark(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zpark"))
        .args(args)
        .output()
        .expect("run zpark")
}

/// The lines under a heading, without the timestamps.
fn section(stdout: &str, heading_start: &str) -> Vec<String> {
    stdout
        .split("\n== ")
        .find(|part| part.starts_with(heading_start))
        .unwrap_or_else(|| panic!("no section {heading_start}"))
        .lines()
        .skip(1)
        .filter_map(|line| line.split("*** ").nth(1).map(str::to_string))
        .collect()
}

/// The number after the comma of a `(x, n)` result.
fn second_number(row: &str) -> u64 {
    row.trim_matches(['(', ')'])
        .split(", ")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("(x, n)")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn the_tour_prints_the_seed_results() {
    let output = zpark(&["tour", "--engine", "local[2]"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(section(&stdout, "1."), vec!["4", "4"]);
    assert_eq!(
        sorted(section(&stdout, "2.")),
        vec!["(1, 2)", "(2, 2)", "(3, 2)", "(4, 2)"]
    );
    assert_eq!(section(&stdout, "3."), vec!["10", "18"]);
    let counts = section(&stdout, "4.");
    assert_eq!(counts.len(), 100);
    assert!(counts.iter().all(|c| c == "50"), "{counts:?}");
    let windows = section(&stdout, "5.");
    assert_eq!(
        windows,
        vec![
            "(1.000s, 100)",
            "(2.000s, 100)",
            "(3.000s, 100)",
            "(4.000s, 100)",
            "(5.000s, 100)"
        ]
    );
    let fahrenheit = section(&stdout, "6.");
    let total: u64 = fahrenheit.iter().map(|row| second_number(row)).sum();
    assert_eq!(total, 222, "every temperature of the data file counted once");
    assert_eq!(fahrenheit.len(), 10, "ten distinct temperatures");
    assert!(
        fahrenheit.contains(&"(7.2°C, 23)".to_string()),
        "45 °F is 7.2 °C: {fahrenheit:?}"
    );
    // Every result line says which slice it is of, and slices on the clock their interval.
    assert!(stdout.contains("] slice 2 *** 4\n"), "{stdout}");
    assert!(stdout.contains("] slice 3 [1.00s, 1.50s) *** 50\n"), "{stdout}");
    assert!(
        stdout.contains("] window 2 [1.00s, 2.00s) *** (2.000s, 100)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(each slice holds 4 elements; its line is its size)"),
        "{stdout}"
    );
    let zipped = section(&stdout, "7.");
    assert_eq!(zipped.len(), 50);
    assert!(zipped.iter().all(|r| r.ends_with(", 2)")), "{zipped:?}");
    let event_time = section(&stdout, "8.");
    assert_eq!(event_time.len(), 6, "{event_time:?}");
    let in_slices: u64 = event_time.iter().map(|row| second_number(row)).sum();
    assert!(stdout.contains("late, sent to the side stream (4): #1001"), "{stdout}");
    assert_eq!(in_slices + 4, 305, "every reading in a slice or on the side stream");
    assert!(
        stdout.contains("6151 elements went in, 183 results came out, 0 slices failed"),
        "{stdout}"
    );
}

#[test]
fn a_bad_data_line_fails_the_tour_with_file_and_line() {
    let path = std::env::temp_dir().join(format!("zpark-cli-bad-{}.txt", std::process::id()));
    std::fs::write(&path, "// header\n18.0\nhot\n").expect("write");
    let output = zpark(&["tour", "--data", path.to_str().expect("utf-8 path")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3: cannot parse \"hot\"", path.display())),
        "{stderr}"
    );
}

#[test]
fn an_unknown_engine_is_refused_with_the_accepted_forms() {
    let output = zpark(&["tour", "--engine", "yarn"]);
    assert_eq!(output.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown engine URL `yarn`") && stderr.contains("local[N]"),
        "{stderr}"
    );
}

#[test]
fn bad_usage_exits_with_2() {
    let output = zpark(&["tour", "--no-such-flag"]);
    assert_eq!(output.status.code(), Some(2));
}
