//! `zpark run --checkpoint DIR`: the same pipeline, committed slice after slice so that a
//! killed run resumes where it stopped.

use std::path::Path;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use futures::StreamExt;
use zpark::checkpoint::{CheckpointStage, Pipeline, Run, RunSummary};
use zpark::prelude::*;
use zpark::sink::{SliceFiles, SliceLines, SliceSink};
use zpark::source::Positioned;
use zpark::window::{SliceWindow, WindowState};

use super::output::{Formatter, Label, Span};
use super::partial::{merge, partial, rows, Partial};
use super::pipeline::{input, input_lines, line_range, records, Counters, Slicing};
use super::record::Value;
use super::{Operation, RunArgs};

/// The operation of `zpark run` as a checkpointed stage: each slice reduced to its partial
/// result, windows merging the partial results of their slices (what the checkpoint saves).
pub(super) struct OperationStage {
    operation: Operation,
    window: Option<SliceWindow<Partial>>,
    formatter: Formatter,
    /// The slice length for `--every` (results labelled with the slice's time), or `None` for
    /// `--count` (labelled with the slice's number).
    every: Option<Duration>,
    skip_empty: bool,
}

impl OperationStage {
    /// The stage of `args`, for slices of `--count` (no `every`) or `--every`.
    pub(super) fn new(args: &RunArgs, every: Option<Duration>) -> OperationStage {
        let in_slices = |d: Duration| every.map_or(1, |every| (d.as_nanos() / every.as_nanos()) as u64);
        let window = args
            .window
            .map(|w| SliceWindow::new(in_slices(w), in_slices(args.slide.unwrap_or(every.unwrap_or(w)))));
        OperationStage {
            operation: args.operation.clone(),
            window,
            formatter: Formatter::new(args.output),
            every,
            skip_empty: args.skip_empty,
        }
    }

    /// The output lines of slice `slice`, whose partial result is `partial` and whose input
    /// lines are `lines` (for slices of records): its rows, or those of the windows it ends.
    pub(super) async fn process_partial(
        &mut self,
        slice: u64,
        partial: Rdd<Partial>,
        lines: Option<(u64, u64)>,
    ) -> zpark::Result<Vec<String>> {
        let Some(window) = &mut self.window else {
            let rows = rows(&self.operation, partial, self.skip_empty).await?;
            return Ok(self.formatter.lines(self.label(slice, lines), &rows));
        };
        let windows = window.push(slice, partial)?;
        self.window_lines(windows).await
    }

    /// The output lines of the windows that still hold the last slices, at the end of input.
    pub(super) async fn finish_lines(&mut self) -> zpark::Result<Vec<String>> {
        let windows = self.window.as_mut().map(SliceWindow::finish).unwrap_or_default();
        self.window_lines(windows).await
    }

    /// The label of slice `slice` (numbered from 1), or of the window that ends with it.
    fn label(&self, slice: u64, lines: Option<(u64, u64)>) -> Label {
        match (self.every, &self.window) {
            (Some(every), window) => {
                let end = every.saturating_mul(u32::try_from(slice).unwrap_or(u32::MAX));
                let (number, span) = match window {
                    // Windows are numbered as they come: the one ending with slice `slice`.
                    Some(window) => (slice / window.slide(), every.saturating_mul(window.length() as u32)),
                    None => (slice, every),
                };
                Label::timed(number, SliceTime::with_interval(end, every), span, false)
            }
            (None, _) => Label {
                slice,
                span: Span::Lines(lines),
            },
        }
    }

    /// The output lines of windows, each labelled with its last slice.
    async fn window_lines(&self, windows: Vec<(u64, Rdd<Partial>)>) -> zpark::Result<Vec<String>> {
        let mut lines = Vec::new();
        for (end, inside) in windows {
            let rows = rows(&self.operation, merge(&self.operation, inside), self.skip_empty).await?;
            lines.extend(self.formatter.lines(self.label(end, None), &rows));
        }
        Ok(lines)
    }
}

impl CheckpointStage<(u64, Value)> for OperationStage {
    type State = Option<WindowState<Partial>>;

    fn describe(&self) -> String {
        match &self.window {
            Some(window) => format!("{:?}; {}", self.operation, window.describe()),
            None => format!("{:?}", self.operation),
        }
    }

    fn process(&mut self, slice: u64, rdd: Rdd<(u64, Value)>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        async move {
            let rdd = rdd.persist();
            let partial = partial(&self.operation, &rdd.map(|(_, value)| value));
            let lines = match &self.window {
                None => line_range(&rdd.map(|(line, _)| line)).await,
                Some(_) => None,
            };
            self.process_partial(slice, partial, lines).await
        }
        .boxed()
    }

    fn finish(&mut self) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        self.finish_lines().boxed()
    }

    fn save(&self) -> BoxFuture<'_, zpark::Result<Self::State>> {
        async move {
            match &self.window {
                Some(window) => Ok(Some(window.save().await?)),
                None => Ok(None),
            }
        }
        .boxed()
    }

    fn restore(&mut self, engine: &Engine, state: Self::State) {
        if let (Some(window), Some(state)) = (&mut self.window, state) {
            window.restore(engine, state);
        }
    }
}

/// Runs the pipeline with a checkpoint in `dir`: resumes from it, or starts it.
pub(super) async fn run(
    args: &RunArgs,
    slicing: &Slicing,
    engine: &Engine,
    dir: &Path,
    counters: &mut Counters,
) -> anyhow::Result<()> {
    let (cut, every) = match slicing {
        Slicing::Count(n) => (zpark::checkpoint::Slicing::Count(*n), None),
        Slicing::Every(d) => (zpark::checkpoint::Slicing::Every(*d), Some(*d)),
        _ => anyhow::bail!(crate::UsageError("--checkpoint needs --count or --every slices".into())),
    };
    let mut stage = OperationStage::new(args, every);
    let (name, replay) = input(args);
    let mut pipeline = Pipeline::new(engine, cut, &name, replay)
        .checkpoint(dir)
        .describe("records", &records_shape(args))
        .describe(
            "output",
            &format!("{} to {}", value_name(args.output), output_name(args)),
        );
    if args.reset {
        pipeline = pipeline.reset_checkpoint();
    }
    let run = pipeline.start(&mut stage)?;
    announce(&run, dir, counters);
    let progress = counters.progress.clone();
    let run = run.on_commit(move |so_far| {
        progress.set_message(format!(
            "{} slices committed, after slice {}",
            so_far.slices,
            so_far.resumed_after + so_far.slices
        ));
    });
    let lines = input_lines(args, Some(run.position()));
    let values = records(args, name, lines, slicing, counters).map(|record| Positioned {
        item: (record.end.line, record.item.value),
        end: record.end,
    });
    let resumed_after = run.resumed_after();
    let summary = match &args.output_dir {
        Some(out) => drive(run, values, &mut stage, &mut SliceFiles::open(out, resumed_after)?).await,
        None => {
            drive(
                run,
                values,
                &mut stage,
                &mut SliceLines::new(std::io::stdout(), "standard output"),
            )
            .await
        }
    };
    match summary {
        Ok(summary) => counters.slices = summary.slices,
        // The checkpoint stays at the slice before: a restart resumes with the failed slice.
        Err(error) => {
            counters.failed_slices += 1;
            counters.progress.suspend(|| eprintln!("zpark: {error}"));
        }
    }
    Ok(())
}

async fn drive<S, K>(run: Run, values: S, stage: &mut OperationStage, sink: &mut K) -> zpark::Result<RunSummary>
where
    S: futures::Stream<Item = Positioned<(u64, Value)>> + Send + 'static,
    K: SliceSink,
{
    run.run(values, stage, sink).await
}

/// The name a value has on the command line (`--format csv`).
fn value_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

fn records_shape(args: &RunArgs) -> String {
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

fn output_name(args: &RunArgs) -> String {
    args.output_dir
        .as_ref()
        .map_or("standard output".to_string(), |dir| dir.display().to_string())
}

fn announce(run: &Run, dir: &Path, counters: &Counters) {
    counters.progress.suspend(|| {
        if let Some(warning) = run.warning() {
            eprintln!("zpark: warning: {warning}");
        }
        if run.resumed_after() > 0 {
            eprintln!(
                "zpark: resuming from checkpoint {} after slice {} (input line {})",
                dir.display(),
                run.resumed_after(),
                run.position().line
            );
        }
    });
}
