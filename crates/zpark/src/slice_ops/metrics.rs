//! Per-slice metrics of a stream made continuous again: what Spark Streaming's listener and
//! Structured Streaming's progress report, as a side stream ([`Continuize::metrics`]).
//!
//! [`Continuize::metrics`]: super::Continuize::metrics

use std::time::Duration;

use futures::channel::mpsc;
use tokio::time::Instant;

use crate::discretize::LateCount;
use crate::window::SliceTime;

/// One slice's metrics, sent when its elements are ready.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let m = zpark::slice_ops::SliceMetrics { slice: 1, time: None, records: 3, processing: Duration::ZERO,
///     scheduling_delay: Duration::ZERO, waiting: 0, late: 0 };
/// assert_eq!(m.records, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SliceMetrics {
    /// The slice's number, from 1.
    pub slice: u64,
    /// The slice's time, for timed slices.
    pub time: Option<SliceTime>,
    /// The elements of the slice's result.
    pub records: u64,
    /// From the slice's arrival (its computation starts then) to its elements ready.
    pub processing: Duration,
    /// For timed slices, how late the slice arrived after its end on the stream's clock (the
    /// clock set by the first slice: it arrives at its end): Spark's scheduling delay. Zero for
    /// untimed slices.
    pub scheduling_delay: Duration,
    /// Slices being computed when this one's elements were ready (this one excluded).
    pub waiting: usize,
    /// Elements that came too late for their slice since the previous slice's metrics (asked
    /// with [`Continuize::metrics_with_late`](super::Continuize::metrics_with_late); 0
    /// otherwise).
    pub late: u64,
}

/// The side stream of [`SliceMetrics`]: one item per slice, in the order the slices are done
/// (usually slice order). It ends when the stream it measures is dropped.
pub type Metrics = mpsc::UnboundedReceiver<SliceMetrics>;

/// What a measured stream records with; none when nobody asked.
#[derive(Debug)]
pub(crate) struct Recorder {
    sink: mpsc::UnboundedSender<SliceMetrics>,
    late: Option<(LateCount, u64)>,
    /// The stream's clock: when its slice time 0 was, set by the first timed slice.
    zero: Option<Instant>,
}

impl Recorder {
    pub(crate) fn new(late: Option<LateCount>) -> (Recorder, Metrics) {
        let (sink, metrics) = mpsc::unbounded();
        let recorder = Recorder {
            sink,
            late: late.map(|count| (count, 0)),
            zero: None,
        };
        (recorder, metrics)
    }

    /// A slice arrived now with `time`: how late after its end on the stream's clock.
    pub(crate) fn arrived(&mut self, time: Option<SliceTime>, now: Instant) -> Duration {
        let Some(time) = time else { return Duration::ZERO };
        let zero = *self
            .zero
            .get_or_insert_with(|| now.checked_sub(time.as_duration()).unwrap_or(now));
        now.saturating_duration_since(zero + time.as_duration())
    }

    /// Sends a slice's metrics, the late elements since the last added.
    pub(crate) fn done(&mut self, mut metrics: SliceMetrics) {
        if let Some((count, seen)) = &mut self.late {
            let now = count.get();
            metrics.late = now.saturating_sub(*seen);
            *seen = now;
        }
        // Nobody listens any more: nothing to do.
        let _ = self.sink.unbounded_send(metrics);
    }
}
