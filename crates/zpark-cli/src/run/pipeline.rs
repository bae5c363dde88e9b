//! The pipeline of `zpark run`: input → records → slices (or windows) → operation → output.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;
use zpark::prelude::*;
use zpark::source::{lines_of_blocks, InputReport, Positioned};

use super::block_pipeline::{input_blocks, takes_blocks};
use super::context::{input, plural, status, Behind, Counters, Lines, Slicing, DEFAULT_IN_FLIGHT};
use super::output::{Label, Row, Span, Writer};
use super::partial::{partial, rows};
use super::record::{shorten, Field, Format, Parse, Record, RecordParser, Value};
use super::{OnErrorArg, Operation, RunArgs};
use crate::UsageError;
use std::os::unix::fs::FileTypeExt;

/// Checks what clap cannot, then runs the pipeline to its end (or to Ctrl-C).
pub fn execute(args: RunArgs) -> anyhow::Result<()> {
    if let Some(dir) = super::dir_run::input_directory(&args) {
        let field = super::dir_run::check_directory_usage(&args)?;
        check_usage(&args)?;
        let engine = connect(&args.engine)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        return runtime.block_on(run_directory(args, (dir, field), engine));
    }
    if args.format == Format::Parquet {
        return Err(UsageError(
            "--format parquet reads the Parquet files of a directory (`zpark run DIR --format parquet --field COLUMN`); a file, standard input or a socket is read as lines".into(),
        )
        .into());
    }
    let slicing = check_usage(&args)?;
    if args.engine.trim().starts_with("sc://") {
        // Its records (numbers or text, as --parse says) and its sum, min and max are Rust
        // values and closures that Spark cannot take: every slice would fail. Say so at once.
        return Err(zpark::Error::EngineUnavailable {
            url: args.engine.clone(),
            reason: "only a directory input runs on Spark (`zpark run DIR --engine sc://...`: Spark \
                     reads its files itself); a file, standard input or a socket is read by this \
                     process alone, so it runs on the embedded engine (`local`, `local[N]`)"
                .to_string(),
        }
        .into());
    }
    let engine = connect(&args.engine)?;
    check_input(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(run(args, slicing, engine))
}

/// The engine at `url`: a usage error for a malformed one.
fn connect(url: &str) -> anyhow::Result<Engine> {
    Engine::connect(url).map_err(|error| match error {
        zpark::Error::InvalidArgument { .. } => anyhow::Error::new(UsageError(format!("--engine: {error}"))),
        other => other.into(),
    })
}

/// `zpark run DIR`: the directory's files, on any engine.
async fn run_directory(args: RunArgs, input: (std::path::PathBuf, zpark::Field), engine: Engine) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut counters = new_counters();
    super::dir_run::run(&args, input, &engine, &mut counters).await?;
    conclude(&args, &counters, started)
}

/// Opens a file input once before anything runs: a missing or unreadable file is an error
/// before any result line is written.
fn check_input(args: &RunArgs) -> zpark::Result<()> {
    let (name, replay) = input(args);
    if replay.is_replayable() {
        let cannot = |error| zpark::Error::Io {
            input: name.clone(),
            source: Arc::new(error),
        };
        // A named pipe is only looked at: opening it would wait for its writer, and closing
        // it again would end the writer's stream before the run reads it.
        if !std::fs::metadata(&name).map_err(cannot)?.file_type().is_fifo() {
            std::fs::File::open(&name).map_err(cannot)?;
        }
    }
    Ok(())
}

fn check_usage(args: &RunArgs) -> Result<Slicing, UsageError> {
    let usage = |message: String| Err(UsageError(message));
    let every = args.every.unwrap_or(Duration::from_secs(1));
    let slicing = match (&args.event_time, args.count, args.within, &args.by) {
        (Some(field), ..) => Slicing::EventTime(field.clone(), every, args.lateness),
        (None, Some(n), ..) => Slicing::Count(usize::try_from(n).unwrap_or(usize::MAX)),
        (None, None, Some((n, dur)), _) => Slicing::Within(n, dur),
        (None, None, None, Some(field)) => Slicing::By(field.clone()),
        (None, None, None, None) => Slicing::Every(every),
    };
    if args.checkpoint.is_some() && !takes_blocks(&slicing) {
        return usage(
            "--checkpoint needs slices that a resumed run cuts the same way: --count N or --every DUR (not --within, --by or --event-time)".into(),
        );
    }
    if args.metrics.is_some() && !takes_blocks(&slicing) {
        return usage("--metrics needs --every or --count slices (not --within, --by or --event-time)".into());
    }
    if args.metrics.as_deref().and_then(|p| p.to_str()) == Some("-") && args.output_dir.is_none() {
        return usage(
            "--metrics -: standard output carries the results; write the metrics to a file, or the results with --checkpoint DIR --output-dir DIR".into(),
        );
    }
    if args.ui.is_some() && !takes_blocks(&slicing) {
        return usage("--ui needs --every or --count slices (not --within, --by or --event-time)".into());
    }
    if args.window.is_some() && !matches!(slicing, Slicing::Every(_) | Slicing::EventTime(..)) {
        return usage(
            "--window needs slices of time: use --every (or --event-time), not --count, --within or --by".into(),
        );
    }
    for (name, value) in [
        ("--window", args.window),
        ("--slide", args.slide),
        ("--session", args.session),
    ] {
        if let Some(value) = value {
            if value.as_nanos() % every.as_nanos() != 0 {
                return usage(format!(
                    "{name} {} is not a whole multiple of the slice length {} (--every)",
                    humantime::format_duration(value),
                    humantime::format_duration(every)
                ));
            }
        }
    }
    if matches!(args.operation, Operation::Sum) && args.parse == Parse::String {
        return usage("sum needs numbers: add --parse int or --parse float".into());
    }
    for field in [&args.field, &args.by, &args.event_time, &args.by_key]
        .into_iter()
        .flatten()
    {
        match (args.format, field) {
            (Format::Lines, Field::Name(name)) => {
                return usage(format!(
                    "field `{name}`: plain lines have no names; use a position (from 1) or --format csv|json"
                ))
            }
            (Format::Json, Field::Position(n)) => {
                return usage(format!("field `{n}`: JSON fields are named; use a key"))
            }
            (Format::Parquet, Field::Position(n)) => {
                return usage(format!("field `{n}`: Parquet columns are named; use a column's name"))
            }
            _ => {}
        }
    }
    Ok(slicing)
}

/// The counters of a run that starts now, with its progress line.
fn new_counters() -> Counters {
    let progress = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template("{spinner} {human_pos} records · {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    progress.enable_steady_tick(Duration::from_millis(200));
    Counters {
        progress,
        report: InputReport::new(),
        input_failure: Arc::default(),
        late: None,
        stopped: Arc::default(),
        lost: None,
        slices: 0,
        failed_slices: 0,
        output_closed: false,
        behind: Behind::default(),
    }
}

async fn run(args: RunArgs, slicing: Slicing, engine: Engine) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut counters = new_counters();
    if takes_blocks(&slicing) {
        super::block_run::run(&args, &slicing, &engine, &mut counters).await?;
        return conclude(&args, &counters, started);
    }
    let (name, _) = input(&args);
    let records = records(
        &args,
        name,
        lines_of_blocks(input_blocks(&args, None)),
        &slicing,
        &counters,
    );
    if let (Some(gap), Slicing::EventTime(_, every, lateness)) = (args.session, &slicing) {
        let times = (*every, *lateness, gap);
        super::sessions::run_in_event_time(&args, records, times, &engine, &mut counters).await?;
        return conclude(&args, &counters, started);
    }
    let (slices, event_time) = slice(records, &slicing, &engine, &mut counters);
    let span = args.window.unwrap_or(window_slide(&slicing));
    let slices = match (args.window, args.slide) {
        (Some(window), slide) => slices
            .map(|slice| (slice.time, slice.values))
            .window_rdd(window, slide.unwrap_or(window_slide(&slicing)))
            .map(|(time, values)| Slice {
                time,
                values,
                lines: None,
            })
            .boxed(),
        (None, _) => slices,
    };
    let (operation, skip_empty) = (args.operation.clone(), args.skip_empty);
    let mut results = std::pin::pin!(slices
        .map(move |slice| apply(operation.clone(), slice, skip_empty))
        .buffered(DEFAULT_IN_FLIGHT));
    let mut writer = Writer::new(args.output);
    while let Some((time, lines, outcome)) = results.next().await {
        if counters.failed() {
            break;
        }
        counters.slices += 1;
        let span = match lines {
            Some(lines) => Span::Lines(lines),
            None => Label::timed(counters.slices, time, span, event_time).span,
        };
        let label = Label {
            slice: counters.slices,
            span,
        };
        match outcome {
            Ok(rows) => writer.write(label, &rows)?,
            Err(error) => {
                counters.failed_slices += 1;
                counters.progress.suspend(|| eprintln!("zpark: {}", error.report()));
            }
        }
        counters.progress.set_message(status(&counters));
    }
    writer.flush()?;
    conclude(&args, &counters, started)
}

fn conclude(args: &RunArgs, counters: &Counters, started: Instant) -> anyhow::Result<()> {
    counters.progress.finish_and_clear();
    if counters.output_closed {
        // The reader went away (`| head`): nobody waits for the rest, as ripgrep ends.
        return Ok(());
    }
    summary(counters, started.elapsed());
    finish(args, counters)
}

fn window_slide(slicing: &Slicing) -> Duration {
    match slicing {
        Slicing::Every(every) | Slicing::EventTime(_, every, _) => *every,
        _ => Duration::from_secs(1),
    }
}

/// The records of the input: I/O errors end the input (and the run fails), parse errors follow
/// --on-error, Ctrl-C ends the input so that the slice in progress is flushed.
pub(super) fn records(
    args: &RunArgs,
    name: String,
    lines: Lines,
    slicing: &Slicing,
    counters: &Counters,
) -> impl Stream<Item = Positioned<Record>> + Send + 'static {
    let (key, time) = match slicing {
        Slicing::By(field) => (Some(field.clone()), None),
        // With --session, each record's key too.
        Slicing::EventTime(field, ..) => (args.by_key.clone(), Some(field.clone())),
        _ => (None, None),
    };
    let time = time.map(|field| (field, args.time_format.clone()));
    let mut parser = RecordParser::new(args.format, args.field.clone(), args.parse, key, time);
    let failure = Arc::clone(&counters.input_failure);
    let progress = counters.progress.clone();
    let policy = match args.on_error {
        OnErrorArg::Fail => OnError::Fail,
        OnErrorArg::Skip => OnError::Skip,
    };
    lines
        .take_until(counters.stop_signal())
        .take_while(move |line| {
            let readable = match line {
                Err(error) => {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.clone());
                    false
                }
                Ok(_) => true,
            };
            futures::future::ready(readable)
        })
        .filter_map(|line| futures::future::ready(line.ok()))
        .filter_map(move |line| {
            let record = match parser.parse(&line.item) {
                Ok(record) => record.map(|record| {
                    Ok(Positioned {
                        item: record,
                        end: line.end,
                    })
                }),
                Err(reason) => Some(Err(Error::Parse {
                    input: name.clone(),
                    line: line.end.line,
                    record: shorten(&String::from_utf8_lossy(&line.item)),
                    reason,
                })),
            };
            futures::future::ready(record)
        })
        .on_error(policy, &counters.report)
        .inspect(move |_| progress.inc(1))
}

/// A slice (or window) to aggregate: its time, its values, and for slices of records the line
/// number of each.
pub(super) struct Slice {
    time: SliceTime,
    values: Rdd<Value>,
    lines: Option<Rdd<u64>>,
}

type Slices = BoxStream<'static, Slice>;

/// Cuts the records into slices; the flag says whether times are event times.
fn slice(
    records: impl Stream<Item = Positioned<Record>> + Send + 'static,
    slicing: &Slicing,
    engine: &Engine,
    counters: &mut Counters,
) -> (Slices, bool) {
    let start = Instant::now();
    let timed = |(time, values)| Slice {
        time,
        values,
        lines: None,
    };
    // Slices of records: each value with its line, for the slice's first and last line.
    let numbered = move |rdd: Rdd<(u64, Value)>| {
        let rdd = rdd.persist();
        Slice {
            time: SliceTime::new(start.elapsed()),
            values: rdd.map(|(_, value)| value),
            lines: Some(rdd.map(|(line, _)| line)),
        }
    };
    let records = records.boxed();
    let values = |records: BoxStream<'static, Positioned<Record>>| records.map(|r| r.item.value);
    let lines = |records: BoxStream<'static, Positioned<Record>>| records.map(|r| (r.end.line, r.item.value));
    match slicing {
        Slicing::Every(every) => (
            values(records).discretize_keep_time(engine, *every).map(timed).boxed(),
            false,
        ),
        Slicing::Count(n) => (lines(records).parallelize(engine, *n).map(numbered).boxed(), false),
        Slicing::Within(n, dur) => (
            lines(records).discretize_within(engine, *n, *dur).map(numbered).boxed(),
            false,
        ),
        Slicing::By(_) => {
            let keyed = records.map(|r| (r.item.key, (r.end.line, r.item.value)));
            let sliced = keyed
                .discretize_by(engine, |(key, _)| key.clone())
                .map_rdd(|(_, numbered)| numbered);
            (sliced.map(numbered).boxed(), false)
        }
        Slicing::EventTime(_, every, lateness) => {
            let stamped = records.map(|r| (r.item.time.unwrap_or_default(), r.item.value));
            let sliced = stamped.discretize_by_event_time(engine, |(time, _)| *time, *every, *lateness);
            counters.late = Some(sliced.late_count());
            (sliced.map_rdd(|(_, value)| value).map(timed).boxed(), true)
        }
    }
}

/// Runs the operation on one slice or window: its time, its first and last line (slices of
/// records), and its rows.
async fn apply(
    operation: Operation,
    slice: Slice,
    skip_empty: bool,
) -> (SliceTime, Option<Option<(u64, u64)>>, zpark::Result<Vec<Row>>) {
    let rows = rows(&operation, partial(&operation, &slice.values), skip_empty).await;
    let lines = match slice.lines {
        Some(lines) => Some(line_range(&lines).await),
        None => None,
    };
    (slice.time, lines, rows)
}

/// The first and last line of a slice of records; none for an empty slice (or a failed one,
/// whose rows say why).
pub(super) async fn line_range(lines: &Rdd<u64>) -> Option<(u64, u64)> {
    let ranges = lines.map(|line| (line, line));
    let range = ranges.reduce(|a, b| (a.0.min(b.0), a.1.max(b.1))).await;
    range.ok().flatten()
}

fn summary(counters: &Counters, elapsed: Duration) {
    let records = counters.report.accepted() + counters.report.rejected();
    let late = counters
        .late
        .as_ref()
        .map_or(String::new(), |late| format!(", {} late", late.get()));
    let failed = match counters.failed_slices {
        0 => String::new(),
        n => format!(", {n} failed"),
    };
    eprintln!(
        "zpark: {} in, {}{failed}, {} rejected{late}, {:.3}s",
        plural(records, "record"),
        plural(counters.slices, "slice"),
        counters.report.rejected(),
        elapsed.as_secs_f64()
    );
    for error in counters.report.first_errors() {
        eprintln!("zpark: skipped: {}", error.report());
    }
    if let Some(lost) = &counters.lost {
        eprintln!("zpark: lost: {lost}");
    }
    let _ = std::io::stderr().flush();
}

/// The run's verdict: the input's failure, a bad record under --on-error fail, failed slices.
fn finish(args: &RunArgs, counters: &Counters) -> anyhow::Result<()> {
    if let Some(error) = counters.input_failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(error.into());
    }
    if args.on_error == OnErrorArg::Fail {
        counters.report.finish()?;
    }
    anyhow::ensure!(
        counters.failed_slices == 0,
        "{} failed",
        plural(counters.failed_slices, "slice")
    );
    Ok(())
}
