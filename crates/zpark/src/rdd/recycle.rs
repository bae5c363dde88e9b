//! Slice buffers handed back when their `Rdd` is dropped, for the slicer to fill again.
//!
//! A fresh buffer of a million elements costs the kernel a page fault (and a page to zero) per
//! 4 KiB; a recycled one costs nothing. Measured on row 3 of BENCHMARKS.md.
//!
//! A buffer of elements without a destructor (`!std::mem::needs_drop::<T>()`: integers,
//! floats, tuples of them) comes back with its old elements, which the slicer overwrites in
//! place (see `discretize::slice_buffer`); keeping them costs nothing. Any other buffer comes
//! back empty, its elements dropped when it is given back.

use std::sync::Mutex;

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
    pub(crate) fn take(&self, capacity: usize) -> Vec<T> {
        let recycled = self.free.lock().ok().and_then(|mut free| free.pop());
        match recycled {
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
