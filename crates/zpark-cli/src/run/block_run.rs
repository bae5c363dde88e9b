//! `zpark run` on slices of lines (`--count`) or of time (`--every`): one orchestration, with
//! or without `--checkpoint DIR`. Blocks of lines are read (from the checkpoint's position when
//! there is one), parsed on the workers as they are read, cut into slices, and each slice goes
//! through the operation's stage to the output; with a checkpoint, each slice is then committed
//! so that a killed run resumes where it stopped (`zpark::checkpoint::Run`, which without a
//! directory commits nothing). A slice that fails stops the run, its error printed (exit 1).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use zpark::checkpoint::{CutSlice, FileIdentity, Pipeline, Run, SourcePosition};
use zpark::prelude::*;
use zpark::sink::{SliceFiles, SliceLines};
use zpark::source::find_rotated;

use super::block_pipeline::{input_blocks, line_parser, readable_blocks, slices_of_blocks, PendingBlock};
use super::context::{input, plural, slices_status, Counters, Slicing};
use super::metrics::SliceObserver;
use super::record::{csv_row, Format};
use super::run_end::{settle, Start};
use super::stage::{BlockStage, OperationStage};
use super::RunArgs;

/// Runs the pipeline to its end (or to Ctrl-C); with `--checkpoint DIR`, resumes from the
/// checkpoint there, or starts it.
pub(super) async fn run(
    args: &RunArgs,
    slicing: &Slicing,
    engine: &Engine,
    counters: &mut Counters,
) -> anyhow::Result<()> {
    let dir = args.checkpoint.as_deref();
    let (cut, every) = match slicing {
        Slicing::Count(n) => (zpark::checkpoint::Slicing::Count(*n), None),
        Slicing::Every(d) => (zpark::checkpoint::Slicing::Every(*d), Some(*d)),
        _ => anyhow::bail!(crate::UsageError("--checkpoint needs --count or --every slices".into())),
    };
    let (name, replay) = input(args);
    let mut stage = BlockStage {
        operation: OperationStage::new(args, every, engine),
        report: counters.report(),
        progress: counters.progress.clone(),
        metrics: None,
        behind: counters.behind.clone(),
    };
    let started = tokio::time::Instant::now();
    let cut_count = Arc::new(AtomicU64::new(0));
    // The same file however it is named (`./app.log`, an absolute path): compared canonical.
    let canonical = match replay.is_replayable() {
        true => std::fs::canonicalize(&name).map_or_else(|_| name.clone(), |p| p.display().to_string()),
        false => name.clone(),
    };
    let mut pipeline = Pipeline::new(engine, cut, &canonical, replay)
        .describe("records", &records_shape(args))
        .describe(
            "output",
            &format!("{} to {}", value_name(args.output), output_name(args)),
        );
    if let Some(dir) = dir {
        pipeline = pipeline.checkpoint(dir);
        if args.reset {
            pipeline = pipeline.reset_checkpoint();
        }
    }
    let run = pipeline.start(&mut stage)?.stopped_by(counters.stopped());
    let read = format!("input line {}", run.position().line);
    if let Some(dir) = dir {
        announce(&run, dir, counters, &read);
    }
    let start = Start::of(&run, dir, read, how_to_go_on(&name, run.position()));
    // Without --metrics or --ui the observer writes nothing; it still measures how far behind
    // each slice comes, for the progress line.
    let clock = (started, Arc::clone(&cut_count));
    stage.metrics = Some(SliceObserver::open(args, counters, (every, run.resumed_after()), clock).await?);
    let progress = counters.progress.clone();
    let (report, behind) = (counters.report(), counters.behind.clone());
    let checkpointed = dir.is_some();
    let run = run.on_commit(move |so_far| match checkpointed {
        true => progress.set_message(format!(
            "{} committed, after slice {}",
            plural(so_far.slices, "slice"),
            so_far.resumed_after + so_far.slices
        )),
        false => progress.set_message(slices_status(&progress, so_far.slices, report.rejected(), &behind)),
    });
    let parser = line_parser(args, &name);
    if parser.format == Format::Csv && run.position().line > 0 {
        // Resumed past the header: read it again.
        let _ = parser.header.set(csv_header(&name)?);
    }
    let from = dir.map(|_| where_to_read(args, &name, run.position(), counters));
    let blocks = readable_blocks(input_blocks(args, from), &parser, counters);
    let slices = slices_of_blocks(blocks, slicing, engine, parser)?.then(move |rdd| {
        cut_count.fetch_add(1, Ordering::Relaxed);
        async move {
            let blocks = rdd.collect().await?;
            Ok::<_, zpark::Error>(CutSlice {
                elements: blocks.iter().map(|block| block.lines).sum(),
                end: blocks.last().map(|block| block.end.clone()),
                rdd,
            })
        }
    });
    // Stopped by a signal, a slice of --count lines cut short is not committed: the resumed
    // run reads it whole, so the output equals an uninterrupted run's. (Without a checkpoint
    // it is the last slice, as at the end of the input.)
    let (stopped, whole) = (counters.stopped(), cut_lines(slicing).filter(|_| checkpointed));
    let cut_short = std::sync::Arc::new(std::sync::Mutex::new(None));
    let kept = std::sync::Arc::clone(&cut_short);
    let slices = slices.take_while(move |cut| {
        let short = matches!((cut, whole), (Ok(cut), Some(n)) if cut.elements < n);
        let stop = short && stopped.load(std::sync::atomic::Ordering::SeqCst);
        if let (true, Ok(cut), Ok(mut kept)) = (stop, cut, kept.lock()) {
            *kept = Some((cut.rdd.clone(), cut.elements));
        }
        futures::future::ready(!stop)
    });
    let resumed_after = run.resumed_after();
    let result = to_output(run, slices, &mut stage, args).await?;
    if let Some(summary) = settle(result, &start, counters)? {
        let short = cut_short.lock().ok().and_then(|mut kept| kept.take());
        if let (Some((rdd, lines)), None) = (short, &args.output_dir) {
            let slice = resumed_after + summary.slices + 1;
            print_partial(&mut stage, slice, rdd, (lines, whole.unwrap_or(lines)), counters).await?;
        }
    }
    Ok(())
}

/// How to go on after a finished run whose file grew: compute everything again, or read the
/// part after `end` as a run of its own.
fn how_to_go_on(name: &str, end: SourcePosition) -> String {
    format!(
        "zpark: to go on: add --reset to compute every slice and window again over the whole file (the output directory is written anew), or read only the lines added after line {} as a run of their own: tail -c +{} {name} > added.log, then zpark run added.log with another --checkpoint and --output-dir",
        end.line,
        end.offset + 1,
    )
}

/// Prints the slice that a signal cut short to standard output, marked partial (it is not
/// committed: the next run reads it again whole); an `--output-dir` gets nothing of it, so
/// that it stays equal to an uninterrupted run's.
async fn print_partial(
    stage: &mut BlockStage,
    slice: u64,
    rdd: Rdd<PendingBlock>,
    (lines, whole): (u64, u64),
    counters: &Counters,
) -> anyhow::Result<()> {
    stage.operation.mark_partial();
    let output = zpark::checkpoint::CheckpointStage::process(stage, slice, rdd).await?;
    let mut lines_out = SliceLines::new(std::io::stdout(), "standard output");
    zpark::sink::SliceSink::write_slice(&mut lines_out, slice, &output)?;
    counters.progress.suspend(|| {
        eprintln!(
            "zpark: slice {slice} was cut short by the signal ({lines} of {whole} lines): printed as partial, not committed; the next run reads it again whole"
        )
    });
    Ok(())
}

/// Where to read the input from: the checkpoint's position, or with `--skip-lost`, when the
/// file it is in is gone, the start of the file at the path (the loss is noted).
fn where_to_read(args: &RunArgs, name: &str, from: SourcePosition, counters: &mut Counters) -> SourcePosition {
    let path = Path::new(name);
    let Some(recorded) = from.file.filter(|_| args.skip_lost) else {
        return from;
    };
    if FileIdentity::of_path(path) == Some(recorded) || find_rotated(path, recorded).is_some() {
        return from;
    }
    let lost = format!(
        "the rest of the file {name} was in after byte {} (it is gone; read on from the start of the file now at the path)",
        from.offset
    );
    counters
        .progress
        .suspend(|| eprintln!("zpark: warning: --skip-lost: lost {lost}"));
    counters.lost = Some(lost);
    SourcePosition::at(0, from.line)
}

/// The lines of a `--count` slice.
fn cut_lines(slicing: &Slicing) -> Option<u64> {
    match slicing {
        Slicing::Count(n) => Some(*n as u64),
        _ => None,
    }
}

/// The header of a CSV file: its first line.
fn csv_header(path: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let file = std::fs::File::open(path).map_err(|error| zpark::Error::Io {
        input: path.to_string(),
        source: std::sync::Arc::new(error),
    })?;
    let mut first = Vec::new();
    std::io::BufRead::read_until(&mut std::io::BufReader::new(file), b'\n', &mut first)?;
    let line = first.strip_suffix(b"\n").unwrap_or(&first);
    Ok(csv_row(line.strip_suffix(b"\r").unwrap_or(line)).unwrap_or_default())
}

/// The name a value has on the command line (`--format csv`).
pub(super) fn value_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

pub(super) fn records_shape(args: &RunArgs) -> String {
    let field = args
        .field
        .as_ref()
        .map_or("the whole line".to_string(), |field| format!("field {field}"));
    format!(
        "{} records, {field}, parsed as {}",
        value_name(args.format),
        value_name(args.parse)
    )
}

pub(super) fn output_name(args: &RunArgs) -> String {
    args.output_dir
        .as_ref()
        .map_or("standard output".to_string(), |dir| dir.display().to_string())
}

/// Says on standard error what the checkpoint in `dir` warns of, and where a resumed run
/// starts again (`read`: how far the input was read).
pub(super) fn announce(run: &Run, dir: &Path, counters: &Counters, read: &str) {
    counters.progress.suspend(|| {
        if let Some(warning) = run.warning() {
            eprintln!("zpark: warning: {warning}");
        }
        // A finished run says how it ends instead (`run_end`).
        if run.resumed_after() > 0 && run.finished().is_none() {
            eprintln!(
                "zpark: resuming from checkpoint {} after slice {} ({read})",
                dir.display(),
                run.resumed_after(),
            );
        }
    });
}

/// Runs `slices` through `stage` to `--output-dir` (exactly-once slice files) or standard
/// output: what every checkpointed orchestration of `zpark run` ends with.
pub(super) async fn to_output<T, S, St>(
    run: Run,
    slices: S,
    stage: &mut St,
    args: &RunArgs,
) -> anyhow::Result<zpark::Result<zpark::checkpoint::RunSummary>>
where
    T: zpark::Data,
    S: futures::Stream<Item = zpark::Result<CutSlice<T>>> + Send,
    St: zpark::checkpoint::CheckpointStage<T>,
{
    Ok(match &args.output_dir {
        Some(out) => {
            let mut files = SliceFiles::open(out, run.resumed_after())?;
            run.run_slices(slices, stage, &mut files).await
        }
        None => {
            let mut lines = SliceLines::new(std::io::stdout(), "standard output");
            run.run_slices(slices, stage, &mut lines).await
        }
    })
}
