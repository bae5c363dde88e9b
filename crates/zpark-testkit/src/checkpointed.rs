//! The checkpointed pipeline of the kill test: a window and a keyed state over `KEY VALUE`
//! lines, written to the exactly-once sink.
//!
//! Per slice it writes the sums per key over the last [`WINDOW`] slices (every [`SLIDE`]
//! slices, in two stacks per key: [`SliceReduceWindow`]) as `window<TAB>END<TAB>KEY<TAB>SUM`
//! (`END` the window's last slice), and the running total per key since the start of the
//! input as `total<TAB>KEY<TAB>TOTAL`, each block sorted by key. In slices of time the window
//! is [`TIMED_WINDOW`] slices every [`SLIDE`], so that every slice is in exactly two windows.

use std::path::Path;

use futures::future::{BoxFuture, FutureExt};
use futures::StreamExt;
use zpark::checkpoint::{CheckpointStage, Pipeline, Replay, RunSummary, Slicing};
use zpark::prelude::*;
use zpark::sink::SliceFiles;
use zpark::state::KeyedState;
use zpark::window::{SliceReduceWindow, WindowState};

/// Slices in a window.
pub const WINDOW: u64 = 5;
/// Slices between two windows.
pub const SLIDE: u64 = 2;
/// Slices in a window, in slices of time: a multiple of [`SLIDE`].
pub const TIMED_WINDOW: u64 = 4;

type Pair = (String, u64);

/// The stage: per-slice sums per key, a window of them, and the running totals.
#[derive(Debug)]
pub struct WindowAndTotals {
    window: SliceReduceWindow<String, u64>,
    totals: KeyedState<String, u64>,
}

impl Default for WindowAndTotals {
    fn default() -> Self {
        WindowAndTotals::new(WINDOW)
    }
}

impl WindowAndTotals {
    /// Windows of `window` slices every [`SLIDE`].
    pub fn new(window: u64) -> WindowAndTotals {
        WindowAndTotals {
            window: SliceReduceWindow::new(window, SLIDE, |a, b| a + b),
            totals: KeyedState::new(),
        }
    }
}

/// `KEY VALUE` to a pair; a line that does not fit is a bug of the test data.
fn parse(line: String) -> Pair {
    let mut words = line.split_whitespace();
    let key = words.next().unwrap_or_default().to_string();
    let value = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    (key, value)
}

async fn sorted_lines(label: &str, rdd: Rdd<Pair>) -> zpark::Result<Vec<String>> {
    Ok(sorted(label, rdd.collect().await?))
}

fn sorted(label: &str, mut pairs: Vec<Pair>) -> Vec<String> {
    pairs.sort();
    pairs.into_iter().map(|(k, v)| format!("{label}\t{k}\t{v}")).collect()
}

impl CheckpointStage<String> for WindowAndTotals {
    type State = (WindowState<Pair>, Vec<Pair>);

    fn describe(&self) -> String {
        format!("sum by key; {}; running total by key", self.window.describe())
    }

    fn process(&mut self, slice: u64, rdd: Rdd<String>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        async move {
            let sums = rdd.map(parse).reduce_by_key(|a, b| a + b).persist();
            let mut lines = Vec::new();
            for (end, window) in self.window.push(slice, sums.collect().await?) {
                lines.extend(sorted(&format!("window\t{end}"), window));
            }
            let totals = self
                .totals
                .update(&sums, |new: Vec<u64>, old: Option<u64>| {
                    Some(old.unwrap_or(0) + new.iter().sum::<u64>())
                })
                .await?;
            lines.extend(sorted_lines("total", totals).await?);
            Ok(lines)
        }
        .boxed()
    }

    fn finish(&mut self) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        async move {
            let mut lines = Vec::new();
            for (end, window) in self.window.finish() {
                lines.extend(sorted(&format!("window\t{end}"), window));
            }
            Ok(lines)
        }
        .boxed()
    }

    fn save(&self) -> BoxFuture<'_, zpark::Result<Self::State>> {
        async move {
            let mut totals = self.totals.save().await?;
            totals.sort();
            Ok((self.window.save(), totals))
        }
        .boxed()
    }

    fn restore(&mut self, engine: &Engine, (window, totals): Self::State) {
        self.window.restore(window);
        self.totals.restore(engine, totals);
    }
}

/// Runs the pipeline over `input` in slices of `slicing` (lines, or time: then with windows
/// of [`TIMED_WINDOW`] slices), checkpointing in `checkpoint` and writing to `output`;
/// resumes from the checkpoint there if any. With `follow` the input is followed
/// ([`follow_from`](zpark::source::follow_from), rotations included) and the run never ends
/// by itself.
///
/// # Errors
///
/// As [`Pipeline::start`] and [`zpark::checkpoint::Run::run`].
pub async fn run(
    engine: &Engine,
    input: &Path,
    slicing: Slicing,
    checkpoint: &Path,
    output: &Path,
    follow: bool,
) -> zpark::Result<RunSummary> {
    let mut stage = match slicing {
        Slicing::Count(_) => WindowAndTotals::default(),
        Slicing::Every(_) => WindowAndTotals::new(TIMED_WINDOW),
    };
    let run = Pipeline::new(engine, slicing, &input.display().to_string(), Replay::FromPosition)
        .checkpoint(checkpoint)
        .start(&mut stage)?;
    let mut sink = SliceFiles::open(output, run.resumed_after())?;
    let report = zpark::source::InputReport::new();
    let lines = if follow {
        zpark::source::follow_from(input, run.position())
    } else {
        zpark::source::lines_from(input, run.position())
    };
    let lines = lines.on_error(OnError::Fail, &report);
    let summary = run.run(lines.boxed(), &mut stage, &mut sink).await?;
    report.finish()?;
    Ok(summary)
}

/// The stage of the pipeline over a Kafka topic: each slice's batches of records, their values
/// as `KEY VALUE` lines through [`WindowAndTotals`].
#[cfg(feature = "kafka")]
#[derive(Debug)]
pub struct RecordValues(pub WindowAndTotals);

#[cfg(feature = "kafka")]
impl CheckpointStage<zpark::source::KafkaBatch> for RecordValues {
    type State = <WindowAndTotals as CheckpointStage<String>>::State;

    fn describe(&self) -> String {
        format!("record values; {}", self.0.describe())
    }

    fn process(
        &mut self,
        slice: u64,
        rdd: Rdd<zpark::source::KafkaBatch>,
    ) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        let lines = rdd.flat_map(|batch| {
            batch
                .records
                .into_iter()
                .map(|record| String::from_utf8_lossy(record.value.as_deref().unwrap_or_default()).into_owned())
                .collect::<Vec<_>>()
        });
        self.0.process(slice, lines)
    }

    fn finish(&mut self) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        self.0.finish()
    }

    fn save(&self) -> BoxFuture<'_, zpark::Result<Self::State>> {
        self.0.save()
    }

    fn restore(&mut self, engine: &Engine, state: Self::State) {
        self.0.restore(engine, state);
    }
}

/// Runs the pipeline over the topic at `url` (`kafka://HOST:PORT/TOPIC`) in slices of
/// `slicing`, checkpointing in `checkpoint` (the next offset of every partition with the
/// windows and totals) and writing to `output`; resumes from the checkpoint there if any.
/// With `follow` the topic is read for ever; without, up to its end.
///
/// # Errors
///
/// As [`Pipeline::start`] and [`zpark::checkpoint::Run::run`]; a bad URL or an unreachable
/// broker.
#[cfg(feature = "kafka")]
pub async fn run_kafka(
    engine: &Engine,
    url: &str,
    slicing: Slicing,
    checkpoint: &Path,
    output: &Path,
    follow: bool,
) -> zpark::Result<RunSummary> {
    let window = match slicing {
        Slicing::Count(_) => WINDOW,
        Slicing::Every(_) => TIMED_WINDOW,
    };
    let mut stage = RecordValues(WindowAndTotals::new(window));
    let run = Pipeline::new(engine, slicing, url, Replay::FromPosition)
        .checkpoint(checkpoint)
        .start(&mut stage)?;
    let mut sink = SliceFiles::open(output, run.resumed_after())?;
    let mut topic = zpark::source::kafka(url)?;
    if !follow {
        topic = topic.until_end();
    }
    let report = zpark::source::InputReport::new();
    let batches = topic.positioned(run.position()).on_error(OnError::Fail, &report);
    let summary = run.run(batches.boxed(), &mut stage, &mut sink).await?;
    report.finish()?;
    Ok(summary)
}
