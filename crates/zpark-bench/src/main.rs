//! `zpark-bench`: the benchmark table of BENCHMARKS.md, each zpark figure against a baseline
//! measured in the same run, as medians over repeated runs.
//!
//! `cargo run --release -p zpark-bench` (full), `... -- --quick` (under two minutes). Rows 6, 8,
//! 9 and 16 (the Spark engine) need the `spark` feature and a server:
//! `cargo run --release -p zpark-bench --features spark -- --spark sc://127.0.0.1:15002`.

mod checkpoint_row;
#[cfg(feature = "spark")]
mod files_row;
mod log_rows;
mod metrics_row;
mod rows;
#[cfg(feature = "spark")]
mod spark_rows;
mod window_row;

use std::time::Duration;

use clap::Parser;

/// Measure zpark against the hardware limit and its own targets.
#[derive(Debug, Parser)]
#[command(name = "zpark-bench", version, about)]
struct Args {
    /// Fewer repetitions and smaller inputs: finishes in under two minutes.
    #[arg(long)]
    quick: bool,
    /// Run only the rows whose number is given (e.g. `--row 1 --row 3`).
    #[arg(long)]
    row: Vec<u8>,
    /// Also run rows 6, 8 and 9 against this Spark Connect server (needs the `spark` feature).
    #[arg(long, value_name = "sc://HOST:PORT")]
    spark: Option<String>,
}

/// The size of the work, full or quick.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Repetitions per figure (the median is reported).
    pub repeats: usize,
    /// Records through the stream of row 3.
    pub stream_records: u64,
    /// Elements through the slow consumer of row 4.
    pub slow_records: u64,
    /// How long row 5 ticks.
    pub ticking: Duration,
    /// Lines of the file that row 7 reads.
    pub checkpoint_lines: u64,
}

/// One line of the table.
#[derive(Debug)]
pub struct Row {
    /// The row's number in BENCHMARKS.md.
    pub number: u8,
    /// What is measured.
    pub workload: String,
    /// zpark's figure.
    pub figure: String,
    /// The baseline measured in the same run.
    pub baseline: String,
    /// How the result was measured, or what goes with it (printed before the result).
    pub note: String,
    /// The ratio or figure the target is about: the last thing on the row's line.
    pub result: String,
    /// The target.
    pub target: String,
    /// Whether the target was met (`None` when the row is only reported).
    pub met: Option<bool>,
}

type RowFn = fn(Scale) -> anyhow::Result<Row>;

/// Every row, by number.
const ALL_ROWS: &[(u8, RowFn)] = &[
    (1, rows::count_by_value_vs_hashmap),
    (2, rows::per_slice_overhead),
    (3, rows::stream_throughput),
    (4, rows::slow_consumer_memory),
    (5, rows::time_slicing_accuracy),
    (7, checkpoint_row::checkpoint_overhead),
    (10, log_rows::default_slicing),
    (10, log_rows::count_slicing),
    (11, log_rows::checkpointed),
    (12, log_rows::json_and_csv),
    (13, log_rows::library),
    (14, window_row::sliding_window),
    (15, metrics_row::listener_overhead),
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Refused before the other rows run, not after.
    #[cfg(not(feature = "spark"))]
    anyhow::ensure!(args.spark.is_none(), NEEDS_SPARK_FEATURE);
    let scale = if args.quick {
        Scale {
            repeats: 3,
            // As in full mode: the stream takes about a quarter of a second, and a shorter
            // one measures the pipeline filling and draining more than its throughput.
            stream_records: 50_000_000,
            slow_records: 20_000_000,
            ticking: Duration::from_secs(3),
            checkpoint_lines: 3_000_000,
        }
    } else {
        Scale {
            repeats: 7,
            stream_records: 50_000_000,
            slow_records: 100_000_000,
            ticking: Duration::from_secs(10),
            checkpoint_lines: 5_000_000,
        }
    };
    println!(
        "zpark-bench ({} mode) on {} cores",
        if args.quick { "quick" } else { "full" },
        cores()
    );
    let wanted = |n: u8| args.row.is_empty() || args.row.contains(&n);
    let mut rows = Vec::new();
    for (number, run) in ALL_ROWS {
        if wanted(*number) {
            eprintln!("measuring row {number}...");
            rows.push(run(scale)?);
        }
    }
    if [6, 8, 9].into_iter().any(wanted) {
        if args.spark.is_some() {
            eprintln!("measuring rows 6, 8 and 9 on Spark...");
        }
        // A server that fails is a row that says so: the rows measured before it are kept.
        let spark = spark_rows(args.spark.as_deref(), scale).unwrap_or_else(|error| vec![spark_failed(&error)]);
        rows.extend(spark.into_iter().filter(|row| wanted(row.number)));
    }
    if wanted(16) {
        rows.push(files_row(args.spark.as_deref(), scale));
    }
    // By number; the Spark rows come in the order they were measured.
    rows.sort_by_key(|row| row.number);
    rows.iter().for_each(print_row);
    let missed = rows.iter().filter(|row| row.met == Some(false)).count();
    if missed > 0 {
        println!("{missed} of {} rows missed their target", rows.len());
    }
    Ok(())
}

#[cfg(not(feature = "spark"))]
const NEEDS_SPARK_FEATURE: &str =
    "--spark needs the spark feature: cargo run --release -p zpark-bench --features spark -- --spark URL";

/// Rows 6, 8 and 9, or, without a server, row 6 saying how to run them.
fn spark_rows(url: Option<&str>, scale: Scale) -> anyhow::Result<Vec<Row>> {
    match url {
        #[cfg(feature = "spark")]
        Some(url) => spark_rows::rows(url, scale),
        #[cfg(not(feature = "spark"))]
        Some(_) => {
            let _ = scale;
            anyhow::bail!(NEEDS_SPARK_FEATURE)
        }
        None => Ok(vec![spark_row(
            None,
            "needs a Spark Connect server: scripts/spark-server.sh start, then add --features spark and -- --spark sc://127.0.0.1:15002".into(),
            "not run",
        )]),
    }
}

/// Row 16 (files that Spark reads itself), or the reason it was not measured.
fn files_row(url: Option<&str>, scale: Scale) -> Row {
    let not_measured = |met: Option<bool>, note: String, result: &str| Row {
        number: 16,
        workload: "a directory receiving 20 files, count_by_value of a field: Spark reading them against uploads"
            .into(),
        figure: "-".into(),
        baseline: "-".into(),
        target: ">= 10x".into(),
        met,
        note,
        result: result.into(),
    };
    match url {
        #[cfg(feature = "spark")]
        Some(url) => {
            eprintln!("measuring row 16 on Spark...");
            files_row::row(url, scale).unwrap_or_else(|error| not_measured(Some(false), format!("{error:#}"), "failed"))
        }
        #[cfg(not(feature = "spark"))]
        Some(_) => {
            let _ = scale;
            not_measured(Some(false), NEEDS_SPARK_FEATURE.into(), "failed")
        }
        None => {
            let _ = scale;
            not_measured(
                None,
                "needs a Spark Connect server: scripts/spark-server.sh start, then add --features spark and -- --spark sc://127.0.0.1:15002".into(),
                "not run",
            )
        }
    }
}

/// Row 6 when the Spark rows failed, with the reason.
fn spark_failed(error: &anyhow::Error) -> Row {
    spark_row(Some(false), format!("{error:#}"), "failed")
}

/// Row 6 standing for the Spark rows that were not measured: why, in `note`.
fn spark_row(met: Option<bool>, note: String, result: &str) -> Row {
    Row {
        number: 6,
        workload: "Spark engine, slices of 1 000 and 100 000 keys, count by value (rows 8, 9 too)".into(),
        figure: "-".into(),
        baseline: "-".into(),
        target: "reported".into(),
        met,
        note,
        result: result.into(),
    }
}

fn print_row(row: &Row) {
    let verdict = match row.met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "reported",
    };
    println!(
        "row {} | {} | zpark {} | baseline {} | target {} ({verdict}) | {} | {}",
        row.number, row.workload, row.figure, row.baseline, row.target, row.note, row.result
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
