//! `zpark run --checkpoint`: killed and restarted, the command writes what one uninterrupted
//! run writes; checkpoints of another pipeline or corrupt ones stop it with exit code 6.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{run, signal, zpark};

fn scratch(name: &str) -> PathBuf {
    common::scratch("checkpoint", name)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The slice files of an output directory, in order.
fn slices(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("output dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("slice-")))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().expect("file name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("slice file"))
        })
        .collect()
}

fn write_log(dir: &Path, lines: u64) {
    let text: String = (0..lines)
        .map(|i| format!("user{} {}\n", (i * 31) % 97, i % 7))
        .collect();
    std::fs::write(dir.join("app.log"), text).expect("log");
}

const PIPELINE: [&str; 11] = [
    "run",
    "app.log",
    "--field",
    "1",
    "--count",
    "2000",
    "--checkpoint",
    "ckpt",
    "--output-dir",
    "out",
    "top",
];

#[test]
fn killed_and_restarted_the_command_writes_what_one_run_writes() {
    let dir = scratch("kill");
    write_log(&dir, 200_000);
    let mut once: Vec<&str> = PIPELINE.to_vec();
    once[7] = "ckpt-once";
    once[9] = "out-once";
    once.push("5");
    let began = Instant::now();
    let output = run(&once, &dir);
    assert!(output.status.success(), "{}", stderr(&output));
    let whole = began.elapsed();
    let expected = slices(&dir.join("out-once"));
    assert_eq!(expected.len(), 100);

    let mut args = PIPELINE.to_vec();
    args.push("5");
    let mut kills = 0;
    for attempt in 0..10u32 {
        let mut child = zpark(&args, &dir).stderr(Stdio::null()).spawn().expect("spawn");
        std::thread::sleep(whole / 20 * (attempt % 3 + 1) / 3 + Duration::from_millis(5));
        if child.try_wait().expect("try_wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reap");
    }
    let last = run(&args, &dir);
    assert!(last.status.success(), "{}", stderr(&last));
    assert!(kills >= 5, "only {kills} runs were still going when killed");
    assert_eq!(slices(&dir.join("out")), expected);
}

#[test]
fn another_pipeline_or_a_corrupt_checkpoint_exits_6_until_reset() {
    let dir = scratch("refuse");
    write_log(&dir, 100);
    let mut args = PIPELINE.to_vec();
    args.push("3");
    assert!(run(&args, &dir).status.success());

    let before = slices(&dir.join("out"));
    let mut other = PIPELINE.to_vec();
    other[5] = "50";
    other.push("3");
    let refused = run(&other, &dir);
    assert_eq!(refused.status.code(), Some(6));
    assert_eq!(slices(&dir.join("out")), before, "the output directory untouched");
    assert!(
        stderr(&refused).contains("`slicing` was `count 2000`, now `count 50`"),
        "{}",
        stderr(&refused)
    );

    std::fs::write(dir.join("ckpt/checkpoint.json"), "{ torn").expect("corrupt it");
    let corrupt = run(&args, &dir);
    assert_eq!(corrupt.status.code(), Some(6));
    assert!(stderr(&corrupt).contains("corrupt"), "{}", stderr(&corrupt));
    assert_eq!(slices(&dir.join("out")), before, "the output directory untouched");

    other.insert(1, "--reset");
    let reset = run(&other, &dir);
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert_eq!(slices(&dir.join("out")).len(), 2, "100 records in slices of 50");
}

#[test]
fn a_resumed_run_continues_after_the_last_committed_slice() {
    let dir = scratch("resume");
    write_log(&dir, 10);
    let args = ["run", "app.log", "--count", "4", "--checkpoint", "ckpt", "count"];
    let first = run(&args, &dir);
    assert_eq!(String::from_utf8_lossy(&first.stdout), "1\t4\n2\t4\n3\t2\n");
    std::fs::write(dir.join("app.log"), {
        let mut text = std::fs::read_to_string(dir.join("app.log")).unwrap();
        text.push_str("more 1\nmore 2\n");
        text
    })
    .unwrap();
    let second = run(&args, &dir);
    assert_eq!(String::from_utf8_lossy(&second.stdout), "4\t2\n");
    assert!(
        stderr(&second).contains("after slice 3 (input line 10)"),
        "{}",
        stderr(&second)
    );
}

#[test]
fn checkpoints_need_slices_a_resumed_run_cuts_again() {
    let dir = scratch("usage");
    write_log(&dir, 10);
    let output = run(&["run", "app.log", "--by", "1", "--checkpoint", "c", "count"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--count N or --every DUR"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn standard_input_with_a_checkpoint_warns_once() {
    let dir = scratch("stdin");
    let mut child = zpark(&["run", "-", "--count", "2", "--checkpoint", "c", "count"], &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"a\nb\nc\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        stderr(&output).matches("at-least-once").count(),
        1,
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_run_ends_its_windows_once_and_a_grown_file_is_refused_until_reset() {
    let dir = scratch("window");
    std::fs::write(dir.join("n.txt"), "1\n2\n3\n").unwrap();
    let args = [
        "run",
        "n.txt",
        "--parse",
        "int",
        "--every",
        "1s",
        "--window",
        "2s",
        "--checkpoint",
        "ckpt",
        "sum",
    ];
    let first = run(&args, &dir);
    // Slice 1, then at the end of input the window of slices 1 and 2 (committed as slice 2).
    assert_eq!(String::from_utf8_lossy(&first.stdout), "1.000s\t6\n2.000s\t6\n");
    let again = run(&args, &dir);
    // Finished: nothing new, nothing written (an empty slice 3 would contradict window 2.000s).
    assert!(again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stdout), "");
    assert!(stderr(&again).contains("is complete"), "{}", stderr(&again));
    std::fs::write(dir.join("n.txt"), "1\n2\n3\n10\n").unwrap();
    let second = run(&args, &dir);
    // Its end-of-input windows are written: reading on would contradict them.
    assert_eq!(second.status.code(), Some(6), "{}", stderr(&second));
    assert_eq!(String::from_utf8_lossy(&second.stdout), "");
    let mut reset = args.to_vec();
    reset.insert(1, "--reset");
    let third = run(&reset, &dir);
    assert_eq!(String::from_utf8_lossy(&third.stdout), "1.000s\t16\n2.000s\t16\n");
}

/// Sends `signal` (`INT`, `TERM`, `KILL`) to a child.

#[test]
fn sigint_sigterm_and_sigkill_mixed_leave_the_output_of_one_uninterrupted_run() {
    let dir = scratch("signals");
    // A growing file, followed: the run is still going when the signals come.
    write_log(&dir, 20_000);
    let follow = |checkpoint: &'static str, out: &'static str| {
        vec![
            "run",
            "--follow",
            "app.log",
            "--field",
            "1",
            "--count",
            "3000",
            "--checkpoint",
            checkpoint,
            "--output-dir",
            out,
            "count-by-value",
        ]
    };
    let mut stops = 0;
    for (round, kind) in ["INT", "TERM", "KILL", "INT", "TERM", "INT"].into_iter().enumerate() {
        let mut child = zpark(&follow("ckpt", "out"), &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(400));
        // More lines while it runs: the signal comes in the middle of a slice.
        let more: String = (0..1_234u64)
            .map(|i| format!("user{} {}\n", (round as u64 * 7 + i) % 97, i % 7))
            .collect();
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("app.log"))
            .expect("log");
        std::io::Write::write_all(&mut log, more.as_bytes()).expect("append");
        std::thread::sleep(Duration::from_millis(300));
        signal(&child, kind);
        let status = child.wait().expect("reap");
        stops += 1;
        if kind != "KILL" {
            assert!(status.success(), "stopped by SIG{kind}: {status}");
        }
    }
    // The same file, read whole by one run that is not stopped, in the same slices.
    let text = std::fs::read_to_string(dir.join("app.log")).expect("log");
    let whole_slices = text.lines().count() / 3000;
    let once = run(
        &[
            "run",
            "app.log",
            "--field",
            "1",
            "--count",
            "3000",
            "--checkpoint",
            "ckpt-once",
            "--output-dir",
            "out-once",
            "count-by-value",
        ],
        &dir,
    );
    assert!(once.status.success(), "{}", stderr(&once));
    let expected = slices(&dir.join("out-once"));
    let got = slices(&dir.join("out"));
    assert_eq!(stops, 6);
    assert_eq!(
        got.len(),
        whole_slices,
        "only whole slices are committed when a signal stops the run"
    );
    assert_eq!(got, expected[..whole_slices].to_vec());
}

#[test]
fn a_second_run_on_the_same_checkpoint_is_refused_naming_the_first() {
    let dir = scratch("second");
    write_log(&dir, 1000);
    let args = [
        "run",
        "--follow",
        "app.log",
        "--count",
        "100",
        "--checkpoint",
        "ckpt",
        "count",
    ];
    let first = zpark(&args, &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(400));
    let second = run(&args, &dir);
    assert_eq!(second.status.code(), Some(6), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!("another run uses it (zpark PID {})", first.id())),
        "{}",
        stderr(&second)
    );
    assert_eq!(String::from_utf8_lossy(&second.stdout), "", "nothing written");
    let mut first = first;
    signal(&first, "KILL");
    first.wait().expect("reap");
    // A lock left by a killed process does not block.
    let third = zpark(&args, &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(400));
    signal(&third, "TERM");
    let third = third.wait_with_output().expect("reap");
    assert!(third.status.success(), "{}", stderr(&third));
}

#[test]
fn an_edited_checkpoint_a_replaced_input_and_the_same_file_named_otherwise() {
    let dir = scratch("edited");
    write_log(&dir, 100);
    let args = ["run", "app.log", "--count", "30", "--checkpoint", "ckpt", "count"];
    assert!(run(&args, &dir).status.success());
    // An edit that leaves valid JSON: the offset moved by 21.
    let path = dir.join("ckpt/checkpoint.json");
    let mut saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let offset = saved["source"]["offset"].as_u64().unwrap();
    saved["source"]["offset"] = serde_json::Value::from(offset + 21);
    std::fs::write(&path, serde_json::to_vec(&saved).unwrap()).unwrap();
    let edited = run(&args, &dir);
    assert_eq!(edited.status.code(), Some(6), "{}", stderr(&edited));
    assert!(
        stderr(&edited).contains("checksum does not match"),
        "{}",
        stderr(&edited)
    );
    assert_eq!(String::from_utf8_lossy(&edited.stdout), "");

    // The same file named another way is the same pipeline.
    let reset = [
        "run",
        "app.log",
        "--count",
        "30",
        "--checkpoint",
        "ckpt",
        "--reset",
        "count",
    ];
    assert!(run(&reset, &dir).status.success());
    let absolute = dir.join("app.log").display().to_string();
    let same = run(
        &["run", &absolute, "--count", "30", "--checkpoint", "ckpt", "count"],
        &dir,
    );
    assert!(same.status.success(), "{}", stderr(&same));
    let dotted = run(
        &["run", "./app.log", "--count", "30", "--checkpoint", "ckpt", "count"],
        &dir,
    );
    assert!(dotted.status.success(), "{}", stderr(&dotted));

    // A replaced input is a refusal to use the checkpoint: exit 6.
    std::fs::remove_file(dir.join("app.log")).unwrap();
    write_log(&dir, 50);
    let replaced = run(&args, &dir);
    assert_eq!(replaced.status.code(), Some(6), "{}", stderr(&replaced));
    assert!(
        stderr(&replaced).contains("cannot resume reading"),
        "{}",
        stderr(&replaced)
    );
    assert_eq!(String::from_utf8_lossy(&replaced.stdout), "", "nothing written");
}

/// Waits until `out` holds `n` slice files (at most 20 s) while `child` runs.
fn wait_for_slices(out: &Path, n: usize, child: &mut std::process::Child) {
    let started = Instant::now();
    let committed = || {
        std::fs::read_dir(out).map_or(0, |d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("slice-"))
            })
            .count()
        })
    };
    while committed() < n {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("the run ended ({status}) before {n} slices");
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let mut text = String::new();
            if let Some(err) = child.stderr.as_mut() {
                let _ = std::io::Read::read_to_string(err, &mut text);
            }
            let files: Vec<_> = std::fs::read_dir(out)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
                .unwrap_or_default();
            panic!("{n} slices never came: {files:?}; {text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_log_rotated_while_the_run_was_stopped_is_read_on_from_its_old_file() {
    let dir = scratch("rotated");
    let lines = |from: u64, to: u64| -> String { (from..=to).map(|i| format!("seq{i} x\n")).collect() };
    std::fs::write(dir.join("app.log"), lines(1, 20_003)).unwrap();
    let args = [
        "run",
        "--follow",
        "app.log",
        "--field",
        "1",
        "--count",
        "5000",
        "--checkpoint",
        "ck",
        "--output-dir",
        "out",
        "count",
    ];
    let mut first = zpark(&args, &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for_slices(&dir.join("out"), 4, &mut first);
    signal(&first, "KILL");
    first.wait().expect("reap");
    // logrotate while it was stopped: the checkpoint names the old file, now app.log.1.
    std::fs::rename(dir.join("app.log"), dir.join("app.log.1")).unwrap();
    std::fs::write(dir.join("app.log"), lines(20_004, 30_000)).unwrap();
    let mut second = zpark(&args, &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for_slices(&dir.join("out"), 6, &mut second);
    signal(&second, "TERM");
    let second = second.wait_with_output().expect("reap");
    assert!(second.status.success(), "{}", stderr(&second));

    std::fs::write(dir.join("all.log"), lines(1, 30_000)).unwrap();
    let once = run(
        &[
            "run",
            "all.log",
            "--field",
            "1",
            "--count",
            "5000",
            "--checkpoint",
            "ck-once",
            "--output-dir",
            "out-once",
            "count",
        ],
        &dir,
    );
    assert!(once.status.success(), "{}", stderr(&once));
    assert_eq!(slices(&dir.join("out")), slices(&dir.join("out-once")));
}

#[test]
fn a_committed_slice_file_changed_or_deleted_or_the_whole_output_removed_is_refused() {
    let dir = scratch("lost-output");
    write_log(&dir, 100);
    let mut args = PIPELINE.to_vec();
    args[5] = "30";
    args.push("3");
    assert!(run(&args, &dir).status.success());
    let third = dir.join("out/slice-0000000003.txt");
    let original = std::fs::read(&third).unwrap();
    std::fs::write(&third, b"edited by hand\n").unwrap();
    let changed = run(&args, &dir);
    assert_eq!(changed.status.code(), Some(6), "{}", stderr(&changed));
    assert!(
        stderr(&changed).contains("slice-0000000003.txt was changed since it was written"),
        "{}",
        stderr(&changed)
    );
    assert_eq!(std::fs::read(&third).unwrap(), b"edited by hand\n", "nothing written");
    std::fs::write(&third, original).unwrap();
    std::fs::remove_file(dir.join("out/slice-0000000002.txt")).unwrap();
    let refused = run(&args, &dir);
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("slice-0000000002.txt"),
        "{}",
        stderr(&refused)
    );
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let refused = run(&args, &dir);
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("4 of the 4 committed slice files are missing"),
        "{}",
        stderr(&refused)
    );
    args.insert(1, "--reset");
    assert!(run(&args, &dir).status.success());
    assert_eq!(slices(&dir.join("out")).len(), 4);
}

#[test]
fn a_rotated_log_whose_old_file_is_gone_is_refused_or_skipped_with_skip_lost() {
    let dir = scratch("skip-lost");
    std::fs::write(dir.join("app.log"), "a\nb\nc\nd\n").unwrap();
    let args = [
        "run",
        "app.log",
        "--count",
        "2",
        "--checkpoint",
        "ck",
        "--output-dir",
        "out",
        "count",
    ];
    assert!(run(&args, &dir).status.success());
    // Rotated away and deleted while stopped: the old file's rest cannot be read.
    // (The new file is made before the old one is deleted: it cannot reuse its inode.)
    std::fs::rename(dir.join("app.log"), dir.join("app.log.1")).unwrap();
    std::fs::write(dir.join("app.log"), "e\nf\ng\n").unwrap();
    std::fs::remove_file(dir.join("app.log.1")).unwrap();
    let refused = run(&args, &dir);
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("cannot resume reading")
            && stderr(&refused).contains("its bytes after offset 8 cannot be read"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(slices(&dir.join("out")).len(), 2, "the committed output kept");

    let mut skipping = args.to_vec();
    skipping.insert(1, "--skip-lost");
    let skipped = run(&skipping, &dir);
    assert!(skipped.status.success(), "{}", stderr(&skipped));
    assert!(
        stderr(&skipped).contains("lost: the rest of the file app.log was in after byte 8"),
        "{}",
        stderr(&skipped)
    );
    let out = slices(&dir.join("out"));
    assert_eq!(
        out.len(),
        4,
        "the two committed slices kept, the new file's two after them"
    );
    assert_eq!((out[2].1.as_str(), out[3].1.as_str()), ("3\t2\n", "4\t1\n"));
}

/// Runs `args` until its standard output holds `lines` lines, then sends it SIGINT: its whole
/// output and what it said.
fn interrupted_after(args: &[&str], dir: &Path, lines: usize) -> (String, String) {
    let mut child = zpark(args, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut text = String::new();
    for _ in 0..lines {
        std::io::BufRead::read_line(&mut stdout, &mut text).expect("a line of output");
    }
    // The reader waits at the end of the file with the slice in progress.
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    std::io::Read::read_to_string(&mut stdout, &mut text).expect("the rest of the output");
    let output = child.wait_with_output().expect("reap");
    assert!(output.status.success(), "{}", stderr(&output));
    (text, stderr(&output))
}

#[test]
fn ctrl_c_prints_the_slice_in_progress_as_partial_and_the_next_run_reads_it_whole() {
    let dir = scratch("partial");
    std::fs::write(
        dir.join("a.log"),
        (1..=2500).map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
    let args = |format| {
        vec![
            "run",
            "--follow",
            "a.log",
            "--count",
            "1000",
            "--checkpoint",
            "ck",
            "--output",
            format,
            "count",
        ]
    };
    let (text, said) = interrupted_after(&args("text"), &dir, 2);
    assert_eq!(text, "1\t1000\n2\t1000\n3 (partial)\t500\n");
    assert!(
        said.contains("slice 3 was cut short by the signal (500 of 1000 lines)"),
        "{said}"
    );
    assert!(said.contains("not committed"), "{said}");

    // The next run reads slice 3 again, whole once the file has its other 500 lines.
    let more: String = (2501..=3000).map(|i| format!("{i}\n")).collect();
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("a.log"))
        .unwrap();
    std::io::Write::write_all(&mut log, more.as_bytes()).unwrap();
    let (text, said) = interrupted_after(&args("text"), &dir, 1);
    assert_eq!(text, "3\t1000\n", "{said}");
    assert!(!said.contains("cut short"), "nothing was cut short: {said}");

    // JSON marks the partial slice with a field.
    std::fs::write(dir.join("a.log"), "1\n2\n").unwrap();
    let mut reset = args("json");
    reset.insert(1, "--reset");
    let (text, _) = interrupted_after(&reset, &dir, 0);
    let object: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
    assert_eq!(
        (object["count"].as_u64(), object["partial"].as_bool()),
        (Some(2), Some(true))
    );
}
