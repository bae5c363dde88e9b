//! `--metrics FILE|-`: one JSON line per slice, as the slice's results are written: what came
//! in, how long the slice waited and took, how many slices were waiting, how large the state
//! is. The fields are documented in the README (`zpark run`, METRICS).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use tokio::time::Instant;

use super::blocks::BlockOutcome;

/// One slice's line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct SliceMetrics {
    /// The slice's number, from 1 (continuing after a resumed checkpoint).
    pub slice: u64,
    /// When the slice ended, in seconds since the run started.
    pub end: f64,
    /// Records in the slice, and records rejected (`--on-error skip`).
    pub records: u64,
    pub rejected: u64,
    /// Bytes of input in the slice (its lines, with their endings).
    pub bytes: u64,
    /// From the slice's end to the start of its processing (Spark's scheduling delay), and
    /// from that start to its results written, in milliseconds.
    pub scheduling_delay_ms: f64,
    pub processing_ms: f64,
    /// Slices cut but not yet written when this one was written (this one excluded).
    pub waiting: u64,
    /// Keys the state holds after the slice: a window's keys, open sessions; none without.
    pub state_keys: Option<u64>,
}

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

#[cfg(feature = "ui")]
impl SliceMetrics {
    /// The slice as the live page draws it, with its top values.
    pub(super) fn for_page(&self, top: Vec<(String, u64)>) -> zpark::ui::UiEvent {
        zpark::ui::UiEvent {
            slice: self.slice,
            end: self.end,
            records: self.records,
            processing_ms: self.processing_ms,
            scheduling_delay_ms: self.scheduling_delay_ms,
            top,
        }
    }
}
