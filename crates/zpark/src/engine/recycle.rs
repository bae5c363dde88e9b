//! Slice buffers handed back when their `Rdd` is dropped, for the slicer to fill again.
//!
//! A fresh buffer of a million elements costs the kernel a page fault (and a page to zero) per
//! 4 KiB; a recycled one costs nothing. Measured on row 3 of BENCHMARKS.md. An engine keeps one
//! stock per element type for all its pipelines (`engine/buffers.rs`).
//!
//! A buffer of elements without a destructor (`!std::mem::needs_drop::<T>()`: integers,
//! floats, tuples of them) comes back with its old elements, which the slicer overwrites in
//! place (see `discretize::slice_buffer`); keeping them costs nothing. Any other buffer comes
//! back empty, its elements dropped when it is given back.

use std::sync::Mutex;

/// How many times too large a recycled buffer may be for what it is taken for.
const OVERSIZED: usize = 4;

/// The most elements a buffer is made room for before they arrive; it grows past that as it
/// is filled.
pub(crate) const MAX_UPFRONT: usize = 1 << 20;

/// A small stock of empty buffers.
#[derive(Debug)]
pub(crate) struct Recycler<T> {
    free: Mutex<Vec<Vec<T>>>,
    keep: usize,
}

impl<T> Recycler<T> {
    /// A stock of at most `keep` buffers.
    pub(crate) fn new(keep: usize) -> Recycler<T> {
        Recycler {
            free: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// A buffer with room for `capacity` elements: a recycled one when there is one, holding
    /// old elements only if they have no destructor.
    ///
    /// A recycled buffer more than [`OVERSIZED`] times too large (one of a pipeline with larger
    /// slices, on the same engine) is freed instead, so that small slices do not each hold a
    /// large buffer.
    pub(crate) fn take(&self, capacity: usize) -> Vec<T> {
        // A slice of `n` elements may be far larger than its input ever sends (`--count` of
        // 4 000 000 000): room for at most `MAX_UPFRONT` elements, the rest as they come.
        let capacity = capacity.min(MAX_UPFRONT);
        let recycled = self.free.lock().ok().and_then(|mut free| free.pop());
        match recycled {
            Some(buffer) if buffer.capacity() / OVERSIZED > capacity => Vec::with_capacity(capacity),
            Some(mut buffer) => {
                buffer.reserve(capacity.saturating_sub(buffer.len()));
                buffer
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Takes a buffer back (emptied of elements with a destructor), unless the stock is full.
    pub(crate) fn give(&self, mut buffer: Vec<T>) {
        if std::mem::needs_drop::<T>() {
            buffer.clear();
        }
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.keep {
                free.push(buffer);
            }
        }
    }
}

impl<T> Recycler<T> {
    /// How many buffers wait in the stock (for tests).
    #[cfg(test)]
    pub(crate) fn stocked(&self) -> usize {
        self.free.lock().map(|free| free.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_unless_it_is_far_too_large() {
        let recycler = Recycler::new(2);
        recycler.give(vec![1u64; 1000]);
        assert_eq!(recycler.take(1000).capacity(), 1000, "the recycled buffer");
        recycler.give(Vec::<u64>::with_capacity(1000));
        let small = recycler.take(100);
        assert!(small.capacity() < 1000, "a buffer 10x too large is freed, not reused");
        assert!(recycler.take(10).capacity() >= 10);
    }

    #[test]
    fn buffers_of_elements_with_a_destructor_come_back_empty() {
        let recycler = Recycler::new(1);
        recycler.give(vec![String::from("a"); 3]);
        recycler.give(vec![String::from("b")]); // the stock is full: dropped
        let buffer = recycler.take(3);
        assert!(buffer.is_empty() && buffer.capacity() >= 3);
    }
}
