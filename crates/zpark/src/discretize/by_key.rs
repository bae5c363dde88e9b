use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::parallelize::slice;
use crate::engine::Engine;
use crate::rdd::{Data, Rdd};

pin_project! {
    /// Slices of consecutive elements with equal keys. Made by
    /// [`discretize_by`](super::DiscretizeExt::discretize_by).
    #[must_use = "streams do nothing unless polled"]
    pub struct DiscretizeBy<S: Stream, K, F> {
        #[pin]
        input: S,
        engine: Engine,
        key_of: F,
        current: Option<K>,
        buffer: Vec<S::Item>,
        done: bool,
    }
}

impl<S: Stream, K, F> DiscretizeBy<S, K, F>
where
    S::Item: Data,
    K: PartialEq,
    F: FnMut(&S::Item) -> K,
{
    pub(super) fn new(input: S, engine: Engine, key_of: F) -> Self {
        DiscretizeBy {
            input,
            engine,
            key_of,
            current: None,
            buffer: Vec::new(),
            done: false,
        }
    }
}

impl<S: Stream, K, F> Stream for DiscretizeBy<S, K, F>
where
    S::Item: Data,
    K: PartialEq,
    F: FnMut(&S::Item) -> K,
{
    type Item = Rdd<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        loop {
            match ready!(this.input.as_mut().poll_next(cx)) {
                Some(item) => {
                    let key = (this.key_of)(&item);
                    // Same key as the slice being filled (or the very first element): keep going.
                    if this.current.as_ref().is_none_or(|current| *current == key) {
                        *this.current = Some(key);
                        this.buffer.push(item);
                        continue;
                    }
                    // A new key: the slice is complete, the element opens the next one.
                    *this.current = Some(key);
                    let complete = std::mem::replace(this.buffer, vec![item]);
                    return Poll::Ready(Some(slice(this.engine, complete)));
                }
                None => {
                    *this.done = true;
                    let rest = std::mem::take(this.buffer);
                    return Poll::Ready((!rest.is_empty()).then(|| slice(this.engine, rest)));
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match (self.done, self.input.size_hint().1) {
            (true, _) => (0, Some(0)),
            (false, upper) => (0, upper.and_then(|u| u.checked_add(1))),
        }
    }
}

impl<S: Stream, K, F> FusedStream for DiscretizeBy<S, K, F>
where
    S::Item: Data,
    K: PartialEq,
    F: FnMut(&S::Item) -> K,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<S: Stream, K, F> std::fmt::Debug for DiscretizeBy<S, K, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscretizeBy")
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .finish()
    }
}
