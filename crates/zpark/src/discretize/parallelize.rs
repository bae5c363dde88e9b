use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::engine::Engine;
use crate::rdd::{Data, Rdd, Recycler};
use crate::slice_ops::DEFAULT_SLICES_IN_FLIGHT;

pin_project! {
    /// Slices of `n` elements. Made by [`parallelize`](super::DiscretizeExt::parallelize).
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Parallelize<S: Stream> {
        #[pin]
        input: S,
        engine: Engine,
        recycler: Arc<Recycler<S::Item>>,
        buffer: Vec<S::Item>,
        size: usize,
        done: bool,
    }
}

impl<S: Stream> Parallelize<S>
where
    S::Item: Data,
{
    #[track_caller]
    pub(super) fn new(input: S, engine: Engine, size: usize) -> Self {
        assert!(
            size > 0,
            "parallelize: a slice needs at least 1 element (n = 0 given); use n >= 1"
        );
        // Enough buffers for the slices in flight and the one being filled.
        let recycler = Arc::new(Recycler::new(DEFAULT_SLICES_IN_FLIGHT + 2));
        Parallelize {
            input,
            engine,
            buffer: Vec::with_capacity(size),
            recycler,
            size,
            done: false,
        }
    }
}

impl<S: Stream> Stream for Parallelize<S>
where
    S::Item: Data,
{
    type Item = Rdd<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let size = *this.size;
        // Filled as a local, kept in registers: this loop runs once per element.
        let mut buffer = std::mem::take(this.buffer);
        loop {
            match this.input.as_mut().poll_next(cx) {
                // Still filling the slice.
                Poll::Ready(Some(item)) if buffer.len() + 1 < size => buffer.push(item),
                // The slice is full: hand it over, start the next one.
                Poll::Ready(Some(item)) => {
                    buffer.push(item);
                    *this.buffer = this.recycler.take(size);
                    return Poll::Ready(Some(this.engine.parallelize_recycled(buffer, this.recycler)));
                }
                // End of input: the short last slice, if any.
                Poll::Ready(None) => {
                    *this.done = true;
                    return Poll::Ready((!buffer.is_empty()).then(|| slice(this.engine, buffer)));
                }
                // The input waits: keep what the slice holds so far.
                Poll::Pending => {
                    *this.buffer = buffer;
                    return Poll::Pending;
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let pending = self.buffer.len();
        let (lower, upper) = self.input.size_hint();
        let lower = (lower.saturating_add(pending)) / self.size;
        let upper = upper
            .and_then(|u| u.checked_add(pending))
            .map(|u| u.div_ceil(self.size));
        (lower, upper)
    }
}

impl<S: Stream> FusedStream for Parallelize<S>
where
    S::Item: Data,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

pub(super) fn slice<T: Data>(engine: &Engine, elements: Vec<T>) -> Rdd<T> {
    let partitions = engine.slice_partitions(elements.len());
    engine.parallelize(elements, partitions)
}
