//! Leaves of a lineage: data held in memory, or a failure carried to the actions.

use std::ops::Range;
use std::sync::Arc;

use futures::future::{self, BoxFuture, FutureExt};

use super::node::NodePlan;
use super::node::{Node, PartIter};
use super::Data;
use crate::engine::Engine;
use crate::engine::Recycler;
use crate::error::{Error, Result};

/// Data in memory, cut into ranges without copying.
pub(crate) struct Source<T> {
    data: Arc<Vec<T>>,
    ranges: Vec<Range<usize>>,
    recycler: Option<Arc<Recycler<T>>>,
}

impl<T> Drop for Source<T> {
    fn drop(&mut self) {
        if let Some(recycler) = self.recycler.take() {
            let data = std::mem::replace(&mut self.data, Arc::new(Vec::new()));
            if let Ok(buffer) = Arc::try_unwrap(data) {
                recycler.give(buffer);
            }
        }
    }
}

impl<T> Source<T> {
    pub(crate) fn new(data: Vec<T>, partitions: usize) -> Source<T> {
        let len = data.len();
        let parts = partitions.min(len).max(1);
        let ranges = (0..parts).map(|i| (i * len / parts)..((i + 1) * len / parts)).collect();
        Source {
            data: Arc::new(data),
            ranges,
            recycler: None,
        }
    }

    /// As [`Source::new`], handing the buffer to `recycler` when dropped.
    pub(crate) fn recycled(data: Vec<T>, partitions: usize, recycler: Arc<Recycler<T>>) -> Source<T> {
        let mut source = Source::new(data, partitions);
        source.recycler = Some(recycler);
        source
    }
}

impl<T> Source<T> {
    /// Data already cut into partitions (kept as they are; empty partitions included).
    pub(crate) fn from_partitions(partitions: Vec<Vec<T>>) -> Source<T> {
        let mut ranges = Vec::with_capacity(partitions.len().max(1));
        let mut data = Vec::with_capacity(partitions.iter().map(Vec::len).sum());
        for partition in partitions {
            let start = data.len();
            data.extend(partition);
            ranges.push(start..data.len());
        }
        if ranges.is_empty() {
            ranges.push(0..0);
        }
        Source {
            data: Arc::new(data),
            ranges,
            recycler: None,
        }
    }
}

impl<T> Source<T> {
    fn slice(&self, part: usize) -> &[T] {
        let range = self.ranges.get(part).cloned().unwrap_or(0..0);
        &self.data[range]
    }
}

impl<T: Data> Node<T> for Source<T> {
    fn operation(&self) -> &'static str {
        "parallelize"
    }

    fn partitions(&self) -> usize {
        self.ranges.len()
    }

    fn prepare<'a>(&'a self, _: &'a Engine) -> BoxFuture<'a, Result<()>> {
        future::ready(Ok(())).boxed()
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, T>> {
        Ok(Box::new(self.slice(part).iter().cloned()))
    }

    fn stored(&self, part: usize) -> Option<&[T]> {
        Some(self.slice(part))
    }

    fn plan(&self) -> NodePlan {
        NodePlan::Source
    }
}

/// A dataset whose every action fails with the same error.
pub(crate) struct Failed {
    error: Error,
}

impl Failed {
    pub(crate) fn new(error: Error) -> Failed {
        Failed { error }
    }
}

impl<T: Data> Node<T> for Failed {
    fn operation(&self) -> &'static str {
        "failed"
    }

    fn partitions(&self) -> usize {
        1
    }

    fn prepare<'a>(&'a self, _: &'a Engine) -> BoxFuture<'a, Result<()>> {
        future::ready(Err(self.error.clone())).boxed()
    }

    fn compute(&self, _: usize) -> Result<PartIter<'_, T>> {
        Err(self.error.clone())
    }

    fn plan(&self) -> NodePlan {
        NodePlan::Source
    }

    fn refusal(&self) -> Option<&Error> {
        matches!(self.error, Error::NotOnCluster { .. }).then_some(&self.error)
    }
}
