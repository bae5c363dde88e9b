use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{FusedStream, Stream};

use crate::rdd::{Data, Rdd};
use crate::time::SliceTime;

/// Time-aligned streams of timed slices made one: the slices of all streams with the same
/// [`SliceTime`] are unioned into one slice, in time order. Made by [`union_rdd`].
///
/// A stream that has no slice for some time simply adds nothing to it; a stream that ended
/// adds nothing more. Waits for every stream that has not ended to show its next slice before
/// emitting the earliest time, so that no slice of that time is missed.
#[must_use = "streams do nothing unless polled"]
pub struct UnionRdd<S: Stream> {
    streams: Vec<Pin<Box<S>>>,
    pending: Vec<Option<S::Item>>,
    ended: Vec<bool>,
}

/// Unions the slices of `streams` that share a [`SliceTime`] (the seed's Wye over many
/// streams).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use zpark::prelude::*;
/// # futures::executor::block_on(async {
/// let engine = Engine::local(1);
/// let at = |ms, data: Vec<u8>| (SliceTime::from_millis(ms), engine.parallelize(data, 1));
/// let a = futures::stream::iter(vec![at(500, vec![1]), at(1000, vec![2])]);
/// let b = futures::stream::iter(vec![at(500, vec![10]), at(1500, vec![30])]);
/// let merged: Vec<(SliceTime, Vec<u8>)> = zpark::slice_ops::union_rdd(vec![a, b])
///     .then(|(t, rdd)| async move { let mut v = rdd.collect().await.unwrap(); v.sort(); (t, v) })
///     .collect()
///     .await;
/// assert_eq!(merged, vec![
///     (SliceTime::from_millis(500), vec![1, 10]),
///     (SliceTime::from_millis(1000), vec![2]),
///     (SliceTime::from_millis(1500), vec![30]),
/// ]);
/// # });
/// ```
pub fn union_rdd<S, T>(streams: Vec<S>) -> UnionRdd<S>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
{
    let n = streams.len();
    UnionRdd {
        streams: streams.into_iter().map(Box::pin).collect(),
        pending: (0..n).map(|_| None).collect(),
        ended: vec![false; n],
    }
}

impl<S, T> Stream for UnionRdd<S>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
{
    type Item = (SliceTime, Rdd<T>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        // Every stream that has not ended shows its next slice.
        let mut waiting = false;
        for i in 0..this.streams.len() {
            if this.pending[i].is_some() || this.ended[i] {
                continue;
            }
            match this.streams[i].as_mut().poll_next(cx) {
                Poll::Ready(Some(slice)) => this.pending[i] = Some(slice),
                Poll::Ready(None) => this.ended[i] = true,
                Poll::Pending => waiting = true,
            }
        }
        if waiting {
            return Poll::Pending;
        }
        // The earliest time shown, and every slice of that time.
        let Some(earliest) = this.pending.iter().flatten().map(|(time, _)| *time).min() else {
            return Poll::Ready(None);
        };
        let same_time: Vec<(SliceTime, Rdd<T>)> = this
            .pending
            .iter_mut()
            .filter(|slot| slot.as_ref().is_some_and(|(time, _)| *time == earliest))
            .filter_map(Option::take)
            .collect();
        let engine = same_time[0].1.engine().clone();
        let rdds: Vec<Rdd<T>> = same_time.iter().map(|(_, rdd)| rdd.clone()).collect();
        Poll::Ready(Some((same_time[0].0, engine.union(&rdds))))
    }
}

impl<S, T> FusedStream for UnionRdd<S>
where
    S: Stream<Item = (SliceTime, Rdd<T>)>,
    T: Data,
{
    fn is_terminated(&self) -> bool {
        self.ended.iter().all(|ended| *ended) && self.pending.iter().all(Option::is_none)
    }
}

impl<S: Stream> std::fmt::Debug for UnionRdd<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnionRdd")
            .field("streams", &self.streams.len())
            .field("ended", &self.ended)
            .finish()
    }
}
