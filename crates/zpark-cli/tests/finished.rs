//! Finished means finished: a checkpointed run that reached the end of its input, run again,
//! writes nothing (or reads on, or refuses, as its end allows); a run killed at any moment,
//! after its last commit too, leaves each window once; a reader of standard output that goes
//! away ends the run quietly; `--count N` slices hold N lines of data.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Instant;

mod common;

use common::{append, run, text, zpark};
use zpark_testkit::kill::{checkpoint_state, wait_for, Delays, Moment};

fn scratch(name: &str) -> PathBuf {
    common::scratch("finished", name)
}

fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

/// The slice files of an output directory, by name, with their text.
fn slices(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("slice-")))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("slice file"))
        })
        .collect()
}

/// Every `LABEL<TAB>COUNT` line of the output directory, in slice order.
fn labelled_counts(dir: &Path) -> Vec<(String, u64)> {
    slices(dir)
        .values()
        .flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
        .map(|line| {
            let (label, count) = line.split_once('\t').expect("LABEL<TAB>COUNT");
            (label.to_string(), count.parse().expect("a count"))
        })
        .collect()
}

/// The file: `l1` .. `l100000`.
fn write_lines(path: &Path, from: u64, to: u64) {
    let text: String = (from..=to).map(|i| format!("l{i}\n")).collect();
    append(path, &text);
}

/// The command: slices of 50 ms, windows of 250 ms every 50 ms.
const WINDOWED: [&str; 13] = [
    "run",
    "a.log",
    "--every",
    "50ms",
    "--window",
    "250ms",
    "--slide",
    "50ms",
    "--checkpoint",
    "ck",
    "--output-dir",
    "out",
    "count",
];

#[test]
fn a_finished_windowed_run_run_again_writes_nothing_and_says_it_is_complete() {
    let dir = scratch("again");
    write_lines(&dir.join("a.log"), 1, 100_000);
    let first = run(&WINDOWED, &dir);
    assert!(first.status.success(), "{}", stderr(&first));
    let written = slices(&dir.join("out"));
    let windows = labelled_counts(&dir.join("out"));
    assert_eq!(windows.iter().map(|(_, n)| n).sum::<u64>(), 5 * 100_000, "{windows:?}");

    let second = run(&WINDOWED, &dir);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(slices(&dir.join("out")), written, "nothing written by the second run");
    assert!(
        stderr(&second).contains("is complete: it finished after slice") && stderr(&second).contains("nothing written"),
        "{}",
        stderr(&second)
    );
    let labels: Vec<&String> = windows.iter().map(|(label, _)| label).collect();
    let unique: std::collections::BTreeSet<&&String> = labels.iter().collect();
    assert_eq!(unique.len(), labels.len(), "each window once: {labels:?}");
}

#[test]
fn a_grown_input_after_end_of_input_windows_is_refused_with_how_to_go_on() {
    let dir = scratch("grown");
    let log = dir.join("a.log");
    write_lines(&log, 1, 1000);
    assert!(run(&WINDOWED, &dir).status.success());
    let written = slices(&dir.join("out"));
    write_lines(&log, 1001, 1500);

    let refused = run(&WINDOWED, &dir);
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));
    assert_eq!(slices(&dir.join("out")), written, "nothing written");
    let said = stderr(&refused);
    assert!(said.contains("the input has grown since"), "{said}");
    assert!(said.contains("--reset"), "{said}");
    // The way to go on that it names: the lines after the end, as a file of their own.
    let offset = std::fs::read_to_string(&log).expect("log")[..]
        .find("l1001\n")
        .expect("new line")
        + 1;
    let tail = format!("tail -c +{offset} ");
    assert!(said.contains(&tail), "{said}");
    let added = std::process::Command::new("tail")
        .args(["-c", &format!("+{offset}")])
        .arg(&log)
        .output()
        .expect("tail");
    assert_eq!(text(&added.stdout).lines().count(), 500);
    assert!(text(&added.stdout).starts_with("l1001\n"));

    let mut reset = WINDOWED.to_vec();
    reset.insert(1, "--reset");
    let again = run(&reset, &dir);
    assert!(again.status.success(), "{}", stderr(&again));
    let windows = labelled_counts(&dir.join("out"));
    assert_eq!(windows.iter().map(|(_, n)| n).sum::<u64>(), 5 * 1500);
}

#[test]
fn a_finished_run_without_windows_writes_no_empty_slice_and_reads_on_when_the_file_grows() {
    let dir = scratch("plain");
    let log = dir.join("a.log");
    write_lines(&log, 1, 100_000);
    let args = [
        "run",
        "a.log",
        "--every",
        "1s",
        "--checkpoint",
        "ck",
        "--output-dir",
        "out",
        "count",
    ];
    assert!(run(&args, &dir).status.success());
    let again = run(&args, &dir);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        labelled_counts(&dir.join("out")),
        vec![("1.000s".to_string(), 100_000)],
        "no empty slice appended"
    );
    // A log that grows between runs (a cron job): the new lines are read on.
    write_lines(&log, 100_001, 100_010);
    let grown = run(&args, &dir);
    assert!(grown.status.success(), "{}", stderr(&grown));
    assert!(
        stderr(&grown).contains("resumed from there: slice 2 holds what was added"),
        "{}",
        stderr(&grown)
    );
    assert_eq!(
        labelled_counts(&dir.join("out")).last(),
        Some(&("2.000s".to_string(), 10))
    );
    let count = run(&args, &dir);
    assert!(stderr(&count).contains("is complete"), "{}", stderr(&count));
    assert_eq!(slices(&dir.join("out")).len(), 2);
}

#[test]
fn a_finished_count_run_and_a_finished_directory_run_write_nothing_again() {
    let dir = scratch("count-dir");
    write_lines(&dir.join("a.log"), 1, 1000);
    let count = [
        "run",
        "a.log",
        "--count",
        "300",
        "--checkpoint",
        "ck",
        "--output-dir",
        "out",
        "count",
    ];
    assert!(run(&count, &dir).status.success());
    let written = slices(&dir.join("out"));
    assert_eq!(written.len(), 4);
    let again = run(&count, &dir);
    assert!(stderr(&again).contains("is complete"), "{}", stderr(&again));
    assert_eq!(slices(&dir.join("out")), written);

    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).expect("logs");
    write_lines(&logs.join("1.log"), 1, 100);
    write_lines(&logs.join("2.log"), 101, 150);
    let windowed = [
        "run",
        "logs",
        "--every",
        "50ms",
        "--window",
        "100ms",
        "--checkpoint",
        "dck",
        "--output-dir",
        "dout",
        "count",
    ];
    let first = run(&windowed, &dir);
    assert!(first.status.success(), "{}", stderr(&first));
    let written = slices(&dir.join("dout"));
    assert_eq!(
        labelled_counts(&dir.join("dout")).iter().map(|(_, n)| n).sum::<u64>(),
        2 * 150
    );
    let again = run(&windowed, &dir);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("is complete"), "{}", stderr(&again));
    assert_eq!(slices(&dir.join("dout")), written, "nothing written again");
    write_lines(&logs.join("3.log"), 151, 160);
    let grown = run(&windowed, &dir);
    assert_eq!(grown.status.code(), Some(6), "{}", stderr(&grown));
    assert!(
        stderr(&grown).contains("move the files added since"),
        "{}",
        stderr(&grown)
    );
}

/// The command on its own checkpoint and output directories.
fn windowed_into(ck: &'static str, out: &'static str) -> Vec<&'static str> {
    WINDOWED
        .iter()
        .map(|arg| match *arg {
            "ck" => ck,
            "out" => out,
            other => other,
        })
        .collect()
}

#[test]
fn killed_at_random_moments_after_the_last_commit_too_each_window_is_written_once() {
    let dir = scratch("kill");
    // Read in far less than one slice: the whole file is in the first slice or two.
    write_lines(&dir.join("a.log"), 1, 400_000);
    let began = Instant::now();
    assert!(run(&windowed_into("ck-probe", "out-probe"), &dir).status.success());
    let whole = began.elapsed();
    let mut delays = Delays::seeded();
    let mut killed_at = Vec::new();
    for round in 0..8 {
        // Each round a fresh run, started five times and killed with SIGKILL at a random moment
        // of each (before, between and after its commits; once it has finished, a run again),
        // then run once more to its end.
        let (ck, out) = (dir.join("ck"), dir.join("out"));
        let _ = (std::fs::remove_dir_all(&ck), std::fs::remove_dir_all(&out));
        for start in 0..5 {
            let mut child = zpark(&WINDOWED, &dir).stderr(Stdio::null()).spawn().expect("spawn");
            // A random moment, or right after a commit is seen: the first slice's, or the end's
            // (then the run is finished and only its exit is left).
            let moment = [Moment::Within(whole), Moment::AfterFirstCommit, Moment::AfterTheEnd][(round + start) % 3];
            wait_for(&mut child, &ck, moment, &mut delays, whole * 4);
            if let Some(status) = child.try_wait().expect("try_wait") {
                assert!(status.success(), "round {round}: a run failed");
                continue;
            }
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            killed_at.push(checkpoint_state(&ck));
        }
        let last = run(&WINDOWED, &dir);
        assert!(last.status.success(), "round {round}: {}", stderr(&last));
        let windows = labelled_counts(&out);
        let mut labels: Vec<&String> = windows.iter().map(|(label, _)| label).collect();
        labels.sort();
        let before = labels.len();
        labels.dedup();
        assert_eq!(
            labels.len(),
            before,
            "round {round}: a window written twice: {windows:?}"
        );
        assert_eq!(
            windows.iter().map(|(_, n)| n).sum::<u64>(),
            5 * 400_000,
            "round {round}: every line in window / slide = 5 windows: {windows:?}"
        );
    }
    eprintln!(
        "killed {} times, at (committed slice, finished): {killed_at:?}; a whole run takes {whole:?}",
        killed_at.len()
    );
    assert!(killed_at.len() >= 15, "only {} kills", killed_at.len());
    let states: std::collections::BTreeSet<&(u64, bool)> = killed_at.iter().collect();
    assert!(
        states.len() >= 2,
        "the kills all landed at one point of the run: {killed_at:?}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_run_quietly_with_and_without_a_checkpoint() {
    let dir = scratch("head");
    write_lines(&dir.join("a.log"), 1, 300_000);
    for checkpointed in [false, true] {
        let mut args = vec!["run", "a.log", "--count", "100", "count"];
        if checkpointed {
            args.splice(1..1, ["--checkpoint", "ck"]);
        }
        let mut child = zpark(&args, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        // `head -1`: the reader goes away after one line.
        assert_eq!(first, "1\t100\n");
        let output = child.wait_with_output().expect("wait");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(!stderr(&output).contains("failed"), "{}", stderr(&output));
    }
    // Nothing committed that was not written: the next run goes on after the committed slices
    // and, to a reader that stays, writes every slice after them.
    let checkpoint: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ck/checkpoint.json")).expect("checkpoint"))
            .expect("json");
    let committed = checkpoint["slice"].as_u64().expect("slice");
    assert!((1..3000).contains(&committed), "{committed}");
    let rest = run(&["run", "a.log", "--checkpoint", "ck", "--count", "100", "count"], &dir);
    let numbers: Vec<u64> = text(&rest.stdout)
        .lines()
        .map(|line| {
            line.split('\t')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("slice number")
        })
        .collect();
    assert_eq!(numbers, (committed + 1..=3000).collect::<Vec<_>>());
}

#[test]
fn zpark_run_piped_into_head_exits_0_and_says_nothing() {
    let dir = scratch("head-shell");
    write_lines(&dir.join("a.log"), 1, 300_000);
    let zpark = env!("CARGO_BIN_EXE_zpark");
    for extra in ["", "--checkpoint ck"] {
        // The command as a user types it; the shell reports zpark's own exit status.
        let output = std::process::Command::new("bash")
            .current_dir(&dir)
            .arg("-c")
            .arg(format!(
                "'{zpark}' run a.log --count 100 {extra} count | head -1; exit ${{PIPESTATUS[0]}}"
            ))
            .output()
            .expect("bash");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(text(&output.stdout), "1\t100\n");
        assert!(!stderr(&output).contains("failed"), "{}", stderr(&output));
        assert!(!stderr(&output).contains("Broken pipe"), "{}", stderr(&output));
    }
}

#[test]
fn count_slices_hold_n_lines_of_data_the_csv_header_is_not_one() {
    let dir = scratch("csv");
    let mut csv = String::from("name,n\n");
    for i in 1..=250 {
        csv.push_str(&format!("k{},{i}\n", i % 3));
    }
    std::fs::write(dir.join("c.csv"), &csv).expect("csv");
    let args = [
        "run", "c.csv", "--format", "csv", "--field", "name", "--count", "100", "count",
    ];
    let output = run(&args, &dir);
    assert_eq!(text(&output.stdout), "1\t100\n2\t100\n3\t50\n", "{}", stderr(&output));
    // As `split -l 100` cuts the rows, and the lines named are the file's.
    let json = run(&[&args[..8], &["--output", "json", "count"]].concat(), &dir);
    let first = text(&json.stdout)
        .lines()
        .next()
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        first.contains("\"start\":2") && first.contains("\"end\":101"),
        "{first}"
    );

    // Checkpointed, stopped and resumed: the same slices.
    let checkpointed = [&args[..8], &["--checkpoint", "ck", "--output-dir", "out", "count"]].concat();
    assert!(run(&checkpointed, &dir).status.success());
    let counts: Vec<u64> = labelled_counts(&dir.join("out")).into_iter().map(|(_, n)| n).collect();
    assert_eq!(counts, vec![100, 100, 50]);
}

#[test]
fn count_slices_count_blank_lines_and_rejected_records_as_lines() {
    let dir = scratch("blank");
    // Ten lines: two blank, one whose field is not a number.
    std::fs::write(dir.join("n.log"), "1\n2\n\n3\nx\n4\n \n5\n6\n7\n").expect("log");
    let output = run(
        &[
            "run",
            "n.log",
            "--field",
            "1",
            "--parse",
            "int",
            "--on-error",
            "skip",
            "--count",
            "5",
            "count",
        ],
        &dir,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // Lines 1-5 hold 3 numbers (a blank line and `x` are no records), lines 6-10 hold 4.
    assert_eq!(text(&output.stdout), "1\t3\n2\t4\n");
    assert!(stderr(&output).contains("1 rejected"), "{}", stderr(&output));
}
