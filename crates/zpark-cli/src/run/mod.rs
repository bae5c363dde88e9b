//! `zpark run`: slice a log, a growing file, standard input or a socket, and aggregate each
//! slice (or window) of records.

mod block_pipeline;
mod block_run;
mod blocks;
mod context;
mod dir_run;
mod live;
mod metrics;
mod output;
mod partial;
mod pipeline;
mod record;
mod run_end;
mod sessions;
mod slice_metrics;
mod stage;
mod text;
mod text_counts;
mod time_format;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

pub use pipeline::execute;
use record::{Field, Format, Parse};
pub use run_end::{output_closed, GoOn};
use time_format::TimeFormat;

/// Arguments of `zpark run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The input: a file, a directory (the files in it, read where the engine reads them), `-`
    /// for standard input, or `tcp://HOST:PORT` for the lines a server sends. Standard input
    /// when absent (and no --follow).
    #[arg(value_name = "INPUT")]
    input: Option<String>,

    /// Follow a growing file (like `tail -f`), from its start; or a directory: each file moved
    /// into it, once, as it comes (names starting with `.` or `_` are being written: left out).
    #[arg(long, value_name = "FILE", conflicts_with = "input")]
    follow: Option<String>,

    /// How a line is read.
    #[arg(long, value_enum, default_value = "lines")]
    format: Format,

    /// The field to aggregate: a position (from 1: the N-th word of a plain line, the N-th CSV
    /// column) or a name (a CSV column, a JSON key). The whole line when absent.
    #[arg(long, value_name = "FIELD")]
    field: Option<Field>,

    /// How the field is typed.
    #[arg(long, value_enum, default_value = "string")]
    parse: Parse,

    /// Slices of this length on the clock (`500ms`, `1s`, `1m`); the default slicing (1s).
    #[arg(long, value_name = "DUR", value_parser = duration)]
    every: Option<Duration>,

    /// Slices of N lines of data: slice k holds data lines (k-1)N+1 .. kN, as `split -l` cuts
    /// them (the CSV header is not one; blank lines and records that do not parse are, so that
    /// a slice ends at the same line whatever its records hold).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with_all = ["every", "within", "by"])]
    count: Option<u64>,

    /// A slice closes at N records or after DUR, whichever comes first (`1000,1s`).
    #[arg(long, value_name = "N,DUR", value_parser = within, conflicts_with_all = ["every", "by"])]
    within: Option<(usize, Duration)>,

    /// A slice per run of records with the same value of FIELD.
    #[arg(long, value_name = "FIELD", conflicts_with = "every")]
    by: Option<Field>,

    /// Slice by the time in FIELD (as --time-format says), in slices of --every.
    #[arg(long, value_name = "FIELD", conflicts_with_all = ["count", "within", "by"])]
    event_time: Option<Field>,

    /// With --event-time: how the time is written. `auto` (seconds since the epoch, or RFC 3339
    /// with any offset and fractions), `epoch`, `epoch-ms`, `epoch-us`, `epoch-ns`, `rfc3339`,
    /// `clf` (the common log format's `[10/Oct/2000:13:55:36 -0700]`), or a strftime format
    /// (`%d/%b/%Y:%H:%M:%S %z`; UTC without `%z`). In plain lines, a format with spaces takes
    /// as many words from FIELD on.
    #[arg(long, value_name = "FMT", default_value = "auto", requires = "event_time")]
    time_format: TimeFormat,

    /// With --event-time: how late a record may come before its slice closes without it.
    #[arg(long, value_name = "DUR", value_parser = duration_or_zero, default_value = "0s", requires = "event_time")]
    lateness: Duration,

    /// Sessions instead of slices: per key (--by-key FIELD), the operation over the key's
    /// records from its first until it has had none for GAP (a multiple of --every; in event
    /// time with --event-time); each session is written once, when it closes, and the open
    /// ones when the input ends.
    #[arg(long, value_name = "GAP", value_parser = duration, requires = "by_key", conflicts_with_all = ["window", "count", "within", "by"])]
    session: Option<Duration>,

    /// With --session: the field whose value is a session's key (a user, a device).
    #[arg(long, value_name = "FIELD", requires = "session")]
    by_key: Option<Field>,

    /// Aggregate windows of this length (a multiple of --every) instead of single slices.
    #[arg(long, value_name = "DUR", value_parser = duration)]
    window: Option<Duration>,

    /// With --window: how often a window is emitted (a multiple of --every; default --every).
    #[arg(long, value_name = "DUR", value_parser = duration, requires = "window")]
    slide: Option<Duration>,

    /// The engine: `local` or `local[N]`; for a directory input also `sc://HOST:PORT` (Spark
    /// reads the files itself; built with `--features spark`). Other inputs on Spark are
    /// refused with exit code 5: only this process can read them.
    #[arg(long, value_name = "URL", default_value = "local")]
    engine: String,

    /// What to do with a record that does not parse: stop with an error, or skip and count it.
    #[arg(long, value_enum, default_value = "fail")]
    on_error: OnErrorArg,

    /// Record a checkpoint in DIR after every slice (input position, slice number, window
    /// buffers, sink progress) and resume from the one there: a run killed at any moment
    /// continues where it stopped. Needs --count or --every slices. A run that reached the
    /// end of its input is finished: run again, it writes nothing and says so; if the input
    /// has grown, it reads on, or, when its end wrote windows, it refuses (exit 6) and says
    /// how to go on.
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,

    /// With --checkpoint: forget the checkpoint in DIR and start from the beginning of the input.
    #[arg(long, requires = "checkpoint")]
    reset: bool,

    /// With --checkpoint: when the file the checkpoint was reading is gone (rotated away or
    /// replaced while the run was stopped, and not beside the path under another name), go on
    /// with the file at the path from its start instead of refusing (exit 6); what was lost is
    /// said when the run starts and in its summary.
    #[arg(long, requires = "checkpoint")]
    skip_lost: bool,

    /// With --checkpoint: write each slice's results to DIR/slice-NNNNNNNNNN.txt, committed by
    /// rename: exactly-once across crashes (standard output is at-least-once: the slice being
    /// written when the process died is written again).
    #[arg(long, value_name = "DIR", requires = "checkpoint")]
    output_dir: Option<PathBuf>,

    /// Per slice, a JSON line of metrics to FILE (`-`: standard output, when the results go to
    /// --output-dir): records and bytes in, scheduling delay and processing time, slices
    /// waiting, state size. Needs --every or --count slices.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,

    /// Serve a live page of the run on ADDR (`127.0.0.1:8080`, or a port alone for
    /// 127.0.0.1): records per slice, processing time and delay, the latest slice's top values.
    /// Needs --every or --count slices.
    #[arg(long, value_name = "ADDR", value_parser = ui_address)]
    ui: Option<std::net::SocketAddr>,

    /// Results as text lines or as JSON objects, one per line.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,

    /// Leave out slices and windows without records (their count 0, their sum 0).
    #[arg(long)]
    skip_empty: bool,

    /// What to compute per slice or window.
    #[command(subcommand)]
    operation: Operation,
}

/// `--on-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Stop at the first bad record with an error naming the input, line and field (exit 3).
    Fail,
    /// Skip bad records, count them, report them at the end.
    Skip,
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// `TIME<TAB>RESULT...` lines.
    Text,
    /// One JSON object per line (for `jq`).
    Json,
}

/// The operations of `zpark run`.
#[derive(Debug, Clone, Subcommand)]
pub enum Operation {
    /// The number of records.
    #[command(after_help = "Example:\n  zpark run access.log --every 1s count")]
    Count,
    /// Each distinct value with its number of records (a streaming `uniq -c`).
    #[command(after_help = "Example:\n  zpark run --follow access.log --field 9 --every 1s count-by-value")]
    CountByValue,
    /// The sum of the values (numbers: --parse int or float).
    #[command(after_help = "Example:\n  zpark run access.log --field 10 --parse int --every 1m sum")]
    Sum,
    /// The smallest value.
    #[command(after_help = "Example:\n  zpark run - --parse float --count 1000 min")]
    Min,
    /// The largest value.
    #[command(after_help = "Example:\n  zpark run - --parse float --count 1000 max")]
    Max,
    /// The K most frequent values, with their counts.
    #[command(after_help = "Example:\n  zpark run --follow app.log --format json --field user --every 1m top 10")]
    Top {
        /// How many values.
        #[arg(value_parser = clap::value_parser!(u64).range(1..))]
        k: u64,
    },
    /// The distinct values.
    #[command(after_help = "Example:\n  zpark run users.csv --format csv --field country --count 10000 distinct")]
    Distinct,
}

fn duration(text: &str) -> Result<Duration, String> {
    let parsed =
        humantime::parse_duration(text).map_err(|e| format!("{e} (write durations like 500ms, 1s, 2m, 1h)"))?;
    if parsed.is_zero() {
        return Err("the duration must be longer than zero".to_string());
    }
    Ok(parsed)
}

fn ui_address(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse()
        .map_err(|e| format!("{e}: write an address and port such as 127.0.0.1:8080, or a port"))
}

fn duration_or_zero(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (write durations like 0s, 500ms, 1s, 2m)"))
}

fn within(text: &str) -> Result<(usize, Duration), String> {
    let (n, dur) = text.split_once(',').ok_or("expected N,DUR such as 1000,1s")?;
    let n: usize = n.trim().parse().map_err(|e| format!("N: {e}"))?;
    if n == 0 {
        return Err("N must be at least 1".to_string());
    }
    Ok((n, duration(dur.trim())?))
}

/// Text shown after `zpark run --help`.
pub const RUN_EXAMPLES: &str = "Examples:
  # counts per second of HTTP status codes in a growing access log (field 9 of the common log format)
  zpark run --follow /var/log/nginx/access.log --field 9 --every 1s count-by-value

  # the 10 most frequent users per minute in a growing file of JSON lines
  zpark run --follow app.log --format json --field user --every 1m top 10

  # the sum over the last 10 s, every 5 s, of numbers sent by a server
  zpark run tcp://127.0.0.1:9000 --parse int --every 1s --window 10s --slide 5s sum

  # a streaming uniq -c over standard input, 1000 lines per slice, as JSON
  some-command | zpark run - --count 1000 --output json count-by-value

  # per user, the requests of each visit (a session ends after 30 minutes without one)
  zpark run --follow app.log --format json --by-key user --every 1m --session 30m count

  # resumable: killed or stopped, the same command continues where it stopped, each slice's
  # results written exactly once to out/
  zpark run big.log --field 2 --count 100000 --checkpoint ckpt --output-dir out count-by-value

Exit codes: 0 done, 1 a slice failed, 2 bad usage, 3 a record did not parse (--on-error fail),
4 the input could not be read, 5 the engine is unknown or unavailable, 6 the checkpoint
cannot be used (another pipeline's, corrupt, or a finished run's input grew after its
end-of-input windows: see --reset).";
