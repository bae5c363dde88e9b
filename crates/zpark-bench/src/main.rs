//! `zpark-bench`: the benchmark table of BENCHMARKS.md, each zpark figure against a baseline
//! measured in the same run, as medians over repeated runs.
//!
//! `cargo run --release -p zpark-bench` (full), `... -- --quick` (under two minutes).

mod checkpoint_row;
mod rows;

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
    /// The ratio or figure the target is about.
    pub result: String,
    /// The target.
    pub target: String,
    /// Whether the target was met (`None` when the row is only reported).
    pub met: Option<bool>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scale = if args.quick {
        Scale {
            repeats: 3,
            stream_records: 10_000_000,
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
    let mut missed = 0;
    for (number, run) in rows::ALL {
        if !wanted(*number) {
            continue;
        }
        let row = run(scale)?;
        if row.met == Some(false) {
            missed += 1;
        }
        print_row(&row);
    }
    if missed > 0 {
        println!("{missed} rows missed their target");
    }
    Ok(())
}

fn print_row(row: &Row) {
    let verdict = match row.met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "reported",
    };
    println!(
        "row {} | {} | zpark {} | baseline {} | target {} ({verdict}) | {}",
        row.number, row.workload, row.figure, row.baseline, row.target, row.result
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
