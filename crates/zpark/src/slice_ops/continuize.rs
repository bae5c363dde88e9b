use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{Fuse, FusedStream, FuturesOrdered, Stream, StreamExt};
use pin_project_lite::pin_project;

use super::metrics::{Arrival, Measured, Metrics, Recorder, SliceMetrics};
use super::Slice;
use crate::discretize::LateCount;
use crate::error::Result;
use crate::time::SliceTime;

/// A slice being computed: its elements, and what the metrics took of it (when asked for).
type SliceResult<T> = BoxFuture<'static, (Result<Vec<T>>, Option<Measuring>)>;

/// What the metrics take of a slice being computed: nothing is read when nobody listens.
#[derive(Debug, Clone, Copy)]
struct Measuring {
    slice: u64,
    time: Option<SliceTime>,
    arrived: tokio::time::Instant,
    arrival: Arrival,
    /// Set when its elements are ready.
    ready: tokio::time::Instant,
    round_trip: Option<std::time::Duration>,
}

pin_project! {
    /// A stream of slices made continuous again: each slice's elements, slice after slice.
    /// Made by [`continuize`](super::SliceStreamExt::continuize) and
    /// [`continuize_buffered`](super::SliceStreamExt::continuize_buffered).
    ///
    /// Up to `in_flight` slices are computed at once; their elements still come out in slice
    /// order. A slice that fails gives one `Err` item (naming the slice number) in its place,
    /// and the slices after it still come.
    #[must_use = "streams do nothing unless polled"]
    pub struct Continuize<S: Stream>
    where
        S::Item: Slice,
    {
        #[pin]
        input: Fuse<S>,
        running: FuturesOrdered<SliceResult<<S::Item as Slice>::Elem>>,
        current: std::vec::IntoIter<<S::Item as Slice>::Elem>,
        next_index: u64,
        in_flight: usize,
        // With a listener: what records the slices' metrics.
        recorder: Option<Recorder>,
    }
}

impl<S: Stream> Continuize<S>
where
    S::Item: Slice,
{
    #[track_caller]
    pub(super) fn new(input: S, in_flight: usize) -> Self {
        assert!(
            in_flight > 0,
            "continuize_buffered: at least 1 slice must be computed at a time (0 given)"
        );
        Continuize {
            input: input.fuse(),
            running: FuturesOrdered::new(),
            current: Vec::new().into_iter(),
            next_index: 0,
            in_flight,
            recorder: None,
        }
    }

    /// The side stream of each slice's [`SliceMetrics`] (ask before polling): records, time
    /// to compute, delay after the slice's end, slices waiting. Nothing is measured when it is
    /// not asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let engine = Engine::local(2);
    /// let mut elements = futures::stream::iter(0..10u64).parallelize(&engine, 4).continuize();
    /// let metrics = elements.metrics();
    /// assert_eq!(elements.count().await, 10);
    /// let records: Vec<u64> = metrics.map(|m| m.records).collect().await;
    /// assert_eq!(records, vec![4, 4, 2]);
    /// # }
    /// ```
    pub fn metrics(&mut self) -> Metrics {
        self.metrics_with(Measured::default())
    }

    /// As [`metrics`](Continuize::metrics), each slice's metrics also counting what `measured`
    /// names: late elements, rejected records, the size of an operator's state.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// use zpark::slice_ops::Measured;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let engine = Engine::local(2);
    /// let ms = Duration::from_millis;
    /// let windows = zpark::source::naturals_every(ms(100)).take(20)
    ///     .map(|n| (n % 3, 1u64))
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .reduce_by_key_and_window(|a, b| a + b, ms(1000), ms(500));
    /// let state = windows.state_size();
    /// let mut sums = windows.continuize();
    /// let metrics = sums.metrics_with(Measured::default().state(state));
    /// let _ = sums.count().await;
    /// let keys: Vec<Option<u64>> = metrics.map(|m| m.state_keys).collect().await;
    /// assert_eq!(keys[0], Some(3)); // keys 0, 1 and 2 in the first window
    /// # }
    /// ```
    pub fn metrics_with(&mut self, measured: Measured) -> Metrics {
        let (recorder, metrics) = Recorder::new(measured);
        self.recorder = Some(recorder);
        metrics
    }

    /// As [`metrics`](Continuize::metrics), each slice's metrics also counting the elements
    /// that came too late for their slice since the previous one (`late` of
    /// [`discretize_by_event_time`](crate::discretize::DiscretizeExt::discretize_by_event_time)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let engine = Engine::local(1);
    /// let slices = futures::stream::iter([1u64, 12, 3, 25])
    ///     .discretize_by_event_time(&engine, |t| Duration::from_secs(*t), Duration::from_secs(10), Duration::ZERO);
    /// let late = slices.late_count();
    /// let mut elements = slices.continuize();
    /// let metrics = elements.metrics_with_late(late);
    /// let _ = elements.count().await;
    /// let late: u64 = metrics.map(|m| m.late).collect::<Vec<_>>().await.iter().sum();
    /// assert_eq!(late, 1); // 3 came after its slice [0, 10) closed
    /// # }
    /// ```
    pub fn metrics_with_late(&mut self, late: LateCount) -> Metrics {
        self.metrics_with(Measured::default().late(late))
    }
}

impl<S: Stream> Stream for Continuize<S>
where
    S::Item: Slice,
{
    type Item = Result<<S::Item as Slice>::Elem>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            // Elements of the slice being handed out come first.
            if let Some(element) = this.current.next() {
                return Poll::Ready(Some(Ok(element)));
            }
            // Start computing new slices while there is room.
            while this.running.len() < *this.in_flight {
                match this.input.as_mut().poll_next(cx) {
                    Poll::Ready(Some(slice)) => {
                        let index = *this.next_index;
                        *this.next_index += 1;
                        let measuring = this.recorder.as_mut().map(|recorder| {
                            let arrived = tokio::time::Instant::now();
                            Measuring {
                                slice: index + 1,
                                time: slice.time(),
                                arrived,
                                arrival: recorder.arrived(slice.time(), arrived),
                                ready: arrived,
                                round_trip: None,
                            }
                        });
                        let rdd = slice.rdd().clone();
                        let engine = measuring.is_some().then(|| rdd.engine().clone());
                        // `collect` runs on the engine's threads, step after step, while this
                        // stream's consumer goes on with the next slices.
                        let result = rdd.start_collect();
                        this.running.push_back(
                            async move {
                                let elements = result.await.map_err(|error| error.in_slice(index));
                                let measured = measuring.map(|mut measuring| {
                                    measuring.ready = tokio::time::Instant::now();
                                    measuring.round_trip = engine.as_ref().and_then(crate::Engine::last_round_trip);
                                    measuring
                                });
                                (elements, measured)
                            }
                            .boxed(),
                        );
                    }
                    Poll::Ready(None) | Poll::Pending => break,
                }
            }
            // The oldest slice, when it is ready.
            let finished = this.running.poll_next_unpin(cx);
            if let (Poll::Ready(Some((outcome, Some(measured)))), Some(recorder)) = (&finished, this.recorder.as_mut())
            {
                let metrics = SliceMetrics {
                    slice: measured.slice,
                    time: measured.time,
                    records: outcome.as_ref().map_or(0, |elements| elements.len() as u64),
                    processing: measured.ready.saturating_duration_since(measured.arrived),
                    waiting: this.running.len(),
                    round_trip: measured.round_trip,
                    ..SliceMetrics::default()
                };
                recorder.done(metrics, measured.arrival);
            }
            match finished.map(|next| next.map(|(outcome, _)| outcome)) {
                Poll::Ready(Some(Ok(elements))) => *this.current = elements.into_iter(),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) if this.input.is_terminated() => return Poll::Ready(None),
                // Nothing running and the input has not produced: its waker is registered.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let ready = self.current.len();
        match (self.input.is_terminated(), self.running.is_empty()) {
            (true, true) => (ready, Some(ready)),
            _ => (ready, None),
        }
    }
}

impl<S: Stream> FusedStream for Continuize<S>
where
    S::Item: Slice,
{
    fn is_terminated(&self) -> bool {
        self.input.is_terminated() && self.running.is_empty() && self.current.len() == 0
    }
}

impl<S: Stream> std::fmt::Debug for Continuize<S>
where
    S::Item: Slice,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Continuize")
            .field("running", &self.running.len())
            .field("next_index", &self.next_index)
            .field("in_flight", &self.in_flight)
            .finish()
    }
}
