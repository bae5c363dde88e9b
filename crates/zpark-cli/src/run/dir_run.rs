//! `zpark run DIR` and `zpark run --follow DIR`: the files of a directory (those there now, or
//! each new one as it is moved in), in slices of time, each slice's files read where the engine
//! reads them: by the embedded engine's workers, or by Spark itself (`--engine sc://...`),
//! which then counts there and sends back only the counts. Windows and the output are the
//! driver's, as for any other input, so the output is the same on every engine.
//!
//! A field is taken by `zpark::Field`'s rules, which every engine follows: a word of a plain
//! line (awk's fields), a JSON key, a CSV column by position; the whole line without
//! `--field`. A line without the field is a bad record: `--on-error fail` stops the run naming
//! the file and line (found on the driver once the slice says there is one), `skip` counts it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use futures::StreamExt;
use zpark::checkpoint::{CheckpointStage, CutSlice, Pipeline, Replay, Slicing as CheckpointSlicing, SourcePosition};
use zpark::prelude::*;

use super::block_pipeline::ComputedSlice;
use super::context::{plural, slices_status, Counters};
use super::partial::Partial;
use super::record::{Field, Format, Parse, Value};
use super::run_end::{settle, Start};
use super::stage::OperationStage;
use super::text::Text;
use super::{OnErrorArg, Operation, RunArgs};
use crate::UsageError;

/// How often a followed directory is looked into.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// The directory a run reads, when its input is one.
pub(super) fn input_directory(args: &RunArgs) -> Option<PathBuf> {
    let path = args.follow.as_deref().or(args.input.as_deref())?;
    let path = Path::new(path);
    path.is_dir().then(|| path.to_path_buf())
}

/// What a directory run refuses before it starts, and the field it takes (`--parse` types it
/// as `zpark::parse_int` or `parse_float` read it, the same on every engine).
pub(super) fn check_directory_usage(args: &RunArgs) -> Result<zpark::Field, UsageError> {
    let usage = |message: &str| Err(UsageError(format!("a directory input: {message}")));
    if args.count.is_some() || args.within.is_some() || args.by.is_some() || args.event_time.is_some() {
        return usage("slices of time only (--every), not --count, --within, --by or --event-time");
    }
    if args.session.is_some() || args.metrics.is_some() || args.ui.is_some() {
        return usage("--session, --metrics and --ui are not available yet");
    }
    let field = match (args.format, &args.field) {
        (_, None) => Ok(zpark::Field::Line),
        (Format::Lines, Some(Field::Position(n))) => zpark::Field::word(*n),
        (Format::Csv, Some(Field::Position(n))) => zpark::Field::csv(*n),
        (Format::Json | Format::Parquet, Some(Field::Name(key))) => zpark::Field::json(key),
        (Format::Csv, Some(Field::Name(name))) => {
            return usage(&format!(
                "CSV columns by position (from 1), not by name (`{name}`): the files may not share one header"
            ))
        }
        (Format::Json | Format::Parquet, Some(Field::Position(n))) => {
            return usage(&format!(
                "field `{n}`: JSON keys and Parquet columns are named; give a name"
            ))
        }
        (_, Some(field)) => return usage(&format!("field `{field}` does not go with --format {:?}", args.format)),
    };
    field.map_err(|error| UsageError(format!("--field: {error}")))
}

/// Runs the directory's files through the operation to standard output or `--output-dir`,
/// with `--checkpoint DIR` committing each slice (the files it read, the windows) so that a
/// stopped run resumes with the files not yet read: one orchestration, as `block_run.rs` is
/// for files, through `zpark::checkpoint::Run`.
pub(super) async fn run(
    args: &RunArgs,
    (dir, field): (PathBuf, zpark::Field),
    engine: &Engine,
    counters: &mut Counters,
) -> anyhow::Result<()> {
    let every = args.every.unwrap_or(Duration::from_secs(1));
    // Windows and results are small: the driver keeps them on an engine of its own.
    let driver = Engine::local(1);
    let record = Record {
        field,
        parse: args.parse,
        files: match args.format {
            Format::Parquet => zpark::engine::FileFormat::Parquet,
            _ => zpark::engine::FileFormat::Text,
        },
    };
    let mut stage = DirStage {
        operation: OperationStage::new(args, Some(every), &driver),
        on_error: args.on_error,
        report: counters.report(),
        progress: counters.progress.clone(),
        read: Vec::new(),
    };
    let canonical = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let name = canonical.display().to_string();
    let mut pipeline = Pipeline::new(&driver, CheckpointSlicing::Every(every), &name, Replay::FromPosition)
        .describe(
            "records",
            &format!("files of a directory; {}", super::block_run::records_shape(args)),
        )
        .describe(
            "output",
            &format!(
                "{} to {}",
                super::block_run::value_name(args.output),
                super::block_run::output_name(args)
            ),
        );
    if let Some(checkpoint) = &args.checkpoint {
        pipeline = pipeline.checkpoint(checkpoint);
        if args.reset {
            pipeline = pipeline.reset_checkpoint();
        }
    }
    let run = pipeline.start(&mut stage)?.stopped_by(counters.stopped());
    let read = format!("{} read", plural(stage.read.len() as u64, "file"));
    if let Some(checkpoint) = &args.checkpoint {
        super::block_run::announce(&run, checkpoint, counters, &read);
    }
    let go_on = "zpark: to go on: add --reset to compute every slice and window again over all the files (the output directory is written anew), or move the files added since into a directory of their own and run that with another --checkpoint and --output-dir"
        .to_string();
    let start = Start::of(&run, args.checkpoint.as_deref(), read, go_on);
    let progress = counters.progress.clone();
    let (report, behind) = (counters.report(), counters.behind.clone());
    let run = run.on_commit(move |so_far| {
        progress.set_message(slices_status(&progress, so_far.slices, report.rejected(), &behind));
    });
    let files = new_files_after(args, &dir, &stage.read, counters)?;
    let (operation, reader) = (args.operation.clone(), engine.clone());
    let mut read_so_far = stage.read.len() as u64;
    let slices = files
        .discretize_keep_time(engine, every)
        .map(move |(_, paths)| {
            let (record, operation, reader) = (record.clone(), operation.clone(), reader.clone());
            async move {
                // The slice's paths are in memory on the driver: no engine work to read them.
                let files = paths
                    .collect()
                    .await?
                    .into_iter()
                    .collect::<zpark::Result<Vec<PathBuf>>>()?;
                slice_counts(&reader, files, record, &operation).await
            }
        })
        // Several slices on the engine at once (on Spark, plans in flight), committed in order.
        .buffered(super::context::DEFAULT_IN_FLIGHT)
        .map(move |counted: zpark::Result<SliceCounts>| {
            let counted = counted?;
            read_so_far += counted.files.len() as u64;
            Ok(CutSlice {
                elements: counted.records + counted.missing,
                // The position of a directory: how many of its files have been read.
                end: Some(SourcePosition::at(read_so_far, read_so_far)),
                rdd: driver.parallelize(vec![counted], 1),
            })
        });
    let result = super::block_run::to_output(run, slices, &mut stage, args).await?;
    settle(result, &start, counters)?;
    Ok(())
}

/// The files to read: those of the directory now (or, with `--follow`, as they come until
/// stopped), without those a checkpoint says were read.
fn new_files_after(
    args: &RunArgs,
    dir: &Path,
    read: &[PathBuf],
    counters: &Counters,
) -> zpark::Result<futures::stream::BoxStream<'static, zpark::Result<PathBuf>>> {
    if args.follow.is_some() {
        let files = zpark::source::new_files(dir, LOOK_EVERY).skipping(read.iter().cloned());
        return Ok(files.take_until(counters.stop_signal()).boxed());
    }
    // The files there now: one look into the directory, by the same rules.
    let read: std::collections::HashSet<&PathBuf> = read.iter().collect();
    let present: Vec<zpark::Result<PathBuf>> = zpark::source::files_in(dir)?
        .into_iter()
        .filter(|file| !read.contains(file))
        .map(Ok)
        .collect();
    Ok(futures::stream::iter(present).boxed())
}

/// The stage of a directory run: each slice's counts through the operation and its windows;
/// what it saves is the windows and the files read so far.
struct DirStage {
    operation: OperationStage,
    on_error: OnErrorArg,
    report: zpark::source::InputReport,
    progress: indicatif::ProgressBar,
    /// Every file read so far, in order (what a resumed run leaves out).
    read: Vec<PathBuf>,
}

/// What a directory run's checkpoint saves.
#[derive(serde::Serialize, serde::Deserialize)]
struct DirState {
    stage: super::stage::SavedStage,
    read: Vec<PathBuf>,
}

impl CheckpointStage<SliceCounts> for DirStage {
    type State = DirState;

    fn describe(&self) -> String {
        self.operation.describe()
    }

    fn process(&mut self, slice: u64, rdd: Rdd<SliceCounts>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        async move {
            let Some(counted) = rdd.collect().await?.pop() else {
                return Ok(Vec::new());
            };
            if counted.missing > 0 && self.on_error == OnErrorArg::Fail {
                let error = bad_record(slice, &counted).await?;
                self.report.add(0, 0, Vec::new(), Some(error.clone()));
                return Err(error);
            }
            self.report.add(counted.records, counted.missing, Vec::new(), None);
            self.progress.inc(counted.records + counted.missing);
            let computed = ComputedSlice {
                outcomes: Vec::new(),
                partial: rdd.engine().parallelize(counted.partials, 1),
                keyed: Vec::new(),
                lines: None,
            };
            let lines = self.operation.process(slice, computed).await?;
            self.read.extend(counted.files);
            Ok(lines)
        }
        .boxed()
    }

    fn finish(&mut self) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        self.operation.finish_lines().boxed()
    }

    fn save(&self) -> BoxFuture<'_, zpark::Result<DirState>> {
        async move {
            Ok(DirState {
                stage: self.operation.save().await?,
                read: self.read.clone(),
            })
        }
        .boxed()
    }

    fn restore(&mut self, engine: &Engine, state: DirState) {
        self.operation.restore(engine, state.stage);
        self.read = state.read;
    }
}

/// What a line's value is: its field, typed as `--parse` says.
#[derive(Debug, Clone)]
struct Record {
    field: zpark::Field,
    parse: Parse,
    /// Lines of text, or Parquet records as JSON objects.
    files: zpark::engine::FileFormat,
}

impl Record {
    /// The rows of `files` on `engine`, read where it reads them.
    fn read(&self, engine: &Engine, files: Vec<PathBuf>) -> Rdd<String> {
        match self.files {
            zpark::engine::FileFormat::Parquet => engine.parquet_files(files),
            _ => engine.text_files(files),
        }
    }

    /// The value of `line`, or `None` for a bad record (no field, or not a number).
    fn of(&self, line: &str) -> Option<Value> {
        self.typed(&self.field.of(line)?)
    }

    /// `text` as `--parse` types it.
    fn typed(&self, text: &str) -> Option<Value> {
        match self.parse {
            Parse::String => Some(Value::Str(Text::new(text))),
            Parse::Int => zpark::parse_int(text).map(|n| Value::Int(i128::from(n))),
            Parse::Float => zpark::parse_float(text).map(Value::Float),
        }
    }

    /// What a bad record lacks, for messages.
    fn wanted(&self) -> String {
        match self.parse {
            Parse::String => self.field.to_string(),
            Parse::Int => format!("whole number in the {}", self.field),
            Parse::Float => format!("number in the {}", self.field),
        }
    }
}

/// What the engine sent back of one slice.
#[derive(Debug, Clone)]
struct SliceCounts {
    /// The slice's partial result.
    partials: Vec<Partial>,
    /// Lines with a value.
    records: u64,
    /// Lines without one (bad records).
    missing: u64,
    /// The slice's files, to find a bad line in.
    files: Vec<PathBuf>,
    record: Record,
}

/// A slice's partial result, computed where the engine reads the files (on Spark, there):
/// sums, minimums and maximums of numbers with Spark's built-in aggregates; everything else
/// from the slice's counts by text, typed on the driver (a few values per distinct text).
async fn slice_counts(
    engine: &Engine,
    files: Vec<PathBuf>,
    record: Record,
    operation: &Operation,
) -> zpark::Result<SliceCounts> {
    let lines = record.read(engine, files.clone());
    let texts = lines.field(record.field.clone());
    let reducer = match operation {
        Operation::Sum => Some(zpark::Reducer::Sum),
        Operation::Min => Some(zpark::Reducer::Min),
        Operation::Max => Some(zpark::Reducer::Max),
        _ => None,
    };
    let (partials, records, missing) = match (reducer, record.parse) {
        (Some(reducer), Parse::Int) => {
            let numbers = texts.parse_int();
            let records = numbers.reduce_with(zpark::Reducer::Count).await?.flatten().unwrap_or(0) as u64;
            let total = numbers.reduce_with(reducer).await?.flatten();
            let partials = total.map(|n| (Value::Int(i128::from(n)), 1)).into_iter().collect();
            (partials, records, lines.count().await? - records)
        }
        (Some(reducer), Parse::Float) => {
            let numbers = texts.parse_float();
            let records = numbers
                .reduce_with(zpark::Reducer::Count)
                .await?
                .flatten()
                .unwrap_or(0.0) as u64;
            let total = numbers.reduce_with(reducer).await?.flatten();
            let partials = total.map(|x| (Value::Float(x), 1)).into_iter().collect();
            (partials, records, lines.count().await? - records)
        }
        _ => by_value(texts.count_by_value().collect().await?, &record, operation),
    };
    Ok(SliceCounts {
        partials,
        records,
        missing,
        files,
        record,
    })
}

/// The partial result of counts by text: each text typed, equal values merged (`1.0` and
/// `1.00` are one number), bad records counted apart.
fn by_value(counts: Vec<(Option<String>, u64)>, record: &Record, operation: &Operation) -> (Vec<Partial>, u64, u64) {
    let mut by_value: rustc_hash::FxHashMap<Value, u64> = rustc_hash::FxHashMap::default();
    let (mut records, mut missing) = (0, 0);
    for (text, n) in counts {
        match text.as_deref().and_then(|text| record.typed(text)) {
            Some(value) => {
                records += n;
                *by_value.entry(value).or_insert(0) += n;
            }
            None => missing += n,
        }
    }
    let one = |value: Option<Value>| value.map(|v| (v, 1)).into_iter().collect();
    let partials = match operation {
        Operation::Count => vec![(Value::Int(0), records)],
        Operation::Sum => one(by_value.iter().map(|(v, n)| times(v, *n)).reduce(Value::add)),
        Operation::Min => one(by_value.into_keys().min()),
        Operation::Max => one(by_value.into_keys().max()),
        Operation::CountByValue | Operation::Top { .. } | Operation::Distinct => by_value.into_iter().collect(),
    };
    (partials, records, missing)
}

/// `value` added up `n` times (a sum from counts by value).
fn times(value: &Value, n: u64) -> Value {
    match value {
        Value::Int(v) => Value::Int(v * i128::from(n)),
        Value::Float(v) => Value::Float(v * n as f64),
        Value::Str(_) => value.clone(),
    }
}

/// The error of a slice with bad records under `--on-error fail`: the first one, found by
/// reading the slice's files on the driver.
async fn bad_record(slice: u64, counted: &SliceCounts) -> zpark::Result<zpark::Error> {
    let found = first_without(&counted.files, &counted.record).await?;
    Ok(match found {
        Some((file, line, record)) => zpark::Error::Parse {
            input: file.display().to_string(),
            line,
            record: super::record::shorten(&record),
            reason: format!(
                "no {} (--on-error skip counts such lines and goes on)",
                counted.record.wanted()
            ),
        },
        None => zpark::Error::Parse {
            input: format!("the files of slice {slice}"),
            line: 0,
            record: String::new(),
            reason: format!(
                "{} without the {} (--on-error skip counts such lines and goes on)",
                plural(counted.missing, "line"),
                counted.record.wanted()
            ),
        },
    })
}

/// The first line of `files` without a value: its file, line number (from 1) and text.
async fn first_without(files: &[PathBuf], record: &Record) -> zpark::Result<Option<(PathBuf, u64, String)>> {
    let reader = Engine::local(1);
    for file in files {
        let lines = record.read(&reader, vec![file.clone()]).collect().await?;
        if let Some((index, line)) = lines
            .into_iter()
            .enumerate()
            .find(|(_, line)| record.of(line).is_none())
        {
            return Ok(Some((file.clone(), index as u64 + 1, line)));
        }
    }
    Ok(None)
}
