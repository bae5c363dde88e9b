use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::channel::mpsc;
use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::parallelize::slice;
use crate::engine::Engine;
use crate::rdd::{Data, Rdd};
use crate::time::SliceTime;

/// The elements that came after their slice had closed, as a stream. Made by
/// [`DiscretizeByEventTime::late_elements`].
pub type LateElements<T> = mpsc::UnboundedReceiver<T>;

/// How many elements came after their slice had closed. Made by
/// [`DiscretizeByEventTime::late_count`].
///
/// # Examples
///
/// ```
/// let count = zpark::discretize::LateCount::default();
/// assert_eq!(count.get(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LateCount(Arc<AtomicU64>);

impl LateCount {
    /// The count so far.
    ///
    /// ```
    /// assert_eq!(zpark::discretize::LateCount::default().get(), 0);
    /// ```
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pin_project! {
    /// Slices by the time written in each element. Made by
    /// [`discretize_by_event_time`](super::DiscretizeExt::discretize_by_event_time).
    ///
    /// Slice k holds the elements whose time lies in `[k·d, (k+1)·d)` (times are offsets from
    /// an epoch of your choice, such as the Unix epoch) and its [`SliceTime`] is `(k+1)·d`. The
    /// watermark is the largest time seen minus the allowed lateness; a slice closes, and is
    /// emitted, once the watermark reaches its end, in time order, empty slices included from
    /// the first slice with data on. At the end of the input every open slice is emitted. An
    /// element whose slice had already closed is late: it is counted ([`late_count`]) and, if
    /// asked for, sent to the [`late_elements`] stream; it is never dropped in silence.
    ///
    /// [`late_count`]: DiscretizeByEventTime::late_count
    /// [`late_elements`]: DiscretizeByEventTime::late_elements
    #[must_use = "streams do nothing unless polled"]
    pub struct DiscretizeByEventTime<S: Stream, F> {
        #[pin]
        input: S,
        engine: Engine,
        time_of: F,
        slice: Duration,
        lateness: Duration,
        open: BTreeMap<u64, Vec<S::Item>>,
        next_index: Option<u64>,
        // Slices below this index are closed: the watermark has passed their end.
        closed: u64,
        max_seen: Option<Duration>,
        ready: VecDeque<(SliceTime, Rdd<S::Item>)>,
        late_count: LateCount,
        late_sink: Option<mpsc::UnboundedSender<S::Item>>,
        done: bool,
    }
}

impl<S: Stream, F> DiscretizeByEventTime<S, F>
where
    S::Item: Data,
    F: FnMut(&S::Item) -> Duration,
{
    #[track_caller]
    pub(super) fn new(input: S, engine: Engine, time_of: F, slice: Duration, lateness: Duration) -> Self {
        assert!(
            !slice.is_zero(),
            "discretize_by_event_time: the slice length must be longer than zero (0 given)"
        );
        DiscretizeByEventTime {
            input,
            engine,
            time_of,
            slice,
            lateness,
            open: BTreeMap::new(),
            next_index: None,
            closed: 0,
            max_seen: None,
            ready: VecDeque::new(),
            late_count: LateCount::default(),
            late_sink: None,
            done: false,
        }
    }

    /// The late elements, as a stream of their own (ask before polling the slices; a late
    /// element is counted whether or not anyone reads this stream).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// let engine = Engine::local(1);
    /// let times = [1u64, 12, 25, 3]; // seconds; 3 comes after its slice [0, 10) closed
    /// let mut slices = futures::stream::iter(times)
    ///     .discretize_by_event_time(&engine, |t| Duration::from_secs(*t), Duration::from_secs(10), Duration::from_secs(5));
    /// let late = slices.late_elements();
    /// let count = slices.late_count();
    /// let sizes: Vec<u64> = slices.then(|(_, rdd)| async move { rdd.count().await.unwrap() }).collect().await;
    /// assert_eq!(sizes, vec![1, 1, 1]);
    /// assert_eq!(late.collect::<Vec<_>>().await, vec![3]);
    /// assert_eq!(count.get(), 1);
    /// # });
    /// ```
    pub fn late_elements(&mut self) -> LateElements<S::Item> {
        let (sender, receiver) = mpsc::unbounded();
        self.late_sink = Some(sender);
        receiver
    }

    /// A handle on the number of late elements.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration; use zpark::prelude::*;
    /// let slices = futures::stream::iter([1u64])
    ///     .discretize_by_event_time(&Engine::local(1), |t| Duration::from_secs(*t), Duration::from_secs(1), Duration::ZERO);
    /// assert_eq!(slices.late_count().get(), 0);
    /// ```
    pub fn late_count(&self) -> LateCount {
        self.late_count.clone()
    }
}

impl<S: Stream, F> Stream for DiscretizeByEventTime<S, F>
where
    S::Item: Data,
    F: FnMut(&S::Item) -> Duration,
{
    type Item = (SliceTime, Rdd<S::Item>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        let length = this.slice.as_nanos();
        loop {
            if let Some(ready) = this.ready.pop_front() {
                return Poll::Ready(Some(ready));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            let closed_until = match ready!(this.input.as_mut().poll_next(cx)) {
                Some(element) => {
                    let time = (this.time_of)(&element);
                    let index = (time.as_nanos() / length) as u64;
                    if index < *this.closed {
                        // Its slice is gone: late, counted, and handed over if asked.
                        this.late_count.0.fetch_add(1, Ordering::Relaxed);
                        if let Some(sink) = this.late_sink.as_ref() {
                            let _ = sink.unbounded_send(element);
                        }
                        continue;
                    }
                    this.open.entry(index).or_default().push(element);
                    let max_seen = this.max_seen.map_or(time, |seen| seen.max(time));
                    *this.max_seen = Some(max_seen);
                    // Slices whose end is at or before the watermark are complete.
                    let watermark = (max_seen.saturating_sub(*this.lateness).as_nanos() / length) as u64;
                    (*this.closed).max(watermark)
                }
                None => {
                    *this.done = true;
                    *this.late_sink = None;
                    this.open
                        .last_key_value()
                        .map_or(*this.closed, |(last, _)| (last + 1).max(*this.closed))
                }
            };
            *this.closed = closed_until;
            let mut next = match (*this.next_index, this.open.first_key_value()) {
                (Some(next), _) => next,
                (None, Some((first, _))) => *first,
                (None, None) => continue,
            };
            let start = next;
            while next < closed_until {
                let elements = this.open.remove(&next).unwrap_or_default();
                let end = Duration::from_nanos(((u128::from(next) + 1) * length) as u64);
                this.ready
                    .push_back((SliceTime::with_interval(end, *this.slice), slice(this.engine, elements)));
                next += 1;
            }
            if this.next_index.is_some() || next > start {
                *this.next_index = Some(next);
            }
        }
    }
}

impl<S: Stream, F> FusedStream for DiscretizeByEventTime<S, F>
where
    S::Item: Data,
    F: FnMut(&S::Item) -> Duration,
{
    fn is_terminated(&self) -> bool {
        self.done && self.ready.is_empty()
    }
}

impl<S: Stream, F> std::fmt::Debug for DiscretizeByEventTime<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscretizeByEventTime")
            .field("slice", &self.slice)
            .field("lateness", &self.lateness)
            .field("open_slices", &self.open.len())
            .field("late", &self.late_count.get())
            .finish()
    }
}
