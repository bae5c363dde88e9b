//! Rows 10 to 13: records at memory speed. A log of realistic lines (dpkg-like: a date, a
//! time, an action word, a state, a package name, a version) generated from a fixed seed;
//! `zpark run` against `mawk` (Debian's `awk`, one process) in wall time, and the library's
//! block path against a one-thread Rust loop, each in the same run. Peak memory is printed
//! with each row.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rustc_hash::FxHashMap;
use zpark::discretize::LineBlockExt;
use zpark::prelude::*;

use crate::rows::median;
use crate::{Row, Scale};

const ACTIONS: [&str; 8] = [
    "status",
    "configure",
    "install",
    "upgrade",
    "remove",
    "trigproc",
    "startup",
    "purge",
];
const STATES: [&str; 7] = [
    "installed",
    "half-configured",
    "unpacked",
    "half-installed",
    "triggers-pending",
    "config-files",
    "not-installed",
];
const NAMES: [&str; 10] = [
    "ssl", "curl", "gtk", "python3", "perl", "xml", "z", "ffi", "glib", "pango",
];

/// A small fixed-seed generator (xorshift64*): the same log on every machine.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % n
    }
}

/// The fields of line `i`: date, time, action, state, package, version.
fn fields(i: u64, random: &mut Seeded) -> [String; 6] {
    let (h, m, s) = ((i / 20_000) % 24, (i / 300) % 60, (i / 5) % 60);
    [
        "2025-06-24".to_string(),
        format!("{h:02}:{m:02}:{s:02}"),
        ACTIONS[random.below(8) as usize].to_string(),
        STATES[random.below(7) as usize].to_string(),
        format!("lib{}{}:amd64", NAMES[random.below(10) as usize], random.below(30)),
        format!("{}.{}-{}", random.below(10), random.below(41), 1 + random.below(9)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LogFormat {
    Plain,
    Json,
    Csv,
}

/// The log of `lines` lines in `format`, written once into the bench's directory (kept for the
/// next run: its content depends only on the seed, the format and the line count).
fn log(lines: u64, format: LogFormat) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join("zpark-bench-logs");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{format:?}-{lines}.log").to_lowercase());
    if path.exists() {
        return Ok(path);
    }
    let partial = path.with_extension("partial");
    let mut out = BufWriter::new(std::fs::File::create(&partial)?);
    let mut random = Seeded(0x9E37_79B9_7F4A_7C15);
    if format == LogFormat::Csv {
        writeln!(out, "date,time,action,state,package,version")?;
    }
    for i in 0..lines {
        let [date, time, action, state, package, version] = fields(i, &mut random);
        match format {
            LogFormat::Plain => writeln!(out, "{date} {time} {action} {state} {package} {version}")?,
            LogFormat::Csv => writeln!(out, "{date},{time},{action},{state},{package},{version}")?,
            LogFormat::Json => writeln!(
                out,
                r#"{{"date":"{date}","time":"{time}","action":"{action}","state":"{state}","package":"{package}","version":"{version}"}}"#
            )?,
        }
    }
    out.flush()?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// `count` plain log files of `lines` lines each (file `i` from its own seed), written once
/// into the bench's directory and kept for the next run: what row 16's directory receives.
#[cfg(feature = "spark")]
pub(crate) fn plain_files(count: usize, lines: u64) -> anyhow::Result<Vec<PathBuf>> {
    let dir = std::env::temp_dir().join(format!("zpark-bench-logs/files-{count}x{lines}"));
    std::fs::create_dir_all(&dir)?;
    (0..count)
        .map(|i| {
            let path = dir.join(format!("part-{i:02}.log"));
            if !path.exists() {
                let partial = path.with_extension("partial");
                let mut out = BufWriter::new(std::fs::File::create(&partial)?);
                let mut random = Seeded(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
                for n in 0..lines {
                    let [date, time, action, state, package, version] = fields(n, &mut random);
                    writeln!(out, "{date} {time} {action} {state} {package} {version}")?;
                }
                out.flush()?;
                std::fs::rename(&partial, &path)?;
            }
            Ok(path)
        })
        .collect()
}

/// The `zpark` binary beside this one, built if missing.
fn zpark_binary() -> anyhow::Result<PathBuf> {
    let here = std::env::current_exe()?;
    let binary = here.with_file_name("zpark");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "--release", "--locked", "-p", "zpark-cli", "--bin", "zpark"])
            .status()?;
        anyhow::ensure!(status.success(), "cannot build the zpark binary for rows 10 to 12");
    }
    Ok(binary)
}

/// `mawk`, installed with apt-get when missing (Debian's default awk).
fn mawk() -> anyhow::Result<&'static str> {
    let present = |program: &str| Command::new(program).arg("-W").arg("version").output().is_ok();
    if !present("mawk") {
        eprintln!("installing mawk (the baseline of rows 10 and 11)...");
        let _ = Command::new("apt-get").args(["install", "-y", "-qq", "mawk"]).status();
    }
    anyhow::ensure!(present("mawk"), "rows 10 and 11 need mawk: apt-get install mawk");
    Ok("mawk")
}

/// A command's wall time and the peak resident memory seen while it ran (polled every 5 ms
/// from /proc), its output thrown away.
fn run_measured(program: &Path, args: &[&str]) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::ensure!(status.success(), "{} {args:?} failed: {status}", program.display());
            break;
        }
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            let hwm = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok());
            peak = peak.max(hwm.unwrap_or(0) * 1024);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok((started.elapsed().as_secs_f64(), peak))
}

/// Median wall time and the largest peak memory over `repeats` runs.
fn measured(repeats: usize, program: &Path, args: &[&str]) -> anyhow::Result<(f64, u64)> {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..repeats {
        let (seconds, rss) = run_measured(program, args)?;
        times.push(seconds);
        peak = peak.max(rss);
    }
    Ok((median(times), peak))
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

const MAX_RSS: u64 = 128 * 1000 * 1000;

fn log_lines(scale: Scale) -> u64 {
    if scale.repeats <= 3 {
        2_000_000
    } else {
        10_000_000
    }
}

/// zpark run with `slicing` against mawk on the plain log; `speedup` is the target.
fn against_mawk(scale: Scale, number: u8, slicing: &[&str], speedup: f64, workload: &str) -> anyhow::Result<Row> {
    let lines = log_lines(scale);
    let path = log(lines, LogFormat::Plain)?;
    let path = path.to_string_lossy().into_owned();
    let zpark = zpark_binary()?;
    let awk = Path::new(mawk()?).to_path_buf();
    let repeats = scale.repeats.min(5);
    let (awk_seconds, awk_rss) = measured(repeats, &awk, &["{c[$4]++} END {for (k in c) print k, c[k]}", &path])?;
    let mut args = vec!["run", path.as_str(), "--field", "4"];
    args.extend_from_slice(slicing);
    args.push("count-by-value");
    let (seconds, rss) = measured(repeats, &zpark, &args)?;
    let ratio = awk_seconds / seconds;
    let rate = lines as f64 / seconds / 1e6;
    let rate_met = number != 10 || rate >= 20.0;
    Ok(Row {
        number,
        workload: format!(
            "{workload}: `zpark run LOG --field 4 {} count-by-value`, {lines} lines",
            slicing.join(" ")
        ),
        figure: format!("{seconds:.2} s ({rate:.1} M lines/s), peak {}", mb(rss)),
        baseline: format!("mawk '{{c[$4]++}}' {awk_seconds:.2} s, peak {}", mb(awk_rss)),
        note: format!("median of {repeats} runs, wall time, 2 cores"),
        result: format!("{ratio:.2}x mawk"),
        target: format!(
            ">= {speedup}x mawk{}, peak <= 128 MB",
            if number == 10 { ", >= 20 M lines/s" } else { "" }
        ),
        met: Some(ratio >= speedup && rate_met && rss <= MAX_RSS),
    })
}

/// Row 10: the default slicing (every 1 s).
pub fn default_slicing(scale: Scale) -> anyhow::Result<Row> {
    against_mawk(scale, 10, &[], 5.0, "records at memory speed, default slicing")
}

/// Row 10b: slices of 100 000 lines.
pub fn count_slicing(scale: Scale) -> anyhow::Result<Row> {
    against_mawk(
        scale,
        10,
        &["--count", "100000"],
        5.0,
        "records at memory speed, slices of lines",
    )
}

/// Row 11: with a checkpoint and the exactly-once output directory.
pub fn checkpointed(scale: Scale) -> anyhow::Result<Row> {
    let work = std::env::temp_dir().join(format!("zpark-bench-row11-{}", std::process::id()));
    let (checkpoint, out) = (work.join("ckpt"), work.join("out"));
    let (checkpoint, out) = (
        checkpoint.to_string_lossy().into_owned(),
        out.to_string_lossy().into_owned(),
    );
    let slicing = [
        "--every",
        "1s",
        "--checkpoint",
        checkpoint.as_str(),
        "--reset",
        "--output-dir",
        out.as_str(),
    ];
    let row = against_mawk(scale, 11, &slicing, 4.0, "records at memory speed, checkpointed");
    let _ = std::fs::remove_dir_all(&work);
    row
}

/// Row 12: JSON lines and CSV, by name.
pub fn json_and_csv(scale: Scale) -> anyhow::Result<Row> {
    let lines = log_lines(scale) / 5;
    let zpark = zpark_binary()?;
    let repeats = scale.repeats.min(3);
    let mut figures = Vec::new();
    let mut met = true;
    let mut peak = 0;
    for (format, name, target) in [(LogFormat::Json, "json", 5.0), (LogFormat::Csv, "csv", 10.0)] {
        let path = log(lines, format)?.to_string_lossy().into_owned();
        let args = [
            "run",
            path.as_str(),
            "--format",
            name,
            "--field",
            "action",
            "count-by-value",
        ];
        let (seconds, rss) = measured(repeats, &zpark, &args)?;
        let rate = lines as f64 / seconds / 1e6;
        met &= rate >= target;
        peak = peak.max(rss);
        figures.push(format!("{name} {rate:.1} M records/s (target >= {target})"));
    }
    Ok(Row {
        number: 12,
        workload: format!("`zpark run LOG --format json|csv --field action count-by-value`, {lines} records"),
        figure: format!("{}, peak {}", figures.join(", "), mb(peak)),
        baseline: "the targets (no other tool reads these fields by name in one process)".to_string(),
        note: format!("median of {repeats} runs"),
        result: figures.join("; "),
        target: "json >= 5 M records/s, csv >= 10 M records/s, peak <= 128 MB".to_string(),
        met: Some(met && peak <= MAX_RSS),
    })
}

/// The baseline of row 13: one thread, `BufReader`, an `FxHashMap` of the 4th field.
fn one_thread_loop(path: &Path) -> anyhow::Result<FxHashMap<Vec<u8>, u64>> {
    let mut reader = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut counts: FxHashMap<Vec<u8>, u64> = FxHashMap::default();
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        if let Some(key) = line
            .split(|b| *b == b' ' || *b == b'\t' || *b == b'\n')
            .filter(|w| !w.is_empty())
            .nth(3)
        {
            match counts.get_mut(key) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(key.to_vec(), 1);
                }
            }
        }
        line.clear();
    }
    Ok(counts)
}

/// zpark's library path: blocks, slices of 1 M lines, the 4th field counted on the workers.
async fn library_path(engine: &Engine, path: &Path) -> anyhow::Result<FxHashMap<Vec<u8>, u64>> {
    let mut slices = std::pin::pin!(zpark::source::lines(path)
        .blocks()
        .map(|block| block.unwrap_or_else(|e| panic!("{e}")))
        .parallelize_lines(engine, 1_000_000)
        .map(|slice| slice.count_lines_by(|line| zpark::nth_field(line, 4)))
        .map(|counts| async move { counts.collect().await })
        .buffered(2));
    let mut total: FxHashMap<Vec<u8>, u64> = FxHashMap::default();
    while let Some(counts) = slices.next().await {
        for (key, count) in counts? {
            *total.entry(key).or_default() += count;
        }
    }
    Ok(total)
}

/// Row 13: the library's block path against a one-thread loop.
pub fn library(scale: Scale) -> anyhow::Result<Row> {
    let lines = log_lines(scale);
    let path = log(lines, LogFormat::Plain)?;
    let engine = Engine::connect("local[2]")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let repeats = scale.repeats.min(5);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut same = true;
    for _ in 0..repeats {
        let started = Instant::now();
        let baseline = one_thread_loop(&path)?;
        theirs.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let counted = runtime.block_on(library_path(&engine, &path))?;
        ours.push(started.elapsed().as_secs_f64());
        same &= counted == baseline;
    }
    anyhow::ensure!(same, "row 13: the library's counts differ from the loop's");
    let (ours, theirs) = (median(ours), median(theirs));
    let ratio = theirs / ours;
    Ok(Row {
        number: 13,
        workload: format!(
            "library: lines(path).blocks() → parallelize_lines(1 M) → count_lines_by(4th field), {lines} lines"
        ),
        figure: format!("{ours:.2} s ({:.1} M lines/s)", lines as f64 / ours / 1e6),
        baseline: format!("one thread, BufReader + FxHashMap: {theirs:.2} s"),
        note: format!("median of {repeats} runs, interleaved; same counts"),
        result: format!("{ratio:.2}x"),
        target: ">= 1.5x".to_string(),
        met: Some(ratio >= 1.5),
    })
}
