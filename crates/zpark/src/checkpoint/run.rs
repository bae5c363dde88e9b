//! The checkpointed run: slices cut from a positioned input, processed by a stage, written by a
//! sink, and committed one after the other.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{BoxStream, Peekable, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::committer::Committer;
use super::store::{shape, Checkpoint, DirLock, Finished, Shape, SourcePosition};
use crate::discretize::DiscretizeExt;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::rdd::{Data, Rdd};
use crate::sink::SliceSink;
use crate::source::Positioned;

/// What a checkpointed pipeline does with each slice: the operators after the slicer, with
/// the state they carry from slice to slice (window buffers, keyed state) in a serializable
/// form.
///
/// A stage must be deterministic: the same slice after the same state gives the same output.
/// That is what makes a resumed run write, slice by slice, what an uninterrupted run writes.
///
/// # Examples
///
/// ```
/// use futures::future::{BoxFuture, FutureExt};
/// use zpark::checkpoint::CheckpointStage;
/// use zpark::prelude::*;
///
/// /// The number of lines so far.
/// struct RunningCount(u64);
///
/// impl CheckpointStage<String> for RunningCount {
///     type State = u64;
///     fn describe(&self) -> String { "running count".into() }
///     fn process(&mut self, _slice: u64, rdd: Rdd<String>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
///         async move {
///             self.0 += rdd.count().await?;
///             Ok(vec![self.0.to_string()])
///         }
///         .boxed()
///     }
///     fn save(&self) -> BoxFuture<'_, zpark::Result<u64>> { futures::future::ready(Ok(self.0)).boxed() }
///     fn restore(&mut self, _engine: &Engine, state: u64) { self.0 = state; }
/// }
/// # let mut stage = RunningCount(0);
/// # assert_eq!(stage.describe(), "running count");
/// ```
pub trait CheckpointStage<T>: Send {
    /// The state saved at every slice boundary.
    type State: Serialize + DeserializeOwned + Send + 'static;

    /// The operators and their parameters: a checkpoint written by a stage that describes
    /// itself otherwise is refused.
    fn describe(&self) -> String;

    /// Computes slice `slice` (numbered from 1) and returns its output lines.
    fn process(&mut self, slice: u64, rdd: Rdd<T>) -> BoxFuture<'_, Result<Vec<String>>>;

    /// The output of the end of the input, after its last slice: the windows that still hold
    /// one of its slices ([`SliceWindow::finish`](crate::window::SliceWindow::finish)). The
    /// run commits it as one more slice with no elements, unless it is empty; the state saved
    /// with it is the one after this call. None by default.
    fn finish(&mut self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(futures::future::ready(Ok(Vec::new())))
    }

    /// The state after the last processed slice.
    fn save(&self) -> BoxFuture<'_, Result<Self::State>>;

    /// Puts back a saved state (before the first slice of a resumed run).
    fn restore(&mut self, engine: &Engine, state: Self::State);
}

/// How a checkpointed pipeline cuts its input.
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::Slicing;
/// assert_eq!(Slicing::Count(1000).to_string(), "count 1000");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slicing {
    /// Slices of `n` elements ([`parallelize`](DiscretizeExt::parallelize)): a resumed run cuts
    /// exactly the slices an uninterrupted run cuts.
    Count(usize),
    /// Slices of time on the clock ([`discretize`](DiscretizeExt::discretize)): a resumed run
    /// continues after the last committed slice, but where later slices end depends on when
    /// elements arrive, as in any run on the clock.
    Every(Duration),
}

impl std::fmt::Display for Slicing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Slicing::Count(n) => write!(f, "count {n}"),
            Slicing::Every(d) => write!(f, "every {d:?}"),
        }
    }
}

/// A slice cut by the caller, for [`Run::run_slices`]: its dataset, the number of input
/// elements it holds (lines, records) and where the input stands after it (`None` for an
/// empty slice: where the slice before it ended).
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::{CutSlice, SourcePosition};
/// let engine = zpark::Engine::local(1);
/// let slice = CutSlice { rdd: engine.parallelize(vec!["a", "b"], 1), elements: 2, end: Some(SourcePosition::at(4, 2)) };
/// assert_eq!(slice.elements, 2);
/// ```
#[derive(Debug, Clone)]
pub struct CutSlice<T> {
    /// The slice's elements, as the stage takes them.
    pub rdd: Rdd<T>,
    /// How many input elements the slice holds.
    pub elements: u64,
    /// Where the input stands after the slice; `None` when it is empty.
    pub end: Option<SourcePosition>,
}

/// Whether the input can be read again from a position after a restart.
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::Replay;
/// assert!(Replay::FromPosition.is_replayable());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// A file ([`lines_from`](crate::source::lines_from), [`follow_from`](crate::source::follow_from)):
    /// exactly-once from the source.
    FromPosition,
    /// Standard input, a socket: what was read before a crash is gone; at-least-once from the
    /// source.
    No,
}

impl Replay {
    /// True for [`Replay::FromPosition`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!zpark::checkpoint::Replay::No.is_replayable());
    /// ```
    pub fn is_replayable(self) -> bool {
        self == Replay::FromPosition
    }
}

/// A pipeline that records a checkpoint at every slice boundary: the builder. See the
/// [module docs](super) for the guarantees and a whole example.
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::{Pipeline, Replay, Slicing};
/// let pipeline = Pipeline::new(&zpark::Engine::local(1), Slicing::Count(10), "numbers.txt", Replay::FromPosition)
///     .checkpoint(std::env::temp_dir().join("zpark-doc-pipeline"));
/// # drop(pipeline);
/// ```
#[derive(Debug, Clone)]
pub struct Pipeline {
    engine: Engine,
    slicing: Slicing,
    input: String,
    replay: Replay,
    dir: Option<PathBuf>,
    reset: bool,
    extra: Shape,
}

impl Pipeline {
    /// A pipeline over `input` (its name: a path, `standard input`), cut by `slicing`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::{Pipeline, Replay, Slicing};
    /// let p = Pipeline::new(&zpark::Engine::local(1), Slicing::Count(5), "-", Replay::No);
    /// # drop(p);
    /// ```
    pub fn new(engine: &Engine, slicing: Slicing, input: &str, replay: Replay) -> Pipeline {
        Pipeline {
            engine: engine.clone(),
            slicing,
            input: input.to_string(),
            replay,
            dir: None,
            reset: false,
            extra: Shape::new(),
        }
    }

    /// Records a checkpoint in `dir` after every slice, and resumes from the one there.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::{Pipeline, Replay, Slicing};
    /// let p = Pipeline::new(&zpark::Engine::local(1), Slicing::Count(5), "a.txt", Replay::FromPosition)
    ///     .checkpoint("/tmp/zpark-checkpoint");
    /// # drop(p);
    /// ```
    pub fn checkpoint(mut self, dir: impl Into<PathBuf>) -> Pipeline {
        self.dir = Some(dir.into());
        self
    }

    /// Forgets the checkpoint in the directory and starts from the beginning.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::{Pipeline, Replay, Slicing};
    /// let p = Pipeline::new(&zpark::Engine::local(1), Slicing::Count(5), "a.txt", Replay::FromPosition)
    ///     .checkpoint("/tmp/zpark-checkpoint")
    ///     .reset_checkpoint();
    /// # drop(p);
    /// ```
    pub fn reset_checkpoint(mut self) -> Pipeline {
        self.reset = true;
        self
    }

    /// Adds a part to the pipeline's shape (a sink, an output format): a checkpoint written
    /// with another value is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::{Pipeline, Replay, Slicing};
    /// let p = Pipeline::new(&zpark::Engine::local(1), Slicing::Count(5), "a.txt", Replay::FromPosition)
    ///     .describe("output", "json");
    /// # drop(p);
    /// ```
    pub fn describe(mut self, part: &str, value: &str) -> Pipeline {
        self.extra.insert(part.to_string(), value.to_string());
        self
    }

    /// Opens the checkpoint (if any), checks that it was written by this pipeline, and puts
    /// the stage's saved state back. The [`Run`] tells where to start reading the input.
    ///
    /// # Errors
    ///
    /// [`Error::Checkpoint`](crate::Error::Checkpoint) when the checkpoint is corrupt, of
    /// another version, or of another pipeline shape (the message says what differs).
    pub fn start<T, St: CheckpointStage<T>>(self, stage: &mut St) -> Result<Run> {
        let Some(dir) = &self.dir else {
            return Ok(Run {
                engine: self.engine,
                slicing: self.slicing,
                checkpoint: None,
                warning: None,
                on_commit: None,
                stop: None,
                _lock: None,
            });
        };
        // One run per directory, from before a reset to the end of the run.
        let lock = DirLock::acquire(dir)?;
        if self.reset {
            Checkpoint::reset(dir)?;
        }
        let mut parts = shape([
            ("input", self.input.clone()),
            ("slicing", self.slicing.to_string()),
            ("stage", stage.describe()),
        ]);
        parts.extend(self.extra.clone());
        let checkpoint = Checkpoint::open(dir, parts)?;
        if let Some(state) = checkpoint.state::<St::State>()? {
            stage.restore(&self.engine, state);
        }
        let warning = (!self.replay.is_replayable()).then(|| {
            format!(
                "{} cannot be replayed: with a checkpoint, resuming is at-least-once from this source (what it sent before a restart is not read again, what it sends again is counted again)",
                self.input
            )
        });
        Ok(Run {
            engine: self.engine,
            slicing: self.slicing,
            checkpoint: Some(checkpoint),
            warning,
            on_commit: None,
            stop: None,
            _lock: Some(lock),
        })
    }
}

/// A started checkpointed pipeline: read the input from [`position`](Run::position), then
/// [`run`](Run::run).
pub struct Run {
    engine: Engine,
    slicing: Slicing,
    checkpoint: Option<Checkpoint>,
    warning: Option<String>,
    on_commit: Option<Progress>,
    /// Set by the caller when it stopped the input before its end (a signal): see
    /// [`Run::stopped_by`].
    stop: Option<Arc<AtomicBool>>,
    /// The checkpoint directory's lock, held until the run is dropped.
    _lock: Option<DirLock>,
}

/// What [`Run::on_commit`] calls.
type Progress = Box<dyn FnMut(&RunSummary) + Send>;

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("engine", &self.engine.url())
            .field("slicing", &self.slicing)
            .field("checkpoint", &self.checkpoint)
            .finish_non_exhaustive()
    }
}

/// What a checkpointed run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The last slice committed before this run (0 for a fresh start).
    pub resumed_after: u64,
    /// The slices this run processed and committed.
    pub slices: u64,
    /// The elements of those slices.
    pub elements: u64,
    /// Where the input stood after the last of them.
    pub position: SourcePosition,
    /// Time spent writing the slices' output and committing checkpoints (saving the stage's
    /// state included), from the start of each slice's write to the end of its commit. The
    /// disk's part runs on the commit thread while the next slice is read, so this is what
    /// checkpointing takes, not what it adds to the time of the whole run.
    pub committing: Duration,
    /// How the run ended.
    pub end: RunEnd,
}

/// How a [`Run`] ended (DESIGN.md, "Finished means finished").
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::RunEnd;
/// assert_ne!(RunEnd::Finished, RunEnd::AlreadyFinished);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The input ended: the run wrote and committed what the end of input writes (the
    /// stage's [`finish`](CheckpointStage::finish)) and, with a checkpoint, recorded that it
    /// is finished.
    Finished,
    /// The caller stopped the input before its end ([`Run::stopped_by`]): with a checkpoint,
    /// nothing of the end of input was written or committed (the next run reads on); without
    /// one, the stage's `finish` output was written, as at the end of the input.
    Stopped,
    /// The checkpoint said the run had finished and the input held nothing new: nothing was
    /// written or committed.
    AlreadyFinished,
}

impl Run {
    /// Where to start reading the input: just after the last committed slice's last element.
    pub fn position(&self) -> SourcePosition {
        self.checkpoint
            .as_ref()
            .map_or_else(SourcePosition::default, Checkpoint::position)
    }

    /// The last committed slice (0 for a fresh start): open the sink with it.
    pub fn resumed_after(&self) -> u64 {
        self.checkpoint.as_ref().map_or(0, Checkpoint::slice)
    }

    /// Calls `progress` after every committed slice with the run so far (a progress line).
    pub fn on_commit(mut self, progress: impl FnMut(&RunSummary) + Send + 'static) -> Run {
        self.on_commit = Some(Box::new(progress));
        self
    }

    /// The warning to show once when the input cannot be replayed.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// Whether the checkpoint says the run had reached the end of its input and committed
    /// what the end of input writes: `None` for a run that had not (or a fresh start). Run
    /// again, a finished run writes nothing when its input has nothing new
    /// ([`RunEnd::AlreadyFinished`]); when the input has grown, a run whose end wrote windows
    /// is refused ([`Error::InputGrewAfterEnd`]) and one whose end wrote nothing reads on.
    pub fn finished(&self) -> Option<Finished> {
        self.checkpoint.as_ref().and_then(Checkpoint::finished)
    }

    /// Tells the run that when `stopped` is set as its slices end, the caller stopped the
    /// input before its end (Ctrl-C): the end of input is then not committed, so that the
    /// next run reads on instead of finding a finished run ([`RunEnd::Stopped`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{atomic::AtomicBool, Arc};
    /// use zpark::checkpoint::{Pipeline, Replay, Slicing};
    /// # struct Count;
    /// # impl zpark::checkpoint::CheckpointStage<u64> for Count {
    /// #     type State = ();
    /// #     fn describe(&self) -> String { "count".into() }
    /// #     fn process(&mut self, _: u64, _: zpark::Rdd<u64>) -> futures::future::BoxFuture<'_, zpark::Result<Vec<String>>> { Box::pin(async { Ok(vec![]) }) }
    /// #     fn save(&self) -> futures::future::BoxFuture<'_, zpark::Result<()>> { Box::pin(async { Ok(()) }) }
    /// #     fn restore(&mut self, _: &zpark::Engine, _: ()) {}
    /// # }
    /// let stopped = Arc::new(AtomicBool::new(false));
    /// let run = Pipeline::new(&zpark::Engine::local(1), Slicing::Count(5), "-", Replay::No)
    ///     .start(&mut Count)?
    ///     .stopped_by(Arc::clone(&stopped));
    /// # drop(run);
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn stopped_by(mut self, stopped: Arc<AtomicBool>) -> Run {
        self.stop = Some(stopped);
        self
    }

    /// Whether a checkpoint was found with a commit in it (slices, or the end of an empty
    /// input).
    fn resumed(&self) -> bool {
        self.resumed_after() > 0 || self.finished().is_some()
    }

    fn was_stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|stop| stop.load(Ordering::SeqCst))
    }

    /// Cuts `input` into slices, and for each: `stage` computes it, `sink` writes its output,
    /// and the checkpoint records the slice number, the input position after it, the stage's
    /// state and the sink's progress, atomically. Slice `k` is committed before slice `k + 1`
    /// is processed; the input of slice `k + 1` is read while slice `k` is processed and
    /// committed. At the end of the input, the stage's [`finish`](CheckpointStage::finish)
    /// output (the windows that still hold the last slices) is committed as one more slice,
    /// and the checkpoint records that the run is finished: run again on an input with
    /// nothing new, it writes nothing ([`RunEnd::AlreadyFinished`]); on a grown input, a run
    /// whose end wrote windows is refused ([`Error::InputGrewAfterEnd`]: those windows would
    /// be contradicted) and one whose end wrote nothing reads on. A resumed run that finds
    /// nothing new writes no empty slice (see [`RunEnd`]).
    ///
    /// The writes that wait on the disk (the sink's [`PendingWrite`](crate::sink::PendingWrite),
    /// then the checkpoint) run on a thread of the run's own, `zpark-commit`, in that order,
    /// while this task goes on reading and cutting the input. A slice therefore costs the
    /// longer of its reading and its processing plus commit, not their sum.
    ///
    /// # Errors
    ///
    /// The first slice that fails (in the stage, the sink or the checkpoint) stops the run with
    /// its error, named by slice number; the checkpoint stays at the slice before it, so a
    /// restart (after fixing the cause) resumes with that slice. Nothing is skipped silently.
    /// [`Error::InputGrewAfterEnd`] when a finished run's input has grown (above).
    pub async fn run<T, S, St, K>(self, input: S, stage: &mut St, sink: &mut K) -> Result<RunSummary>
    where
        T: Data,
        S: Stream<Item = Positioned<T>> + Send + 'static,
        St: CheckpointStage<T>,
        K: SliceSink,
    {
        let slices = self.slices(input).then(|rdd| async move {
            let elements = rdd.count_on_driver().await?;
            let end = rdd.last().await?.map(|last| last.end);
            Ok(CutSlice {
                rdd: rdd.map(|positioned| positioned.item),
                elements,
                end,
            })
        });
        self.run_slices(slices, stage, sink).await
    }

    /// [`run`](Run::run) for slices the caller cuts: each slice with its element count and
    /// the input position after it (a pipeline that reads blocks of lines and starts work on
    /// them as they come cuts its own). Each is processed, written and committed as `run` does;
    /// an `Err` item stops the run with its error, named by slice number.
    ///
    /// # Errors
    ///
    /// As [`run`](Run::run).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::future::{BoxFuture, FutureExt};
    /// use zpark::checkpoint::{CheckpointStage, CutSlice, Pipeline, Replay, Slicing, SourcePosition};
    /// use zpark::prelude::*;
    /// use zpark::sink::SliceLines;
    ///
    /// struct Count;
    /// impl CheckpointStage<u64> for Count {
    ///     type State = ();
    ///     fn describe(&self) -> String { "count".into() }
    ///     fn process(&mut self, _slice: u64, rdd: Rdd<u64>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
    ///         async move { Ok(vec![rdd.count().await?.to_string()]) }.boxed()
    ///     }
    ///     fn save(&self) -> BoxFuture<'_, zpark::Result<()>> { futures::future::ready(Ok(())).boxed() }
    ///     fn restore(&mut self, _engine: &Engine, _state: ()) {}
    /// }
    /// # futures::executor::block_on(async {
    /// let engine = Engine::local(1);
    /// let run = Pipeline::new(&engine, Slicing::Count(2), "numbers", Replay::No).start(&mut Count)?;
    /// let slices = futures::stream::iter([Ok(CutSlice {
    ///     rdd: engine.parallelize(vec![1u64, 2], 1),
    ///     elements: 2,
    ///     end: Some(SourcePosition::at(4, 2)),
    /// })]);
    /// let mut out = SliceLines::new(Vec::new(), "memory");
    /// let summary = run.run_slices(slices, &mut Count, &mut out).await?;
    /// assert_eq!((summary.slices, summary.elements, summary.position.line), (1, 2, 2));
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub async fn run_slices<T, S, St, K>(mut self, slices: S, stage: &mut St, sink: &mut K) -> Result<RunSummary>
    where
        T: Data,
        S: Stream<Item = Result<CutSlice<T>>> + Send,
        St: CheckpointStage<T>,
        K: SliceSink,
    {
        let mut slices = std::pin::pin!(slices.peekable());
        let mut summary = RunSummary {
            resumed_after: self.resumed_after(),
            slices: 0,
            elements: 0,
            position: self.position(),
            committing: Duration::ZERO,
            end: RunEnd::Finished,
        };
        let mut next = self.first_slice(slices.as_mut()).await;
        if let Some(finished) = self.finished() {
            match &next {
                None => {
                    summary.end = RunEnd::AlreadyFinished;
                    return Ok(summary);
                }
                Some(Ok(_)) if finished.end_output => return Err(self.grew_after_end()),
                Some(_) => {}
            }
        }
        let committer = Committer::start()?;
        while let Some(cut) = next {
            let number = summary.resumed_after + summary.slices + 1;
            let cut = cut.map_err(|error| error.in_slice(number))?;
            let checkpoint = self.checkpoint.take();
            let position = cut.end.unwrap_or_else(|| summary.position.clone());
            let elements = cut.elements;
            // Slice `number` is processed and committed while the next one is read.
            let this_slice = async {
                let lines = stage.process(number, cut.rdd).await?;
                let slice = Slice {
                    number,
                    position: position.clone(),
                    lines,
                };
                commit(&committer, slice, stage, sink, checkpoint, None).await
            };
            let (done, following) = futures::future::join(this_slice, slices.next()).await;
            let (checkpoint, committing) = done.map_err(|error| error.in_slice(number))?;
            self.checkpoint = checkpoint;
            next = following;
            summary.slices += 1;
            summary.elements += elements;
            summary.position = position;
            summary.committing += committing;
            self.committed(&summary);
        }
        if self.was_stopped() {
            summary.end = RunEnd::Stopped;
            if self.checkpoint.is_some() {
                // Not the end of the input: the next run reads on, and writes the end then.
                return Ok(summary);
            }
        }
        self.finish(&committer, stage, sink, &mut summary).await?;
        Ok(summary)
    }

    /// The first slice of the input; `None` when a resumed run finds nothing new: an empty
    /// slice that ends the input (the last, partial slice of time that a clock slicer closes
    /// at once on an input with nothing to read) is no slice then, so that running a
    /// finished run again, or one killed after its last slice, writes no empty slice after
    /// the committed ones. (A resumed run whose first slice is empty waits for the next one
    /// before it is processed: one slice's time, once.)
    async fn first_slice<T, S>(&self, mut slices: Pin<&mut Peekable<S>>) -> Option<Result<CutSlice<T>>>
    where
        S: Stream<Item = Result<CutSlice<T>>>,
    {
        let first = slices.next().await;
        let nothing_new = match &first {
            Some(Ok(cut)) if self.resumed() && cut.elements == 0 => slices.as_mut().peek().await.is_none(),
            _ => false,
        };
        if nothing_new {
            return None;
        }
        first
    }

    /// The refusal to read on after a finished run's end-of-input windows.
    fn grew_after_end(&self) -> Error {
        Error::InputGrewAfterEnd {
            dir: self
                .checkpoint
                .as_ref()
                .map_or_else(String::new, |checkpoint| checkpoint.dir().display().to_string()),
            slice: self.resumed_after(),
            position: self.position(),
        }
    }

    fn committed(&mut self, summary: &RunSummary) {
        if let Some(progress) = &mut self.on_commit {
            progress(summary);
        }
    }

    /// At the end of the input, commits the stage's [`finish`](CheckpointStage::finish) output
    /// as one more slice with no elements, at the position of the last one, and records that
    /// the run is finished (with no output, the record alone, on the last slice). A run
    /// resumed after a crash before this commit, with nothing new to read, makes it from the
    /// state saved, once.
    async fn finish<T, St, K>(
        &mut self,
        committer: &Committer,
        stage: &mut St,
        sink: &mut K,
        summary: &mut RunSummary,
    ) -> Result<()>
    where
        St: CheckpointStage<T>,
        K: SliceSink,
    {
        let number = summary.resumed_after + summary.slices + 1;
        let lines = stage.finish().await.map_err(|error| error.in_slice(number))?;
        let finished = Finished {
            end_output: !lines.is_empty(),
        };
        let checkpoint = self.checkpoint.take();
        if lines.is_empty() {
            // Nothing to write: the checkpoint records the end on the last slice.
            self.checkpoint = match checkpoint {
                Some(checkpoint) => Some(
                    mark_finished(
                        committer,
                        checkpoint,
                        stage,
                        (number - 1, summary.position.clone()),
                        finished,
                    )
                    .await
                    .map_err(|error| error.in_slice(number))?,
                ),
                None => None,
            };
            return Ok(());
        }
        let slice = Slice {
            number,
            position: summary.position.clone(),
            lines,
        };
        let (checkpoint, committing) = commit(committer, slice, stage, sink, checkpoint, Some(finished))
            .await
            .map_err(|error| error.in_slice(number))?;
        self.checkpoint = checkpoint;
        summary.slices += 1;
        summary.committing += committing;
        self.committed(summary);
        Ok(())
    }

    /// The slices of the input, each element still with its position: a slice's end position
    /// is that of its last element.
    fn slices<T: Data, S>(&self, input: S) -> BoxStream<'static, Rdd<Positioned<T>>>
    where
        S: Stream<Item = Positioned<T>> + Send + 'static,
    {
        match self.slicing {
            Slicing::Count(n) => input.parallelize(&self.engine, n).boxed(),
            Slicing::Every(d) => input.discretize(&self.engine, d).boxed(),
        }
    }
}

/// A computed slice, ready to be written and committed.
struct Slice {
    number: u64,
    /// Where the input stands after the slice.
    position: SourcePosition,
    lines: Vec<String>,
}

/// Writes `slice`'s output and then, when there is a checkpoint, records the slice in it (as
/// the end of the input with `finished`): the sink's pending write and the checkpoint's commit
/// run on `committer`, in that order (`stage` is `&mut` only so that this future is `Send` for
/// any `Send` stage). Gives the checkpoint back with the time the whole took (on this task
/// and on the commit thread).
async fn commit<T, St: CheckpointStage<T>, K: SliceSink>(
    committer: &Committer,
    slice: Slice,
    stage: &mut St,
    sink: &mut K,
    checkpoint: Option<Checkpoint>,
    finished: Option<Finished>,
) -> Result<(Option<Checkpoint>, Duration)> {
    let started = Instant::now();
    let write = sink.begin_slice(slice.number, &slice.lines)?;
    // The checkpoint with the state it records: both or neither.
    let mut record = match checkpoint {
        Some(checkpoint) => Some((checkpoint, stage.save().await?)),
        None => None,
    };
    let here = started.elapsed();
    let (checkpoint, there) = committer
        .run(move || {
            let started = Instant::now();
            write()?;
            match (&mut record, finished) {
                (Some((checkpoint, state)), None) => checkpoint.commit(slice.number, slice.position, state)?,
                (Some((checkpoint, state)), Some(finished)) => {
                    checkpoint.commit_end(slice.number, slice.position, state, finished)?
                }
                (None, _) => {}
            }
            Ok::<_, crate::Error>((record.map(|(checkpoint, _)| checkpoint), started.elapsed()))
        })
        .await??;
    Ok((checkpoint, here + there))
}

/// Records in `checkpoint` that the run reached the end of its input on slice `last` at
/// `position`, with the stage's state after its `finish` (on `committer`, after any write
/// still pending there).
async fn mark_finished<T, St: CheckpointStage<T>>(
    committer: &Committer,
    mut checkpoint: Checkpoint,
    stage: &mut St,
    (last, position): (u64, SourcePosition),
    finished: Finished,
) -> Result<Checkpoint> {
    let state = stage.save().await?;
    committer
        .run(move || {
            checkpoint.commit_end(last, position, &state, finished)?;
            Ok::<_, Error>(checkpoint)
        })
        .await?
}
