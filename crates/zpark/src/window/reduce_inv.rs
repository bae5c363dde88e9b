//! `reduce_by_key_and_window_inv`: each window computed from the previous one.

use std::collections::VecDeque;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::timeline::Timeline;
use super::SliceTime;
use crate::engine::Engine;
use crate::error::Result;
use crate::rdd::{Data, Rdd};

type KeepKey<K, V> = Arc<dyn Fn(&(K, V)) -> bool + Send + Sync>;

/// What one window needs, taken when its boundary is reached.
struct WindowJob<K, V> {
    end: Duration,
    engine: Engine,
    /// Every slice of the window: used when there is no previous window to start from.
    all: Vec<Rdd<(K, V)>>,
    /// The slices that entered since the previous window.
    entering: Vec<Rdd<(K, V)>>,
    /// The slices that left since the previous window.
    leaving: Vec<Rdd<(K, V)>>,
}

pin_project! {
    /// Windows of per-key reductions, each computed from the previous window by adding the
    /// slices that enter and removing, with the inverse function, the slices that leave. Made by
    /// [`reduce_by_key_and_window_inv`](super::PairWindowExt::reduce_by_key_and_window_inv).
    ///
    /// Its windows equal those of `reduce_by_key_and_window` (the windows at the end of input
    /// included), except that a key whose values
    /// all left the window stays with its "zero" value unless a filter
    /// ([`keep_keys`](ReduceByKeyAndWindowInv::keep_keys)) drops it. Each window's state is
    /// materialized (no lineage kept); when a window fails, it is an `Err` and the next window
    /// is computed from its slices again.
    #[must_use = "streams do nothing unless polled"]
    pub struct ReduceByKeyAndWindowInv<S, K, V, F, G> {
        #[pin]
        input: S,
        window: Duration,
        slide: Duration,
        f: Arc<F>,
        inverse: Arc<G>,
        keep: Option<KeepKey<K, V>>,
        timeline: Timeline<(K, V)>,
        jobs: VecDeque<WindowJob<K, V>>,
        previous: Option<Rdd<(K, V)>>,
        running: Option<BoxFuture<'static, (SliceTime, Engine, Result<Rdd<(K, V)>>)>>,
        // The engine of the slices, once one came: the windows at the end of input are its.
        engine: Option<Engine>,
        input_done: bool,
    }
}

impl<S, K, V, F, G> ReduceByKeyAndWindowInv<S, K, V, F, G>
where
    S: Stream<Item = (SliceTime, Rdd<(K, V)>)>,
    K: Data + Eq + Hash,
    V: Data,
    F: Fn(V, V) -> V + Send + Sync + 'static,
    G: Fn(V, V) -> V + Send + Sync + 'static,
{
    #[track_caller]
    pub(super) fn new(input: S, f: F, inverse: G, window: Duration, slide: Duration) -> Self {
        assert!(
            !window.is_zero(),
            "reduce_by_key_and_window_inv: the window must be longer than zero (0 given)"
        );
        assert!(
            !slide.is_zero(),
            "reduce_by_key_and_window_inv: the slide must be longer than zero (0 given)"
        );
        ReduceByKeyAndWindowInv {
            input,
            window,
            slide,
            f: Arc::new(f),
            inverse: Arc::new(inverse),
            keep: None,
            // The slices that leave a window are removed from it: keep one slide more.
            timeline: Timeline::new("reduce_by_key_and_window_inv", window, slide, slide),
            jobs: VecDeque::new(),
            previous: None,
            running: None,
            engine: None,
            input_done: false,
        }
    }

    /// Drops, from every window, the keys for which `keep` is false (typically those whose
    /// value went back to zero when their slices left the window).
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
    /// let ms = Duration::from_millis;
    /// let windows: Vec<usize> = zpark::source::naturals_every(ms(100)).take(20)
    ///     .map(|n| (if n < 5 { "early" } else { "late" }, 1i64))
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, ms(1000), ms(500))
    ///     .keep_keys(|(_, count)| *count != 0)
    ///     .then(|(_, rdd)| async move { rdd.count().await.unwrap() as usize })
    ///     .collect().await;
    /// assert_eq!(windows, vec![1, 2, 1, 1, 1]); // "early" leaves after the second window
    /// # }
    /// ```
    pub fn keep_keys(mut self, keep: impl Fn(&(K, V)) -> bool + Send + Sync + 'static) -> Self {
        self.keep = Some(Arc::new(keep));
        self
    }
}

impl<S, K, V, F, G> Stream for ReduceByKeyAndWindowInv<S, K, V, F, G>
where
    S: Stream<Item = (SliceTime, Rdd<(K, V)>)>,
    K: Data + Eq + Hash,
    V: Data,
    F: Fn(V, V) -> V + Send + Sync + 'static,
    G: Fn(V, V) -> V + Send + Sync + 'static,
{
    type Item = (SliceTime, Rdd<(K, V)>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            // A window being computed: hand it out when done, and keep it for the next one.
            if let Some(running) = this.running.as_mut() {
                let (time, engine, outcome) = ready!(running.as_mut().poll(cx));
                *this.running = None;
                return Poll::Ready(Some(match outcome {
                    Ok(state) => {
                        *this.previous = Some(state.clone());
                        (time, state)
                    }
                    Err(error) => {
                        *this.previous = None;
                        (time, engine.failed(error))
                    }
                }));
            }
            // The next window whose slices are all here.
            if let Some(job) = this.jobs.pop_front() {
                let previous = this.previous.take();
                let (f, inverse, keep) = (Arc::clone(this.f), Arc::clone(this.inverse), this.keep.clone());
                let (end, engine) = (SliceTime::new(job.end), job.engine.clone());
                *this.running =
                    Some(async move { (end, engine, compute(job, previous, f, inverse, keep).await) }.boxed());
                continue;
            }
            if *this.input_done {
                return Poll::Ready(None);
            }
            match ready!(this.input.as_mut().poll_next(cx)) {
                // End of input: the windows that still hold one of its slices, at once.
                None => {
                    *this.input_done = true;
                    if let Some(engine) = this.engine.take() {
                        for end in this.timeline.finish() {
                            this.jobs
                                .push_back(job_at(&engine, this.timeline, end, *this.window, *this.slide));
                        }
                        this.timeline.prune();
                    }
                }
                Some((time, rdd)) => {
                    let engine = rdd.engine().clone();
                    let f = Arc::clone(this.f);
                    let reduced = rdd.reduce_by_key(move |a, b| f(a, b)).persist();
                    match this.timeline.push(time, reduced) {
                        Ok(ends) => {
                            for end in ends {
                                this.jobs
                                    .push_back(job_at(&engine, this.timeline, end, *this.window, *this.slide));
                            }
                            this.timeline.prune();
                            *this.engine = Some(engine);
                        }
                        // A window or slide that does not fit the slices: the first item, then nothing.
                        Err(error) => {
                            *this.input_done = true;
                            return Poll::Ready(Some((time, engine.failed(error))));
                        }
                    }
                }
            }
        }
    }
}

fn job_at<K: Data, V: Data>(
    engine: &Engine,
    timeline: &Timeline<(K, V)>,
    end: Duration,
    window: Duration,
    slide: Duration,
) -> WindowJob<K, V> {
    let window_start = end.saturating_sub(window);
    let previous_end = end.saturating_sub(slide);
    WindowJob {
        end,
        engine: engine.clone(),
        all: timeline.slices_in(window_start, end),
        entering: timeline.slices_in(previous_end, end),
        leaving: timeline.slices_in(previous_end.saturating_sub(window), window_start),
    }
}

/// A value that entered the window, and one that left it.
type Delta<V> = (Option<V>, Option<V>);

async fn compute<K, V, F, G>(
    job: WindowJob<K, V>,
    previous: Option<Rdd<(K, V)>>,
    f: Arc<F>,
    inverse: Arc<G>,
    keep: Option<KeepKey<K, V>>,
) -> Result<Rdd<(K, V)>>
where
    K: Data + Eq + Hash,
    V: Data,
    F: Fn(V, V) -> V + Send + Sync + 'static,
    G: Fn(V, V) -> V + Send + Sync + 'static,
{
    let engine = job.engine;
    let state = match previous {
        // From scratch: the first window, or the one after a failure.
        None => {
            let f = Arc::clone(&f);
            engine.union(&job.all).reduce_by_key(move |a, b| f(a, b))
        }
        Some(previous) => {
            let mut added = job.entering;
            added.push(previous);
            let added = engine.union(&added).map(|(k, v)| (k, (Some(v), None)));
            let removed = engine.union(&job.leaving).map(|(k, v)| (k, (None, Some(v))));
            let (g, h) = (Arc::clone(&f), Arc::clone(&f));
            let merge = move |a: Delta<V>, b: Delta<V>| (either(a.0, b.0, &*g), either(a.1, b.1, &*h));
            let merge = Arc::new(merge);
            let m = Arc::clone(&merge);
            added
                .union(&removed)
                .combine_by_key(|delta: Delta<V>| delta, move |a, b| m(a, b), move |a, b| merge(a, b))
                .flat_map(move |(k, (added, removed))| match (added, removed) {
                    (Some(a), Some(r)) => Some((k, inverse(a, r))),
                    (Some(a), None) => Some((k, a)),
                    (None, _) => None,
                })
        }
    };
    let state = match keep {
        Some(keep) => state.filter(move |pair| keep(pair)),
        None => state,
    };
    state.materialize().await
}

fn either<V>(a: Option<V>, b: Option<V>, f: &dyn Fn(V, V) -> V) -> Option<V> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl<S, K, V, F, G> FusedStream for ReduceByKeyAndWindowInv<S, K, V, F, G>
where
    S: Stream<Item = (SliceTime, Rdd<(K, V)>)>,
    K: Data + Eq + Hash,
    V: Data,
    F: Fn(V, V) -> V + Send + Sync + 'static,
    G: Fn(V, V) -> V + Send + Sync + 'static,
{
    fn is_terminated(&self) -> bool {
        self.input_done && self.jobs.is_empty() && self.running.is_none()
    }
}

impl<S, K, V, F, G> std::fmt::Debug for ReduceByKeyAndWindowInv<S, K, V, F, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReduceByKeyAndWindowInv")
            .field("window", &self.window)
            .field("slide", &self.slide)
            .field("waiting_windows", &self.jobs.len())
            .finish()
    }
}
