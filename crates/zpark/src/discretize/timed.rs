//! The time-based slicers: `discretize`, `discretize_keep_time`, `discretize_within`.
//!
//! All three share [`TimeSlicer`]: on first poll it starts a tokio task that reads the input,
//! puts each element in the slice open at its arrival, closes slices on tokio's clock and sends
//! them through a bounded channel. Dropping the stream aborts the task.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::future::FutureExt;
use futures::stream::{FusedStream, Stream, StreamExt};
use pin_project_lite::pin_project;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use super::parallelize::slice;
use super::SLICES_IN_FLIGHT;
use crate::engine::Engine;
use crate::error::Error;
use crate::rdd::{Data, Rdd};
use crate::time::SliceTime;

/// When a slice closes.
#[derive(Debug, Clone, Copy)]
enum Close {
    /// At the end of each interval, intervals aligned to the start.
    Every(Duration),
    /// At `n` elements or `dur` after the slice opened.
    Within(usize, Duration),
}

impl Close {
    fn interval(self) -> Duration {
        match self {
            Close::Every(dur) | Close::Within(_, dur) => dur,
        }
    }

    fn limit(self) -> Option<usize> {
        match self {
            Close::Every(_) => None,
            Close::Within(n, _) => Some(n),
        }
    }
}

type Message<T> = (SliceTime, Vec<T>);

/// How a slice's elements become its `Rdd`: partitions of many small elements
/// ([`slice`]), or one partition per element for blocks of lines ([`one_partition_each`]).
type MakeSlice<T> = fn(&Engine, Vec<T>) -> Rdd<T>;

/// A slice whose every element is a partition of its own: each is a block of many lines.
pub(super) fn one_partition_each<T: Data>(engine: &Engine, elements: Vec<T>) -> Rdd<T> {
    let partitions = elements.len().max(1);
    engine.parallelize(elements, partitions)
}

/// The shared state machine of the time-based slicers.
enum TimeSlicer<S: Stream> {
    /// Not polled yet: the clock has not started.
    Idle { input: S, close: Close },
    /// The slicing task runs; finished slices arrive on `slices`.
    Running {
        slices: mpsc::Receiver<Message<S::Item>>,
        task: AbortOnDrop,
    },
    /// Every slice has been handed over.
    Done,
}

/// Aborts the slicing task when the slice stream is dropped: no task outlives its stream.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<S> TimeSlicer<S>
where
    S: Stream + Send + 'static,
    S::Item: Data,
{
    fn poll_slice(
        &mut self,
        engine: &Engine,
        cx: &mut Context<'_>,
        make: MakeSlice<S::Item>,
    ) -> Poll<Option<(SliceTime, Rdd<S::Item>)>> {
        loop {
            match self {
                TimeSlicer::Idle { .. } => {
                    if let Err(error) = self.start() {
                        *self = TimeSlicer::Done;
                        return Poll::Ready(Some((SliceTime::ZERO, engine.failed(error))));
                    }
                }
                TimeSlicer::Running { slices, task } => {
                    if let Some((time, elements)) = ready!(slices.poll_recv(cx)) {
                        return Poll::Ready(Some((time, make(engine, elements))));
                    }
                    // The task has sent its last slice, or died: a panic in the source must
                    // not look like a normal end.
                    let outcome = ready!(Pin::new(&mut task.0).poll(cx));
                    *self = TimeSlicer::Done;
                    if let Err(join_error) = outcome {
                        let error = Error::ClosurePanicked {
                            operation: "the input stream of a time-based slicer",
                            message: join_error.to_string(),
                        };
                        return Poll::Ready(Some((SliceTime::ZERO, engine.failed(error))));
                    }
                }
                TimeSlicer::Done => return Poll::Ready(None),
            }
        }
    }

    /// Starts the clock and the slicing task.
    fn start(&mut self) -> Result<(), Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Configuration(
                "time-based slicing (discretize, discretize_keep_time, discretize_within) reads \
                 tokio's clock: poll the stream inside a tokio runtime with the time driver enabled"
                    .to_string(),
            )
        })?;
        let TimeSlicer::Idle { input, close } = std::mem::replace(self, TimeSlicer::Done) else {
            return Ok(());
        };
        let (sender, slices) = mpsc::channel(SLICES_IN_FLIGHT);
        let task = AbortOnDrop(runtime.spawn(slice_by_time(input, close, sender)));
        *self = TimeSlicer::Running { slices, task };
        Ok(())
    }
}

enum Event<T> {
    Deadline,
    Element(Option<T>),
}

/// How many already-waiting elements the slicer reads after closing a slice before it looks at
/// the clock again.
const DRAIN_AFTER_CLOSE: usize = 4096;

/// Reads `input` and sends a slice each time one closes, until the input ends (then the last,
/// partial slice is sent) or the receiver is dropped.
///
/// When the consumer stays slower than the clock for longer than [`SLICES_IN_FLIGHT`] slices,
/// `send` waits (back-pressure: the input is not read meanwhile) and the slicer falls behind
/// the clock. It then catches up one interval at a time, and after each slice it closes it
/// first reads what the input already has waiting (up to [`DRAIN_AFTER_CLOSE`] elements). So
/// the input is always read, nothing is lost, and the stream ends when the input ends; only
/// the elements that waited during the back-pressure land in the interval where they were read.
async fn slice_by_time<S: Stream>(input: S, close: Close, slices: mpsc::Sender<Message<S::Item>>) {
    let start = Instant::now();
    let interval = close.interval();
    let mut input = std::pin::pin!(input);
    let deadline = sleep_until(start + interval);
    let mut deadline = std::pin::pin!(deadline);
    let mut buffer = Vec::new();
    let mut drain = 0;
    loop {
        let waiting = if drain > 0 { input.next().now_or_never() } else { None };
        let event = match waiting {
            Some(element) => {
                drain -= 1;
                Event::Element(element)
            }
            None => {
                drain = 0;
                // The deadline first: an element that arrives at the very instant a slice ends
                // belongs to the next slice (slice k covers [t0 + (k-1)d, t0 + kd)).
                tokio::select! {
                    biased;
                    () = &mut deadline => Event::Deadline,
                    element = input.next() => Event::Element(element),
                }
            }
        };
        let closed_at = match event {
            Event::Deadline => deadline.deadline(),
            Event::Element(Some(element)) => {
                buffer.push(element);
                // An input that is always ready must not keep the clock (and the consumer, on
                // a one-thread runtime) from being looked at.
                tokio::task::consume_budget().await;
                match close.limit() {
                    Some(limit) if buffer.len() >= limit => Instant::now(),
                    _ => continue,
                }
            }
            Event::Element(None) => {
                let end = match close {
                    Close::Every(_) => deadline.deadline(),
                    Close::Within(..) => Instant::now(),
                };
                let _ = slices
                    .send((SliceTime::with_interval(end - start, interval), buffer))
                    .await;
                return;
            }
        };
        let full = std::mem::take(&mut buffer);
        if slices
            .send((SliceTime::with_interval(closed_at - start, interval), full))
            .await
            .is_err()
        {
            return; // Nobody listens any more.
        }
        deadline.as_mut().reset(closed_at + interval);
        drain = DRAIN_AFTER_CLOSE;
    }
}

#[track_caller]
fn check_interval(operation: &str, dur: Duration) {
    assert!(
        !dur.is_zero(),
        "{operation}: the slice interval must be longer than zero (0 given); use a duration such as 100 ms"
    );
}

macro_rules! time_slice_stream {
    ($(#[$doc:meta])* $name:ident, $item:ty, $make:expr, |$time:ident, $rdd:ident| $map:expr) => {
        pin_project! {
            $(#[$doc])*
            #[must_use = "streams do nothing unless polled"]
            pub struct $name<S: Stream> {
                slicer: TimeSlicer<S>,
                engine: Engine,
            }
        }

        impl<S> Stream for $name<S>
        where
            S: Stream + Send + 'static,
            S::Item: Data,
        {
            type Item = $item;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                let this = self.project();
                this.slicer
                    .poll_slice(this.engine, cx, $make)
                    .map(|next| next.map(|($time, $rdd)| $map))
            }
        }

        impl<S> FusedStream for $name<S>
        where
            S: Stream + Send + 'static,
            S::Item: Data,
        {
            fn is_terminated(&self) -> bool {
                matches!(self.slicer, TimeSlicer::Done)
            }
        }

        impl<S: Stream> std::fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let state = match self.slicer {
                    TimeSlicer::Idle { .. } => "idle",
                    TimeSlicer::Running { .. } => "running",
                    TimeSlicer::Done => "done",
                };
                f.debug_struct(stringify!($name)).field("state", &state).finish()
            }
        }
    };
}

time_slice_stream!(
    /// One slice per interval. Made by [`discretize`](super::DiscretizeExt::discretize).
    Discretize, Rdd<S::Item>, slice, |_time, rdd| rdd
);
time_slice_stream!(
    /// One slice per interval, with its time. Made by
    /// [`discretize_keep_time`](super::DiscretizeExt::discretize_keep_time).
    DiscretizeKeepTime, (SliceTime, Rdd<S::Item>), slice, |time, rdd| (time, rdd)
);
time_slice_stream!(
    /// Slices closed by size or by time. Made by
    /// [`discretize_within`](super::DiscretizeExt::discretize_within).
    DiscretizeWithin, Rdd<S::Item>, slice, |_time, rdd| rdd
);
time_slice_stream!(
    /// One slice of blocks of lines per interval, with its time, each block a partition. Made
    /// by [`discretize_lines`](super::LineBlockExt::discretize_lines).
    DiscretizeLines, (SliceTime, Rdd<S::Item>), one_partition_each, |time, rdd| (time, rdd)
);

impl<S: Stream> DiscretizeLines<S> {
    #[track_caller]
    pub(super) fn new(input: S, engine: Engine, dur: Duration) -> Self {
        check_interval("discretize_lines", dur);
        DiscretizeLines {
            slicer: TimeSlicer::Idle {
                input,
                close: Close::Every(dur),
            },
            engine,
        }
    }
}

impl<S: Stream> Discretize<S> {
    #[track_caller]
    pub(super) fn new(input: S, engine: Engine, dur: Duration) -> Self {
        check_interval("discretize", dur);
        Discretize {
            slicer: TimeSlicer::Idle {
                input,
                close: Close::Every(dur),
            },
            engine,
        }
    }
}

impl<S: Stream> DiscretizeKeepTime<S> {
    #[track_caller]
    pub(super) fn new(input: S, engine: Engine, dur: Duration) -> Self {
        check_interval("discretize_keep_time", dur);
        DiscretizeKeepTime {
            slicer: TimeSlicer::Idle {
                input,
                close: Close::Every(dur),
            },
            engine,
        }
    }
}

impl<S: Stream> DiscretizeWithin<S> {
    #[track_caller]
    pub(super) fn new(input: S, engine: Engine, n: usize, dur: Duration) -> Self {
        assert!(
            n > 0,
            "discretize_within: a slice needs room for at least 1 element (n = 0 given); use n >= 1"
        );
        check_interval("discretize_within", dur);
        DiscretizeWithin {
            slicer: TimeSlicer::Idle {
                input,
                close: Close::Within(n, dur),
            },
            engine,
        }
    }
}
