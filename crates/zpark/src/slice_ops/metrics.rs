//! Per-slice metrics of a stream made continuous again: what Spark Streaming's listener and
//! Structured Streaming's progress report, as a side stream ([`Continuize::metrics`]).
//!
//! [`Continuize::metrics`]: super::Continuize::metrics

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc;
use tokio::time::Instant;

use crate::discretize::LateCount;
use crate::source::InputReport;
use crate::time::SliceTime;

/// One slice's metrics, sent when its elements are ready.
///
/// # Examples
///
/// ```
/// let m = zpark::slice_ops::SliceMetrics { slice: 1, records: 3, ..Default::default() };
/// assert_eq!((m.records, m.state_keys), (3, None));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
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
    /// Elements that came too late for their slice since the previous slice's metrics (with
    /// [`Measured::late`]; 0 otherwise).
    pub late: u64,
    /// Records rejected by the source's error policy since the previous slice's metrics (with
    /// [`Measured::rejected`]; 0 otherwise).
    pub rejected: u64,
    /// The keys a window or session state holds (with [`Measured::state`]).
    pub state_keys: Option<u64>,
    /// An estimate of that state's bytes (with [`Measured::state`]).
    pub state_bytes: Option<u64>,
    /// On an engine with a cluster (Spark), the round trip of the last plan it ran.
    pub round_trip: Option<Duration>,
}

/// The size of an operator's state, kept up to date by the operator (the windows'
/// [`state_size`](crate::window::SlidingReduce::state_size), the sessions'): read by the
/// metrics. Cheap to clone; clones share the numbers.
///
/// # Examples
///
/// ```
/// let size = zpark::slice_ops::StateSize::default();
/// assert_eq!((size.keys(), size.bytes()), (0, 0));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StateSize(Arc<(AtomicU64, AtomicU64)>);

impl StateSize {
    /// The keys held.
    pub fn keys(&self) -> u64 {
        self.0 .0.load(Ordering::Relaxed)
    }

    /// The bytes held, estimated from the sizes of the keys and values (not what they own on
    /// the heap, such as a `String`'s text).
    pub fn bytes(&self) -> u64 {
        self.0 .1.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self, keys: u64, bytes: u64) {
        self.0 .0.store(keys, Ordering::Relaxed);
        self.0 .1.store(bytes, Ordering::Relaxed);
    }
}

/// What the metrics count beside the slices themselves.
///
/// # Examples
///
/// ```
/// let measured = zpark::slice_ops::Measured::default().state(zpark::slice_ops::StateSize::default());
/// # drop(measured);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Measured {
    late: Option<LateCount>,
    rejected: Option<InputReport>,
    state: Option<StateSize>,
}

impl Measured {
    /// Counts the elements that came too late for their slice (of
    /// [`discretize_by_event_time`](crate::discretize::DiscretizeExt::discretize_by_event_time)).
    pub fn late(mut self, late: LateCount) -> Measured {
        self.late = Some(late);
        self
    }

    /// Counts the records the source's error policy rejected (its
    /// [`InputReport`](crate::source::InputReport)).
    pub fn rejected(mut self, report: InputReport) -> Measured {
        self.rejected = Some(report);
        self
    }

    /// Reports the size of an operator's state.
    pub fn state(mut self, state: StateSize) -> Measured {
        self.state = Some(state);
        self
    }
}

/// The side stream of [`SliceMetrics`]: one item per slice, in the order the slices are done
/// (usually slice order). It ends when the stream it measures is dropped.
pub type Metrics = mpsc::UnboundedReceiver<SliceMetrics>;

/// What the metrics took of a slice when it arrived.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Arrival {
    scheduling_delay: Duration,
    late: u64,
    rejected: u64,
    state: Option<(u64, u64)>,
}

/// What a measured stream records with; none when nobody asked.
#[derive(Debug)]
pub(crate) struct Recorder {
    sink: mpsc::UnboundedSender<SliceMetrics>,
    measured: Measured,
    /// The late and rejected counts at the previous slice.
    seen: (u64, u64),
    /// The stream's clock: when its slice time 0 was, set by the first timed slice.
    zero: Option<Instant>,
}

impl Recorder {
    pub(crate) fn new(measured: Measured) -> (Recorder, Metrics) {
        let (sink, metrics) = mpsc::unbounded();
        let recorder = Recorder {
            sink,
            measured,
            seen: (0, 0),
            zero: None,
        };
        (recorder, metrics)
    }

    /// A slice arrived now with `time`: how late after its end on the stream's clock, and the
    /// counts as they stand now (the operator that made the slice has just made it: its state
    /// is this slice's).
    pub(crate) fn arrived(&mut self, time: Option<SliceTime>, now: Instant) -> Arrival {
        let scheduling_delay = match time {
            None => Duration::ZERO,
            Some(time) => {
                let zero = *self
                    .zero
                    .get_or_insert_with(|| now.checked_sub(time.as_duration()).unwrap_or(now));
                now.saturating_duration_since(zero + time.as_duration())
            }
        };
        Arrival {
            scheduling_delay,
            late: self.measured.late.as_ref().map_or(0, LateCount::get),
            rejected: self.measured.rejected.as_ref().map_or(0, InputReport::rejected),
            state: self.measured.state.as_ref().map(|state| (state.keys(), state.bytes())),
        }
    }

    /// Sends a slice's metrics, with what [`Measured`] counted up to its arrival since the
    /// previous slice's.
    pub(crate) fn done(&mut self, mut metrics: SliceMetrics, arrival: Arrival) {
        metrics.scheduling_delay = arrival.scheduling_delay;
        metrics.late = arrival.late.saturating_sub(self.seen.0);
        metrics.rejected = arrival.rejected.saturating_sub(self.seen.1);
        self.seen = (arrival.late, arrival.rejected);
        metrics.state_keys = arrival.state.map(|(keys, _)| keys);
        metrics.state_bytes = arrival.state.map(|(_, bytes)| bytes);
        // Nobody listens any more: nothing to do.
        let _ = self.sink.unbounded_send(metrics);
    }
}
