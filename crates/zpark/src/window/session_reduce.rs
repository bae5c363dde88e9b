//! The session windows of a stream of timed slices of pairs.

use std::hash::Hash;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::sessions::{Session, SessionWindows};
use super::sliding_reduce::{collecting, Collecting};
use super::two_stacks::Combine;
use super::SliceTime;
use crate::engine::Engine;
use crate::rdd::{Data, Rdd};
use crate::slice_ops::StateSize;

pin_project! {
    /// Per slice, the sessions that it closes: made by
    /// [`reduce_by_key_and_session`](super::PairWindowExt::reduce_by_key_and_session) and
    /// [`session_window_by_key`](super::PairWindowExt::session_window_by_key).
    ///
    /// Each slice is reduced per key on the engine (on Spark, as a built-in stage where the
    /// reduction is one) and collected to the driver, where [`SessionWindows`] keeps the open
    /// sessions. Every slice gives one item, its `Rdd` holding the sessions it closed (often
    /// none); when the input ends, one more item, one slice interval after the last slice,
    /// holds the sessions still open. A slice that fails is an `Err` item, and its records
    /// are in no session.
    #[must_use = "streams do nothing unless polled"]
    pub struct SessionReduce<S, K, V> {
        #[pin]
        input: S,
        sessions: SessionWindows<K, V>,
        collecting: Option<Collecting<(K, V)>>,
        // The open sessions' size, for metrics.
        size: StateSize,
        // The engine and the time of the last slice: the end of input's item is after it.
        last: Option<(Engine, SliceTime)>,
        done: bool,
    }
}

impl<S, K, V> SessionReduce<S, K, V>
where
    S: Stream<Item = (SliceTime, Rdd<(K, V)>)>,
    K: Data + Eq + Hash,
    V: Data,
{
    #[track_caller]
    pub(super) fn new(input: S, f: Combine<V>, gap: Duration) -> Self {
        SessionReduce {
            input,
            sessions: SessionWindows::with(gap, f),
            collecting: None,
            size: StateSize::default(),
            last: None,
            done: false,
        }
    }

    /// The size of the open sessions (keys, bytes estimated), kept up to date slice by slice:
    /// for [`Measured::state`](crate::slice_ops::Measured::state).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zpark::prelude::*;
    /// let engine = Engine::local(1);
    /// let sessions = futures::stream::iter([(SliceTime::from_millis(500), engine.parallelize(vec![("a", 1)], 1))])
    ///     .reduce_by_key_and_session(|a, b| a + b, Duration::from_secs(1));
    /// assert_eq!(sessions.state_size().keys(), 0); // nothing read yet
    /// ```
    pub fn state_size(&self) -> StateSize {
        self.size.clone()
    }
}

fn sessions_rdd<K: Data, V: Data>(engine: &Engine, sessions: Vec<Session<K, V>>) -> Rdd<Session<K, V>> {
    let partitions = engine.slice_partitions(sessions.len());
    engine.parallelize(sessions, partitions)
}

impl<S, K, V> Stream for SessionReduce<S, K, V>
where
    S: Stream<Item = (SliceTime, Rdd<(K, V)>)>,
    K: Data + Eq + Hash,
    V: Data,
{
    type Item = (SliceTime, Rdd<Session<K, V>>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(collecting) = this.collecting.as_mut() {
                let (time, engine, outcome) = ready!(collecting.as_mut().poll(cx));
                *this.collecting = None;
                *this.last = Some((engine.clone(), time));
                let rdd = match outcome {
                    Ok(pairs) => sessions_rdd(&engine, this.sessions.push(time, pairs)),
                    Err(error) => engine.failed(error),
                };
                let open = this.sessions.open_count();
                this.size
                    .set(open as u64, (open * std::mem::size_of::<Session<K, V>>()) as u64);
                return Poll::Ready(Some((time, rdd)));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.input.as_mut().poll_next(cx)) {
                None => {
                    *this.done = true;
                    if let Some((engine, time)) = this.last.take() {
                        let after = SliceTime::with_interval(time.as_duration() + time.interval(), time.interval());
                        return Poll::Ready(Some((after, sessions_rdd(&engine, this.sessions.finish()))));
                    }
                }
                Some((time, rdd)) => *this.collecting = Some(collecting(time, rdd)),
            }
        }
    }
}

impl<S, K, V> FusedStream for SessionReduce<S, K, V>
where
    S: Stream<Item = (SliceTime, Rdd<(K, V)>)>,
    K: Data + Eq + Hash,
    V: Data,
{
    fn is_terminated(&self) -> bool {
        self.done && self.collecting.is_none()
    }
}

impl<S, K, V> std::fmt::Debug for SessionReduce<S, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionReduce")
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}
