use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::slice_buffer::{Filled, SliceBuffer};
use crate::engine::Engine;
use crate::rdd::{Data, Rdd, Recycler};

pin_project! {
    /// Slices of `n` elements. Made by [`parallelize`](super::DiscretizeExt::parallelize).
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Parallelize<S: Stream> {
        #[pin]
        input: S,
        engine: Engine,
        recycler: Arc<Recycler<S::Item>>,
        buffer: SliceBuffer<S::Item>,
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
        // The engine's stock: buffers of earlier pipelines on it are filled again.
        let recycler = engine.recycler();
        Parallelize {
            input,
            buffer: SliceBuffer::new(recycler.take(size)),
            engine,
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
        match this.buffer.fill(this.input.as_mut(), cx, size) {
            // The slice is full: hand it over, start the next one in a recycled buffer.
            Poll::Ready(Filled::Full) => {
                let elements = this.buffer.replace(this.recycler.take(size));
                Poll::Ready(Some(this.engine.parallelize_recycled(elements, this.recycler)))
            }
            // End of input: the short last slice, if any.
            Poll::Ready(Filled::Ended) => {
                *this.done = true;
                let elements = this.buffer.replace(Vec::new());
                Poll::Ready((!elements.is_empty()).then(|| this.engine.parallelize_recycled(elements, this.recycler)))
            }
            // The input waits: the buffer keeps what the slice holds so far.
            Poll::Pending => Poll::Pending,
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
