//! The operation of `zpark run` over slices: each slice's partial result through the
//! operation, or through windows of them, into labelled output lines. The fast pipeline drives
//! it slice by slice; a checkpointed run drives it as its `CheckpointStage`, saving its windows.

use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use indicatif::ProgressBar;
use zpark::checkpoint::CheckpointStage;
use zpark::prelude::*;
use zpark::source::InputReport;
use zpark::window::{Session, SessionState, SessionWindows, SliceReduceWindow, WindowState};

use super::block_pipeline::{gather, ComputedSlice, PendingBlock};
use super::context::{slice_end, Behind};
use super::metrics::{counted, SliceFacts, SliceObserver};
use super::output::{Formatter, Label, Span};
use super::partial::{combine, key_of, merge_partials, rows, Partial};
use super::record::Value;
use super::sessions::SessionLines;
use super::{Operation, RunArgs};

/// The operation: each slice reduced to its partial result, windows merging the partial
/// results of their slices in constant time per slide (what a checkpoint saves).
pub(super) struct OperationStage {
    operation: Operation,
    window: Option<SliceReduceWindow<Value, Partial>>,
    /// The window's length and slide, in slices.
    window_slices: Option<(u64, u64)>,
    /// With `--session`: each key's sessions, and the field of the keys.
    sessions: Option<(SessionWindows<Value, Vec<Partial>>, String)>,
    /// Where a window's merged partial results become rows.
    engine: Engine,
    formatter: Formatter,
    /// The slice length for `--every` (results labelled with the slice's time), or `None` for
    /// `--count` (labelled with the slice's number).
    every: Option<Duration>,
    skip_empty: bool,
}

impl OperationStage {
    /// The stage of `args`, for slices of `--count` (no `every`) or `--every`.
    pub(super) fn new(args: &RunArgs, every: Option<Duration>, engine: &Engine) -> OperationStage {
        let in_slices = |d: Duration| every.map_or(1, |every| (d.as_nanos() / every.as_nanos()) as u64);
        let window_slices = args
            .window
            .map(|w| (in_slices(w), in_slices(args.slide.unwrap_or(every.unwrap_or(w)))));
        let operation = args.operation.clone();
        let window = window_slices.map(|(length, slide)| {
            SliceReduceWindow::new(length, slide, move |older, newer| combine(&operation, older, newer))
        });
        let operation = args.operation.clone();
        let sessions = args.session.zip(args.by_key.as_ref()).map(|(gap, key)| {
            let merge = move |older, newer| merge_partials(&operation, older, newer);
            (SessionWindows::new(gap, merge), key.to_string())
        });
        OperationStage {
            operation: args.operation.clone(),
            window,
            window_slices,
            sessions,
            engine: engine.clone(),
            formatter: Formatter::new(args.output),
            every,
            skip_empty: args.skip_empty,
        }
    }

    /// The output lines of slice `slice`: its rows, those of the windows it ends, or those of
    /// the sessions it closes.
    pub(super) async fn process(&mut self, slice: u64, computed: ComputedSlice) -> zpark::Result<Vec<String>> {
        let Some((sessions, _)) = &mut self.sessions else {
            return self.process_partial(slice, computed.partial, computed.lines).await;
        };
        let every = self.every.unwrap_or(Duration::from_secs(1));
        let time = SliceTime::with_interval(slice_end(every, slice), every);
        let closed = sessions.push(time, computed.keyed);
        self.session_lines(closed).await
    }

    /// The output lines of sessions, ordered by their end, start and key.
    async fn session_lines(&self, sessions: Vec<Session<Value, Vec<Partial>>>) -> zpark::Result<Vec<String>> {
        let lines = SessionLines {
            operation: self.operation.clone(),
            engine: self.engine.clone(),
            formatter: self.formatter,
            skip_empty: self.skip_empty,
            event_time: false,
        };
        lines.lines(sessions).await
    }

    /// The output lines of slice `slice`, whose partial result is `partial` and whose input
    /// lines are `lines` (for slices of records): its rows, or those of the windows it ends.
    async fn process_partial(
        &mut self,
        slice: u64,
        partial: Rdd<Partial>,
        lines: Option<(u64, u64)>,
    ) -> zpark::Result<Vec<String>> {
        let Some(window) = &mut self.window else {
            let rows = rows(&self.operation, partial, self.skip_empty).await?;
            return Ok(self.formatter.lines(self.label(slice, lines), &rows));
        };
        let operation = self.operation.clone();
        let keyed = partial
            .collect()
            .await?
            .into_iter()
            .map(|p| (key_of(&operation, &p), p));
        let windows = window.push(slice, keyed.collect());
        self.window_lines(windows).await
    }

    /// The keys the state holds: the window's, or the open sessions; none without state.
    pub(super) fn state_keys(&self) -> Option<u64> {
        match (&self.sessions, &self.window) {
            (Some((sessions, _)), _) => Some(sessions.open_count() as u64),
            (None, Some(window)) => Some(window.key_count() as u64),
            (None, None) => None,
        }
    }

    /// Marks every later output line as that of a slice cut short, not committed.
    pub(super) fn mark_partial(&mut self) {
        self.formatter = self.formatter.partial();
    }

    /// The output lines of the windows that still hold the last slices, at the end of input.
    pub(super) async fn finish_lines(&mut self) -> zpark::Result<Vec<String>> {
        if let Some((sessions, _)) = &mut self.sessions {
            let open = sessions.finish();
            return self.session_lines(open).await;
        }
        let windows = self.window.as_mut().map(SliceReduceWindow::finish).unwrap_or_default();
        self.window_lines(windows).await
    }

    /// The label of slice `slice` (numbered from 1), or of the window that ends with it.
    fn label(&self, slice: u64, lines: Option<(u64, u64)>) -> Label {
        match (self.every, &self.window) {
            (Some(every), window) => {
                let end = slice_end(every, slice);
                let (number, span) = match (window, self.window_slices) {
                    // Windows are numbered as they come: the one ending with slice `slice`.
                    (Some(_), Some((length, slide))) => (slice / slide, every.saturating_mul(length as u32)),
                    _ => (slice, every),
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
    async fn window_lines(&self, windows: Vec<(u64, Vec<(Value, Partial)>)>) -> zpark::Result<Vec<String>> {
        let mut lines = Vec::new();
        for (end, keyed) in windows {
            let partials: Vec<Partial> = keyed.into_iter().map(|(_, partial)| partial).collect();
            let merged = self.engine.parallelize(partials, 1);
            let rows = rows(&self.operation, merged, self.skip_empty).await?;
            lines.extend(self.formatter.lines(self.label(end, None), &rows));
        }
        Ok(lines)
    }
}

impl OperationStage {
    pub(super) fn describe(&self) -> String {
        if let Some((sessions, key)) = &self.sessions {
            return format!("{:?}; by key {key}; {}", self.operation, sessions.describe());
        }
        match self.window_slices {
            // As the window was described before it took two stacks: the same checkpoints.
            Some((length, slide)) => format!("{:?}; window of {length} slices every {slide}", self.operation),
            None => format!("{:?}", self.operation),
        }
    }

    /// The window's slices and their partial results (the form checkpoints have always had),
    /// or the open sessions.
    pub(super) async fn save(&self) -> zpark::Result<SavedStage> {
        if let Some((sessions, _)) = &self.sessions {
            return Ok(SavedStage::Sessions(sessions.save()));
        }
        Ok(SavedStage::Window(self.window.as_ref().map(|window| {
            WindowState {
                slices: window
                    .save()
                    .slices
                    .into_iter()
                    .map(|(slice, keyed)| (slice, keyed.into_iter().map(|(_, partial)| partial).collect()))
                    .collect(),
            }
        })))
    }

    pub(super) fn restore(&mut self, _engine: &Engine, state: SavedStage) {
        let state = match (state, &mut self.sessions) {
            (SavedStage::Sessions(state), Some((sessions, _))) => return sessions.restore(state),
            (SavedStage::Window(state), _) => state,
            (SavedStage::Sessions(_), None) => None,
        };
        let operation = &self.operation;
        if let (Some(window), Some(state)) = (&mut self.window, state) {
            window.restore(WindowState {
                slices: state
                    .slices
                    .into_iter()
                    .map(|(slice, partials)| {
                        (
                            slice,
                            partials.into_iter().map(|p| (key_of(operation, &p), p)).collect(),
                        )
                    })
                    .collect(),
            });
        }
    }
}

/// What a checkpoint keeps of the stage: the window's slices (`null` without a window, as
/// before sessions: `{"slices":[...]}`), or the open sessions (`{"open":[...]}`). Read by its
/// one field's name (serde's untagged enums buffer the content, which cannot hold the i128
/// of a sum).
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub(super) enum SavedStage {
    Window(Option<WindowState<Partial>>),
    Sessions(SessionState<Value, Vec<Partial>>),
}

impl<'de> serde::Deserialize<'de> for SavedStage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(SavedStageVisitor)
    }
}

struct SavedStageVisitor;

impl<'de> serde::de::Visitor<'de> for SavedStageVisitor {
    type Value = SavedStage;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("null, a window's slices or the open sessions")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<SavedStage, E> {
        Ok(SavedStage::Window(None))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<SavedStage, E> {
        Ok(SavedStage::Window(None))
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<SavedStage, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<SavedStage, A::Error> {
        use serde::de::Error;
        let saved = match map.next_key::<String>()?.as_deref() {
            Some("slices") => SavedStage::Window(Some(WindowState {
                slices: map.next_value()?,
            })),
            Some("open") => SavedStage::Sessions(SessionState {
                open: map.next_value()?,
            }),
            Some(other) => return Err(A::Error::unknown_field(other, &["slices", "open"])),
            None => return Err(A::Error::missing_field("slices")),
        };
        Ok(saved)
    }
}

/// The operation as a checkpointed stage over slices of blocks being parsed: each slice's
/// blocks gathered (their records counted in the run's report), then the operation.
pub(super) struct BlockStage {
    pub(super) operation: OperationStage,
    pub(super) report: InputReport,
    pub(super) progress: ProgressBar,
    /// Where each slice's metrics go (`--metrics`, `--ui`; nowhere without them), once the run
    /// has started.
    pub(super) metrics: Option<SliceObserver>,
    /// How far behind the last slice's results came, for the progress line.
    pub(super) behind: Behind,
}

impl CheckpointStage<PendingBlock> for BlockStage {
    type State = SavedStage;

    fn describe(&self) -> String {
        self.operation.describe()
    }

    fn process(&mut self, slice: u64, rdd: Rdd<PendingBlock>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        async move {
            let cut_at = tokio::time::Instant::now();
            let computed = gather(self.operation.operation.clone(), rdd).await?;
            let (records, rejected, bytes) = counted(&computed.outcomes);
            for outcome in &computed.outcomes {
                self.report.add(
                    outcome.records,
                    outcome.rejected,
                    outcome.errors.clone(),
                    outcome.failure.clone(),
                );
                self.progress.inc(outcome.records + outcome.rejected);
                // A bad record under --on-error fail: the slice is not written, the run stops.
                if let Some(failure) = &outcome.failure {
                    return Err(failure.clone());
                }
            }
            let top = match &self.metrics {
                Some(metrics) => {
                    metrics
                        .page()
                        .top_values(&self.operation.operation, &computed.partial)
                        .await
                }
                None => Vec::new(),
            };
            let lines = self.operation.process(slice, computed).await?;
            if let Some(metrics) = &mut self.metrics {
                let facts = SliceFacts {
                    records,
                    rejected,
                    bytes,
                    waiting: 0,
                    state_keys: self.operation.state_keys(),
                };
                // Metrics that cannot be written stop the run, as results would.
                let behind = metrics
                    .observe((slice, cut_at), facts, top)
                    .map_err(|error| zpark::Error::Sink {
                        sink: "--metrics".into(),
                        source: Arc::new(std::io::Error::other(error.to_string())),
                    })?;
                self.behind.set(behind);
            }
            Ok(lines)
        }
        .boxed()
    }

    fn finish(&mut self) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        self.operation.finish_lines().boxed()
    }

    fn save(&self) -> BoxFuture<'_, zpark::Result<Self::State>> {
        self.operation.save().boxed()
    }

    fn restore(&mut self, engine: &Engine, state: Self::State) {
        self.operation.restore(engine, state);
    }
}
