//! `--metrics FILE|-`: one JSON line per slice, as the slice's results are written: what came
//! in, how long the slice waited and took, how many slices were waiting, how large the state
//! is. The fields are documented in the README (`zpark run`, METRICS).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;

use super::blocks::BlockOutcome;
use super::context::{slice_end, Counters};
use super::live::LivePage;
use super::slice_metrics::SliceMetrics;
use super::RunArgs;

/// What the slice's blocks held: records, rejected records and bytes.
pub(super) fn counted(outcomes: &[BlockOutcome]) -> (u64, u64, u64) {
    outcomes.iter().fold((0, 0, 0), |(records, rejected, bytes), outcome| {
        (
            records + outcome.records,
            rejected + outcome.rejected,
            bytes + outcome.bytes,
        )
    })
}

/// The run's clock: when each slice ended, started and was written.
pub(super) struct SliceClock {
    started: Instant,
    /// When the previous slice's results were written: the next slice starts no earlier.
    previous: Option<Instant>,
}

impl SliceClock {
    pub(super) fn new(started: Instant) -> SliceClock {
        SliceClock {
            started,
            previous: None,
        }
    }

    /// Seconds since the start, as a slice's end.
    pub(super) fn since_start(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.started)
    }

    /// How far behind now is a slice that ended at `end` (on the run's clock).
    pub(super) fn behind(&self, end: Duration) -> Duration {
        Instant::now().saturating_duration_since(self.started + end)
    }

    /// The metrics of a slice that ended at `end` (on the run's clock), was cut at `cut` and
    /// whose results were written now; `facts` are its counts, state and the slices waiting.
    pub(super) fn measure(&mut self, (slice, end, cut): (u64, Duration, Instant), facts: SliceFacts) -> SliceMetrics {
        let now = Instant::now();
        let start = self.previous.map_or(cut, |previous| previous.max(cut));
        self.previous = Some(now);
        let ended = self.started + end;
        SliceMetrics {
            slice,
            end: end.as_secs_f64(),
            records: facts.records,
            rejected: facts.rejected,
            bytes: facts.bytes,
            scheduling_delay_ms: millis(start.saturating_duration_since(ended)),
            processing_ms: millis(now.saturating_duration_since(start)),
            waiting: facts.waiting,
            state_keys: facts.state_keys,
        }
    }
}

/// Where the lines go.
pub(super) struct MetricsWriter {
    out: Box<dyn Write + Send>,
    name: String,
}

impl MetricsWriter {
    /// Writes to the file at `path`, or to standard output for `-`.
    pub(super) fn open(path: &Path) -> anyhow::Result<MetricsWriter> {
        let (out, name): (Box<dyn Write + Send>, String) = match path.to_str() {
            Some("-") => (Box::new(std::io::stdout()), "standard output".into()),
            _ => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("--metrics: cannot create {}", path.display()))?;
                (Box::new(std::io::BufWriter::new(file)), path.display().to_string())
            }
        };
        Ok(MetricsWriter { out, name })
    }

    /// Writes a slice's line.
    pub(super) fn write(&mut self, metrics: &SliceMetrics) -> anyhow::Result<()> {
        let line = serde_json::to_string(metrics)?;
        writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .with_context(|| format!("--metrics: cannot write to {}", self.name))
    }
}

/// What watches a run's slices: the run's clock, the `--metrics` lines, the `--ui` page.
pub(super) struct SliceObserver {
    writer: Option<MetricsWriter>,
    page: LivePage,
    clock: SliceClock,
    /// The slice length of `--every` (a slice ends on the clock), none for `--count`.
    every: Option<Duration>,
    /// The slices committed before this run: this run's clock starts after them.
    resumed_after: u64,
    /// Slices cut so far by this run.
    cut: Arc<AtomicU64>,
}

impl SliceObserver {
    /// The observer of a run that started at `started`, after `resumed_after` committed
    /// slices, whose slicer counts the slices it cuts in `cut`: opens `--metrics` and serves
    /// `--ui` when asked.
    pub(super) async fn open(
        args: &RunArgs,
        counters: &Counters,
        (every, resumed_after): (Option<Duration>, u64),
        (started, cut): (Instant, Arc<AtomicU64>),
    ) -> anyhow::Result<SliceObserver> {
        Ok(SliceObserver {
            writer: args.metrics.as_deref().map(MetricsWriter::open).transpose()?,
            page: LivePage::start(args, counters).await?,
            clock: SliceClock::new(started),
            every,
            resumed_after,
            cut,
        })
    }

    /// The live page (its top values are taken before a slice's results are written).
    pub(super) fn page(&self) -> &LivePage {
        &self.page
    }

    /// Observes slice `slice`, cut at `cut_at`, whose results were just written: its metrics
    /// line and its place on the page. Returns how far behind the slice's end it came.
    pub(super) fn observe(
        &mut self,
        (slice, cut_at): (u64, Instant),
        mut facts: SliceFacts,
        top: Vec<(String, u64)>,
    ) -> anyhow::Result<Duration> {
        let this_run = slice.saturating_sub(self.resumed_after);
        let end = match self.every {
            Some(every) => slice_end(every, this_run),
            None => self.clock.since_start(cut_at),
        };
        facts.waiting = self.cut.load(Ordering::Relaxed).saturating_sub(this_run);
        let metrics = self.clock.measure((slice, end, cut_at), facts);
        self.page.show(&metrics, top);
        if let Some(writer) = &mut self.writer {
            writer.write(&metrics)?;
        }
        Ok(self.clock.behind(end))
    }
}

/// A slice's counts for its metrics line.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SliceFacts {
    pub records: u64,
    pub rejected: u64,
    pub bytes: u64,
    pub waiting: u64,
    pub state_keys: Option<u64>,
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
