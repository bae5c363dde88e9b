//! Slice buffers an engine keeps for the pipelines that run on it, one stock per element type.
//!
//! A fresh buffer of a million `u64` costs the kernel 2 048 page faults, each with a page to
//! zero: on the project machine, the first slices of a stream (as many fresh buffers as slices
//! in flight, plus one) took 40-50 ms more than the rest, about 15 % of a 50 000 000-element
//! stream (BENCHMARKS.md, session 7). A pipeline's slicer therefore takes its buffers from its
//! engine, and its slices give them back when dropped, so that the next pipeline on the same
//! engine starts warm, as a long-lived pool does (Spark keeps its memory pages across tasks the
//! same way).
//!
//! What is kept is bounded: at most [`KEEP_PER_TYPE`] buffers per element type, released when
//! the last clone of the engine is dropped or by [`Engine::release_buffers`](super::Engine::release_buffers).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Data, Recycler};

/// Buffers kept per element type: the slices in flight of one pipeline (`continuize`'s default,
/// [`DEFAULT_SLICES_IN_FLIGHT`](crate::slice_ops::DEFAULT_SLICES_IN_FLIGHT), 4), the one being
/// filled, and one more. A test in `slice_ops` keeps the two in step.
pub(crate) const KEEP_PER_TYPE: usize = 6;

/// One [`Recycler`] per element type, shared by every slicer on the engine.
#[derive(Default)]
pub(crate) struct SliceBuffers {
    by_type: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl SliceBuffers {
    /// The stock of buffers of `T` elements.
    pub(crate) fn recycler<T: Data>(&self) -> Arc<Recycler<T>> {
        let fresh = || Arc::new(Recycler::<T>::new(KEEP_PER_TYPE));
        let Ok(mut by_type) = self.by_type.lock() else {
            // A thread panicked while holding the lock: go on without sharing.
            return fresh();
        };
        let stock = by_type
            .entry(TypeId::of::<T>())
            .or_insert_with(|| fresh() as Arc<dyn Any + Send + Sync>);
        Arc::clone(stock).downcast::<Recycler<T>>().unwrap_or_else(|_| fresh())
    }

    /// Forgets every stock: the buffers in them are freed now, those of slices still alive when
    /// their slices are dropped.
    pub(crate) fn release(&self) {
        if let Ok(mut by_type) = self.by_type.lock() {
            by_type.clear();
        }
    }

    /// How many element types have a stock (for tests).
    #[cfg(test)]
    fn types(&self) -> usize {
        self.by_type.lock().map(|by_type| by_type.len()).unwrap_or(0)
    }
}

impl std::fmt::Debug for SliceBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SliceBuffers").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stock_per_element_type_shared_until_released() {
        let buffers = SliceBuffers::default();
        let a = buffers.recycler::<u64>();
        a.give(vec![7u64; 100]);
        let b = buffers.recycler::<u64>();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(b.take(100), vec![7u64; 100]);
        let _strings = buffers.recycler::<String>();
        assert_eq!(buffers.types(), 2);
        buffers.release();
        assert_eq!(buffers.types(), 0);
        assert!(!Arc::ptr_eq(&a, &buffers.recycler::<u64>()));
    }

    #[test]
    fn a_pipeline_leaves_its_buffers_to_the_next_one_on_the_engine() {
        use crate::prelude::*;
        use futures::StreamExt;

        let engine = crate::Engine::local(1);
        let run = || {
            futures::executor::block_on(
                futures::stream::iter(0..10_500u64)
                    .parallelize(&engine, 1000)
                    .count_rdd()
                    .continuize()
                    .fold(0, |total, count| async move { total + count.unwrap_or(0) }),
            )
        };
        assert_eq!(run(), 10_500);
        let stock = engine.recycler::<u64>();
        // The slices' buffers came back (the short last one's too): as many as were alive at
        // once, the slices in flight and the one being filled.
        let after_first = stock.stocked();
        assert!((2..=KEEP_PER_TYPE).contains(&after_first), "{after_first} buffers kept");
        // The second pipeline fills the same buffers and makes no new one. The last slice's
        // buffer comes back when its action's future is dropped on the worker thread, which
        // may be just after the consumer has its count: wait for it, never above the first.
        assert_eq!(run(), 10_500);
        let waited = std::time::Instant::now();
        while stock.stocked() < after_first && waited.elapsed() < std::time::Duration::from_secs(2) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(stock.stocked(), after_first);
        engine.release_buffers();
        assert_eq!(engine.recycler::<u64>().stocked(), 0);
    }
}
