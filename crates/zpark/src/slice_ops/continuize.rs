use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{Fuse, FusedStream, FuturesOrdered, Stream, StreamExt};
use pin_project_lite::pin_project;

use super::Slice;
use crate::error::Result;

type SliceResult<T> = BoxFuture<'static, Result<Vec<T>>>;

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
        }
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
                        let rdd = slice.rdd().clone();
                        // `collect` runs on the engine's threads, step after step, while this
                        // stream's consumer goes on with the next slices.
                        let result = rdd.start_collect();
                        this.running
                            .push_back(async move { result.await.map_err(|error| error.in_slice(index)) }.boxed());
                    }
                    Poll::Ready(None) | Poll::Pending => break,
                }
            }
            // The oldest slice, when it is ready.
            match this.running.poll_next_unpin(cx) {
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
