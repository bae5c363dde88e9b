//! The windowed reductions in constant time per slide: each slice reduced on the engine, then
//! its result aggregated per key on the driver with two stacks (no inverse needed).

use std::collections::VecDeque;
use std::hash::Hash;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::clock::SlideClock;
use super::two_stacks::{Combine, KeyedAggregate};
use super::SliceTime;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::rdd::{Data, Rdd};
use crate::slice_ops::StateSize;

/// How an element is a `(key, value)` pair, and how a pair is an element again.
pub(super) type KeyedAs<T, K, V> = (fn(T) -> (K, V), fn(K, V) -> T);

/// A slice's reduced elements, collected to the driver (or why they could not be).
pub(super) type Collecting<T> = BoxFuture<'static, (SliceTime, Engine, Result<Vec<T>>)>;

/// Collects slice `time`'s elements to the driver, with its engine (what the windows and
/// sessions kept on the driver are made of).
pub(super) fn collecting<T: Data>(time: SliceTime, rdd: Rdd<T>) -> Collecting<T> {
    let engine = rdd.engine().clone();
    async move {
        let elements = rdd.collect().await;
        (time, engine, elements)
    }
    .boxed()
}

pin_project! {
    /// Windowed reductions whose every slide costs a constant number of calls of the
    /// reduction per key of the slices that enter and leave, whatever the window's length.
    /// Made by [`reduce_by_window`](super::WindowExt::reduce_by_window),
    /// [`count_by_window`](super::WindowExt::count_by_window),
    /// [`count_by_value_and_window`](super::WindowExt::count_by_value_and_window) and
    /// [`reduce_by_key_and_window`](super::PairWindowExt::reduce_by_key_and_window).
    ///
    /// Each slice is reduced on the engine (on Spark, as a built-in stage) and its result,
    /// one value per key, is collected to the driver, where each key's values in the window
    /// are kept in two stacks (Tangwongsan, Hirzel and Schneider, DEBS 2017): the function
    /// only has to be associative, not invertible, and combines a key's values oldest first.
    /// A key whose last value left the window is dropped. The windows are those of
    /// [`window_rdd`](super::WindowExt::window_rdd) (the windows at the end of input
    /// included), each an `Rdd` of its result; a slice that fails makes every window that
    /// holds it an `Err` naming its error.
    #[must_use = "streams do nothing unless polled"]
    pub struct SlidingReduce<S, T, K, V> {
        #[pin]
        input: S,
        windows: Windows<T, K, V>,
        collecting: Option<Collecting<T>>,
        // The window's size, for metrics.
        size: StateSize,
        // The engine of the slices, once one came: the windows at the end of input are its.
        engine: Option<Engine>,
        done: bool,
    }
}

/// The driver's side: the slide boundaries, each key's values in the window, and the windows
/// ready to hand out.
struct Windows<T, K, V> {
    clock: SlideClock,
    aggregate: KeyedAggregate<K, V>,
    /// Slices that failed, with their time: the windows holding them are errors.
    failures: VecDeque<(Duration, Error)>,
    split: fn(T) -> (K, V),
    join: fn(K, V) -> T,
    ready: VecDeque<(SliceTime, Rdd<T>)>,
}

impl<S, T, K, V> SlidingReduce<S, T, K, V>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
    K: Eq + Hash + Clone,
    V: Clone,
{
    /// Windows over `input`, a stream of slices already reduced per key; `split` makes each
    /// element a `(key, value)` pair and `join` makes it an element again.
    #[track_caller]
    pub(super) fn new(
        operation: &'static str,
        input: S,
        f: Combine<V>,
        (split, join): KeyedAs<T, K, V>,
        window: Duration,
        slide: Duration,
    ) -> Self {
        assert!(
            !window.is_zero(),
            "{operation}: the window must be longer than zero (0 given)"
        );
        assert!(
            !slide.is_zero(),
            "{operation}: the slide must be longer than zero (0 given)"
        );
        SlidingReduce {
            input,
            windows: Windows {
                clock: SlideClock::new(operation, window, slide),
                aggregate: KeyedAggregate::new(f),
                failures: VecDeque::new(),
                split,
                join,
                ready: VecDeque::new(),
            },
            collecting: None,
            size: StateSize::default(),
            engine: None,
            done: false,
        }
    }

    /// The size of the windows' state (keys, bytes estimated), kept up to date slice by slice:
    /// for [`Measured::state`](crate::slice_ops::Measured::state).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zpark::prelude::*;
    /// let engine = Engine::local(1);
    /// let windows = futures::stream::iter([(SliceTime::from_millis(500), engine.parallelize(vec![("a", 1)], 1))])
    ///     .reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(1), Duration::from_millis(500));
    /// assert_eq!(windows.state_size().keys(), 0); // nothing read yet
    /// ```
    pub fn state_size(&self) -> StateSize {
        self.size.clone()
    }
}

impl<T: Data, K: Eq + Hash + Clone, V: Clone> Windows<T, K, V> {
    /// Slice `time` was collected: the windows up to it are queued, the slice taken in
    /// before the first window that ends at or after its time (the windows before it end at
    /// boundaries the input skipped over, without it).
    fn slice_done(&mut self, time: SliceTime, engine: &Engine, outcome: Result<Vec<T>>) -> Result<()> {
        let ends = self.clock.advance(time)?;
        let (before, from_it) = ends.split_at(ends.partition_point(|end| *end < time.as_duration()));
        for end in before {
            self.queue(engine, *end);
        }
        self.add(time.as_duration(), outcome);
        for end in from_it {
            self.queue(engine, *end);
        }
        Ok(())
    }

    fn add(&mut self, at: Duration, outcome: Result<Vec<T>>) {
        match outcome {
            Ok(elements) => self.aggregate.push(at, elements.into_iter().map(self.split).collect()),
            Err(error) => self.failures.push_back((at, error)),
        }
    }

    /// Queues the window that ends at `end`, once the slices before it have left.
    fn queue(&mut self, engine: &Engine, end: Duration) {
        let start = end.saturating_sub(self.clock.window());
        self.aggregate.evict_through(start);
        while self.failures.front().is_some_and(|(t, _)| *t <= start) {
            self.failures.pop_front();
        }
        let rdd = match self.failures.front() {
            Some((_, error)) => engine.failed(error.clone()),
            None => {
                let elements: Vec<T> = self
                    .aggregate
                    .result()
                    .into_iter()
                    .map(|(k, v)| (self.join)(k, v))
                    .collect();
                let partitions = engine.slice_partitions(elements.len());
                engine.parallelize(elements, partitions)
            }
        };
        self.ready.push_back((SliceTime::new(end), rdd));
    }

    /// The end of input: the windows that still hold one of its slices.
    fn finish(&mut self, engine: &Engine) {
        for end in self.clock.finish() {
            self.queue(engine, end);
        }
        self.aggregate.clear();
        self.failures.clear();
    }
}

impl<S, T, K, V> Stream for SlidingReduce<S, T, K, V>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
    K: Eq + Hash + Clone,
    V: Clone,
{
    type Item = (SliceTime, Rdd<T>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(window) = this.windows.ready.pop_front() {
                return Poll::Ready(Some(window));
            }
            if let Some(collecting) = this.collecting.as_mut() {
                let (time, engine, outcome) = ready!(collecting.as_mut().poll(cx));
                *this.collecting = None;
                let done = this.windows.slice_done(time, &engine, outcome);
                let aggregate = &this.windows.aggregate;
                this.size.set(aggregate.key_count() as u64, aggregate.bytes() as u64);
                if let Err(error) = done {
                    // A window or slide that does not fit the slices: the first item, then nothing.
                    *this.done = true;
                    return Poll::Ready(Some((time, engine.failed(error))));
                }
                *this.engine = Some(engine);
                continue;
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.input.as_mut().poll_next(cx)) {
                None => {
                    *this.done = true;
                    if let Some(engine) = this.engine.take() {
                        this.windows.finish(&engine);
                    }
                }
                Some((time, rdd)) => *this.collecting = Some(collecting(time, rdd)),
            }
        }
    }
}

impl<S, T, K, V> FusedStream for SlidingReduce<S, T, K, V>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
    K: Eq + Hash + Clone,
    V: Clone,
{
    fn is_terminated(&self) -> bool {
        self.done && self.collecting.is_none() && self.windows.ready.is_empty()
    }
}

impl<S, T, K, V> std::fmt::Debug for SlidingReduce<S, T, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlidingReduce")
            .field("window", &self.windows.clock.window())
            .field("keys", &self.windows.aggregate.key_count())
            .finish_non_exhaustive()
    }
}
