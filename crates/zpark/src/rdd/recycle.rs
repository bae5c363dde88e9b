//! Slice buffers handed back when their `Rdd` is dropped, for the slicer to fill again.
//!
//! A fresh buffer of a million elements costs the kernel a page fault (and a page to zero) per
//! 4 KiB; a recycled one costs nothing. Measured on row 3 of BENCHMARKS.md.

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

    /// An empty buffer with room for `capacity` elements: a recycled one when there is one.
    pub(crate) fn take(&self, capacity: usize) -> Vec<T> {
        let recycled = self.free.lock().ok().and_then(|mut free| free.pop());
        match recycled {
            Some(mut buffer) => {
                buffer.reserve(capacity);
                buffer
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Takes a buffer back (emptied), unless the stock is full.
    pub(crate) fn give(&self, mut buffer: Vec<T>) {
        buffer.clear();
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.keep {
                free.push(buffer);
            }
        }
    }
}
