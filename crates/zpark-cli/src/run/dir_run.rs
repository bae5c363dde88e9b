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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;

use super::block_pipeline::ComputedSlice;
use super::context::{plural, slices_status, Counters};
use super::partial::Partial;
use super::record::{Field, Format, Parse, Value};
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

/// What a directory run refuses before it starts, and the field it takes.
pub(super) fn check_directory_usage(args: &RunArgs) -> Result<zpark::Field, UsageError> {
    let usage = |message: &str| Err(UsageError(format!("a directory input: {message}")));
    if args.count.is_some() || args.within.is_some() || args.by.is_some() || args.event_time.is_some() {
        return usage("slices of time only (--every), not --count, --within, --by or --event-time");
    }
    if args.session.is_some() || args.checkpoint.is_some() || args.metrics.is_some() || args.ui.is_some() {
        return usage("--session, --checkpoint, --metrics and --ui are not available yet");
    }
    if args.parse != Parse::String || matches!(args.operation, Operation::Sum | Operation::Min | Operation::Max) {
        return usage(
            "count, count-by-value, top and distinct of text (sum, min, max and --parse are not available yet)",
        );
    }
    let field = match (args.format, &args.field) {
        (_, None) => Ok(zpark::Field::Line),
        (Format::Lines, Some(Field::Position(n))) => zpark::Field::word(*n),
        (Format::Csv, Some(Field::Position(n))) => zpark::Field::csv(*n),
        (Format::Json, Some(Field::Name(key))) => zpark::Field::json(key),
        (Format::Csv, Some(Field::Name(name))) => {
            return usage(&format!(
                "CSV columns by position (from 1), not by name (`{name}`): the files may not share one header"
            ))
        }
        (_, Some(field)) => return usage(&format!("field `{field}` does not go with --format {:?}", args.format)),
    };
    field.map_err(|error| UsageError(format!("--field: {error}")))
}

/// Runs the directory's files through the operation to standard output.
pub(super) async fn run(
    args: &RunArgs,
    (dir, field): (PathBuf, zpark::Field),
    engine: &Engine,
    counters: &mut Counters,
) -> anyhow::Result<()> {
    let every = args.every.unwrap_or(Duration::from_secs(1));
    // Windows and results are small: the driver keeps them on an engine of its own.
    let driver = Engine::local(1);
    let mut stage = OperationStage::new(args, Some(every), &driver);
    let files = zpark::source::new_files(&dir, LOOK_EVERY);
    let files = match args.follow {
        Some(_) => files.take_until(counters.stop_signal()).boxed(),
        None => {
            let present = zpark::source::files_in(&dir)?.len();
            files.take(present).boxed()
        }
    };
    let (operation, reader) = (args.operation.clone(), engine.clone());
    let mut slices = std::pin::pin!(files
        .discretize_keep_time(engine, every)
        .map(move |(_, paths)| {
            let (field, operation, reader) = (field.clone(), operation.clone(), reader.clone());
            async move {
                // The slice's paths are in memory on the driver: no engine work to read them.
                let files = paths
                    .collect()
                    .await?
                    .into_iter()
                    .collect::<zpark::Result<Vec<PathBuf>>>()?;
                slice_counts(&reader, files, field, &operation).await
            }
        })
        .buffered(super::context::DEFAULT_IN_FLIGHT));
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut number = 0;
    while let Some(counted) = slices.next().await {
        number += 1;
        let counted = counted?;
        if counted.missing > 0 {
            reject(args, number, &counted, counters).await?;
        }
        counters.report.add(counted.records, counted.missing, Vec::new(), None);
        counters.progress.inc(counted.records + counted.missing);
        let computed = ComputedSlice {
            outcomes: Vec::new(),
            partial: driver.parallelize(counted.partials, 1),
            keyed: Vec::new(),
            lines: None,
        };
        write_lines(&mut out, stage.process(number, computed).await?)?;
        counters.slices = number;
        let message = slices_status(&counters.progress, number, counters.report.rejected(), &counters.behind);
        counters.progress.set_message(message);
    }
    write_lines(&mut out, stage.finish_lines().await?)?;
    out.flush()
        .map_err(|e| anyhow::anyhow!("cannot write to standard output: {e}"))?;
    Ok(())
}

fn write_lines(out: &mut impl Write, lines: Vec<String>) -> anyhow::Result<()> {
    for line in lines {
        writeln!(out, "{line}").map_err(|e| anyhow::anyhow!("cannot write to standard output: {e}"))?;
    }
    Ok(())
}

/// What the engine sent back of one slice.
struct SliceCounts {
    /// The slice's partial result (its counts by value, or its count).
    partials: Vec<Partial>,
    /// Lines with the field.
    records: u64,
    /// Lines without it.
    missing: u64,
    /// The slice's files, to find a bad line in.
    files: Vec<PathBuf>,
    /// The field taken.
    field: zpark::Field,
}

/// Counts a slice's lines by the value of their field, on the engine (on Spark, where the
/// files are read). `count` is the same counts added up on the driver.
async fn slice_counts(
    engine: &Engine,
    files: Vec<PathBuf>,
    field: zpark::Field,
    operation: &Operation,
) -> zpark::Result<SliceCounts> {
    let lines = engine.text_files(files.clone());
    let counts = lines.field(field.clone()).count_by_value().collect().await?;
    let (mut partials, mut records, mut missing) = (Vec::new(), 0, 0);
    for (value, n) in counts {
        match value {
            Some(value) => {
                records += n;
                partials.push((Value::Str(Text::new(value)), n));
            }
            None => missing += n,
        }
    }
    if matches!(operation, Operation::Count) {
        partials = vec![(Value::Int(0), records)];
    }
    Ok(SliceCounts {
        partials,
        records,
        missing,
        files,
        field,
    })
}

/// Lines without the field: counted under `--on-error skip`; under `fail` the run stops with
/// the first such line, found by reading the slice's files on the driver.
async fn reject(args: &RunArgs, slice: u64, counted: &SliceCounts, counters: &Counters) -> anyhow::Result<()> {
    if args.on_error == OnErrorArg::Skip {
        return Ok(());
    }
    let found = first_without(&counted.files, &counted.field).await?;
    let error = match found {
        Some((file, line, record)) => zpark::Error::Parse {
            input: file.display().to_string(),
            line,
            record: super::record::shorten(&record),
            reason: format!("no {} (--on-error skip counts such lines and goes on)", counted.field),
        },
        None => zpark::Error::Parse {
            input: format!("the files of slice {slice}"),
            line: 0,
            record: String::new(),
            reason: format!(
                "{} without the {} (--on-error skip counts such lines and goes on)",
                plural(counted.missing, "line"),
                counted.field
            ),
        },
    };
    counters.progress.finish_and_clear();
    Err(error.into())
}

/// The first line of `files` without `field`: its file, line number (from 1) and text.
async fn first_without(files: &[PathBuf], field: &zpark::Field) -> zpark::Result<Option<(PathBuf, u64, String)>> {
    let reader = Engine::local(1);
    for file in files {
        let lines = reader.text_files([file.clone()]).collect().await?;
        if let Some((index, line)) = lines.into_iter().enumerate().find(|(_, line)| field.of(line).is_none()) {
            return Ok(Some((file.clone(), index as u64 + 1, line)));
        }
    }
    Ok(None)
}
