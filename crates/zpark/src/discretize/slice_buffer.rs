//! The buffer a count slicer fills, element by element, from its input stream.
//!
//! Every element of a sliced stream goes through [`SliceBuffer::fill`], so its loop is the
//! driver's hot path (row 3 of BENCHMARKS.md). Two things make it cheap:
//!
//! - **In registers.** A loop that pushes into a `Vec` holds a call (the push's growth path),
//!   and the compiler cannot tell the `Vec`'s heap from the input stream's state, so that
//!   state (an iterator's position, a counter) goes through memory on every element: a
//!   store-to-load chain of 6-8 cycles. Here, where the buffer holds slots already, the input
//!   is polled straight into a `&mut [T]` given to a function of its own; the slots and the
//!   stream are then known apart, the loop holds no call, and the state stays in registers.
//! - **Slots kept.** Buffers come back from dropped slices ([`Recycler`](crate::rdd::Recycler)).
//!   For element types without a destructor (integers, floats, tuples and arrays of them) a
//!   recycled buffer keeps its old elements as slots to overwrite, which costs nothing to
//!   keep or to drop, and a fresh buffer gets its slots as copies of the first element read
//!   into it; for other types a buffer comes back empty and is pushed into.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

/// The fewest slots a fresh buffer is given at a time.
const MIN_SLOTS: usize = 4096;

/// How a [`SliceBuffer::fill`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Filled {
    /// The buffer holds the slice's `size` elements.
    Full,
    /// The input ended first.
    Ended,
}

/// Why a fill stopped before the slice was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The input ended.
    Ended,
    /// The input waits (`Pending`).
    Waits,
}

/// A slice being filled: `elements[..filled]` are the slice's, `elements[filled..]` old
/// elements of a recycled buffer (only for types without a destructor), overwritten in turn.
#[derive(Debug)]
pub(super) struct SliceBuffer<T> {
    elements: Vec<T>,
    filled: usize,
}

impl<T> SliceBuffer<T> {
    /// A buffer over `elements`, whose old elements (if any) are slots to overwrite.
    pub(super) fn new(elements: Vec<T>) -> SliceBuffer<T> {
        SliceBuffer { elements, filled: 0 }
    }

    /// The elements of the slice so far.
    pub(super) fn len(&self) -> usize {
        self.filled
    }

    /// The slice's elements, leaving `next` (a buffer for the next slice) in their place.
    pub(super) fn replace(&mut self, next: Vec<T>) -> Vec<T> {
        let mut elements = std::mem::replace(&mut self.elements, next);
        elements.truncate(self.filled);
        self.filled = 0;
        elements
    }

    /// Moves elements of `input` in until the slice holds `size` of them, the input ends, or
    /// it waits (`Pending`, with what was read kept for the next call).
    pub(super) fn fill<S>(&mut self, mut input: Pin<&mut S>, cx: &mut Context<'_>, size: usize) -> Poll<Filled>
    where
        S: Stream<Item = T>,
        T: Clone,
    {
        while self.filled < size {
            let slots = size.min(self.elements.len());
            let stop = if self.filled < slots {
                let (read, stop) = poll_into(input.as_mut(), cx, &mut self.elements[self.filled..slots]);
                self.filled += read;
                stop
            } else if std::mem::needs_drop::<T>() {
                self.push_from(input.as_mut(), cx, size)
            } else {
                self.make_slots(input.as_mut(), cx, size)
            };
            match stop {
                Some(Stop::Ended) => return Poll::Ready(Filled::Ended),
                Some(Stop::Waits) => return Poll::Pending,
                None => {}
            }
        }
        Poll::Ready(Filled::Full)
    }

    /// Makes slots in a buffer that has none left (a fresh one), as copies of the next element
    /// of `input`, which takes the first of them: the slice goes on being filled in place. For
    /// element types without a destructor only, whose clones are, in practice, copies.
    ///
    /// The slots at most double what the slice holds (and at least [`MIN_SLOTS`]): a short
    /// input into a large slice touches memory for what it sends, not for the whole slice.
    fn make_slots<S>(&mut self, mut input: Pin<&mut S>, cx: &mut Context<'_>, size: usize) -> Option<Stop>
    where
        S: Stream<Item = T>,
        T: Clone,
    {
        match input.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                let slots = size.min(self.filled.saturating_mul(2).max(MIN_SLOTS));
                self.elements.truncate(self.filled);
                self.elements.resize(slots, item);
                self.filled += 1;
                None
            }
            Poll::Ready(None) => Some(Stop::Ended),
            Poll::Pending => Some(Stop::Waits),
        }
    }

    /// Pushes elements of `input` until the slice holds `size`; `Some` when the input ended
    /// or waits first.
    fn push_from<S>(&mut self, mut input: Pin<&mut S>, cx: &mut Context<'_>, size: usize) -> Option<Stop>
    where
        S: Stream<Item = T>,
    {
        self.elements.truncate(self.filled);
        // Room for the rest of the slice, at most doubling what it holds: a huge `size` with a
        // short input allocates for what the input sends.
        self.elements
            .reserve((size - self.filled).min(self.filled.max(MIN_SLOTS)));
        // Filled as a local, whose length stays in a register.
        let mut elements = std::mem::take(&mut self.elements);
        let stop = loop {
            if elements.len() >= size {
                break None;
            }
            match input.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => elements.push(item),
                Poll::Ready(None) => break Some(Stop::Ended),
                Poll::Pending => break Some(Stop::Waits),
            }
        };
        self.filled = elements.len();
        self.elements = elements;
        stop
    }
}

/// Polls `input` into `slots`, in order: how many were written, and `Some` when the input
/// ended or waits before the slots were all written.
///
/// A function of its own so that `slots` and `input` reach it as distinct `&mut`s: the
/// compiler then keeps the input's state in registers across the loop.
#[inline(never)]
fn poll_into<S: Stream>(mut input: Pin<&mut S>, cx: &mut Context<'_>, slots: &mut [S::Item]) -> (usize, Option<Stop>) {
    for (written, slot) in slots.iter_mut().enumerate() {
        match input.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => *slot = item,
            Poll::Ready(None) => return (written, Some(Stop::Ended)),
            Poll::Pending => return (written, Some(Stop::Waits)),
        }
    }
    (slots.len(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    fn fill_from(
        buffer: &mut SliceBuffer<u64>,
        items: &mut (impl Stream<Item = u64> + Unpin),
        size: usize,
    ) -> Poll<Filled> {
        let waker = noop_waker();
        buffer.fill(Pin::new(items), &mut Context::from_waker(&waker), size)
    }

    #[test]
    fn a_fresh_buffer_is_filled_in_place_and_cut_to_what_was_read() {
        let mut buffer = SliceBuffer::new(Vec::with_capacity(4));
        let mut input = futures::stream::iter(5..8u64);
        assert_eq!(fill_from(&mut buffer, &mut input, 4), Poll::Ready(Filled::Ended));
        assert_eq!(buffer.replace(Vec::new()), vec![5, 6, 7]);
    }

    #[test]
    fn a_fresh_buffer_grows_its_slots_with_what_was_read() {
        let mut buffer = SliceBuffer::new(Vec::new());
        let mut input = futures::stream::iter(0..10u64);
        assert_eq!(
            fill_from(&mut buffer, &mut input, 1_000_000),
            Poll::Ready(Filled::Ended)
        );
        assert_eq!(buffer.elements.len(), MIN_SLOTS);
        assert_eq!(buffer.replace(Vec::new()), (0..10).collect::<Vec<_>>());
        let mut input = futures::stream::iter(0..10_000u64);
        assert_eq!(
            fill_from(&mut buffer, &mut input, 1_000_000),
            Poll::Ready(Filled::Ended)
        );
        assert_eq!(buffer.elements.len(), 4 * MIN_SLOTS);
        assert_eq!(buffer.replace(Vec::new()), (0..10_000).collect::<Vec<_>>());
    }

    #[test]
    fn elements_with_a_destructor_are_pushed() {
        let mut buffer = SliceBuffer::new(Vec::new());
        let waker = noop_waker();
        let mut input = futures::stream::iter(["a", "b", "c"].map(String::from));
        let filled = buffer.fill(Pin::new(&mut input), &mut Context::from_waker(&waker), 2);
        assert_eq!(filled, Poll::Ready(Filled::Full));
        assert_eq!(buffer.replace(Vec::new()), ["a", "b"]);
    }

    #[test]
    fn overwrites_old_elements_then_makes_new_slots() {
        let mut buffer = SliceBuffer::new(vec![9, 9, 9]);
        let mut input = futures::stream::iter(0..10u64);
        assert_eq!(fill_from(&mut buffer, &mut input, 5), Poll::Ready(Filled::Full));
        assert_eq!(buffer.replace(vec![7]), vec![0, 1, 2, 3, 4]);
        assert_eq!(fill_from(&mut buffer, &mut input, 5), Poll::Ready(Filled::Full));
        assert_eq!(buffer.replace(Vec::new()), vec![5, 6, 7, 8, 9]);
        assert_eq!(fill_from(&mut buffer, &mut input, 5), Poll::Ready(Filled::Ended));
        assert_eq!(buffer.len(), 0);
    }

    #[test]
    fn a_short_input_leaves_no_old_element_in_the_slice() {
        let mut buffer = SliceBuffer::new(vec![9; 8]);
        let mut input = futures::stream::iter(0..3u64);
        assert_eq!(fill_from(&mut buffer, &mut input, 5), Poll::Ready(Filled::Ended));
        assert_eq!(buffer.len(), 3);
        assert_eq!(buffer.replace(Vec::new()), vec![0, 1, 2]);
    }

    #[test]
    fn a_waiting_input_keeps_what_was_read() {
        let mut buffer = SliceBuffer::new(vec![9; 2]);
        let mut pending_once = false;
        let mut next = 0u64;
        let mut input = futures::stream::poll_fn(move |_| {
            if next == 3 && !pending_once {
                pending_once = true;
                return Poll::Pending;
            }
            next += 1;
            Poll::Ready(Some(next - 1))
        });
        assert_eq!(fill_from(&mut buffer, &mut input, 5), Poll::Pending);
        assert_eq!(buffer.len(), 3);
        assert_eq!(fill_from(&mut buffer, &mut input, 5), Poll::Ready(Filled::Full));
        assert_eq!(buffer.replace(Vec::new()), vec![0, 1, 2, 3, 4]);
    }
}
