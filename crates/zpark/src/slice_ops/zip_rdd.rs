use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{Fuse, FusedStream, Stream, StreamExt};
use pin_project_lite::pin_project;

use super::Slice;

pin_project! {
    /// Slice i of two streams unioned into one slice (the seed's `zipWith` + `UnionRDD`). Made
    /// by [`zip_rdd`](super::SliceStreamExt::zip_rdd).
    ///
    /// When one stream ends first, the other's remaining slices pass through alone: no slice is
    /// dropped. Timed slices keep the time of the left stream's slice.
    #[must_use = "streams do nothing unless polled"]
    pub struct ZipRdd<A: Stream, B: Stream> {
        #[pin]
        left: Fuse<A>,
        #[pin]
        right: Fuse<B>,
        left_slice: Option<A::Item>,
        right_slice: Option<B::Item>,
    }
}

impl<A: Stream, B: Stream<Item = A::Item>> ZipRdd<A, B>
where
    A::Item: Slice,
{
    pub(super) fn new(left: A, right: B) -> Self {
        ZipRdd {
            left: left.fuse(),
            right: right.fuse(),
            left_slice: None,
            right_slice: None,
        }
    }
}

impl<A: Stream, B: Stream<Item = A::Item>> Stream for ZipRdd<A, B>
where
    A::Item: Slice,
{
    type Item = A::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if this.left_slice.is_none() {
            if let Poll::Ready(Some(slice)) = this.left.as_mut().poll_next(cx) {
                *this.left_slice = Some(slice);
            }
        }
        if this.right_slice.is_none() {
            if let Poll::Ready(Some(slice)) = this.right.as_mut().poll_next(cx) {
                *this.right_slice = Some(slice);
            }
        }
        let left_done = this.left_slice.is_none() && this.left.is_terminated();
        let right_done = this.right_slice.is_none() && this.right.is_terminated();
        match (this.left_slice.take(), this.right_slice.take()) {
            // A pair: their union.
            (Some(left), Some(right)) => Poll::Ready(Some(left.union_with(&right))),
            // One side has ended: the other passes through alone.
            (Some(left), None) if right_done => Poll::Ready(Some(left)),
            (None, Some(right)) if left_done => Poll::Ready(Some(right)),
            (None, None) if left_done && right_done => Poll::Ready(None),
            // Waiting for the partner of a slice.
            (left, right) => {
                *this.left_slice = left;
                *this.right_slice = right;
                Poll::Pending
            }
        }
    }
}

impl<A: Stream, B: Stream<Item = A::Item>> FusedStream for ZipRdd<A, B>
where
    A::Item: Slice,
{
    fn is_terminated(&self) -> bool {
        self.left.is_terminated()
            && self.right.is_terminated()
            && self.left_slice.is_none()
            && self.right_slice.is_none()
    }
}

impl<A: Stream, B: Stream> std::fmt::Debug for ZipRdd<A, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipRdd")
            .field("left_waiting", &self.left_slice.is_some())
            .field("right_waiting", &self.right_slice.is_some())
            .finish()
    }
}
