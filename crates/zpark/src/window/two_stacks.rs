//! Sliding aggregation without an inverse: the two-stacks algorithm, and one per key.
//!
//! A queue of values whose aggregate under an associative `f` is known at any time, with an
//! amortized constant number of `f` calls per push and per pop whatever the queue's length
//! (Tangwongsan, Hirzel, Schneider, "Low-latency sliding-window aggregation in worst-case
//! constant time", DEBS 2017, section 3: "two-stacks"). `f` need not be commutative: the
//! aggregate combines the values oldest first.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

/// The function that combines two values, shared with the per-slice reduction.
pub(crate) type Combine<V> = Arc<dyn Fn(V, V) -> V + Send + Sync>;

/// A queue of values and their aggregate (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct TwoStacks<V> {
    /// The older values, the oldest last; each entry is the aggregate of its value and every
    /// newer value in `front`, so the last entry is the aggregate of all of `front`.
    front: Vec<V>,
    /// The newer values, the newest last, as pushed.
    back: Vec<V>,
    /// The aggregate of `back`.
    back_aggregate: Option<V>,
}

impl<V: Clone> TwoStacks<V> {
    pub(crate) fn new() -> Self {
        TwoStacks {
            front: Vec::new(),
            back: Vec::new(),
            back_aggregate: None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.front.is_empty() && self.back.is_empty()
    }

    /// Adds the newest value: one call of `f`.
    pub(crate) fn push(&mut self, value: V, f: &dyn Fn(V, V) -> V) {
        self.back_aggregate = Some(match self.back_aggregate.take() {
            Some(aggregate) => f(aggregate, value.clone()),
            None => value.clone(),
        });
        self.back.push(value);
    }

    /// Removes the oldest value: no call of `f`, except when `front` is empty; then the
    /// values of `back` move to it, each aggregated with the newer ones (one call each, once
    /// per value over its life).
    pub(crate) fn pop(&mut self, f: &dyn Fn(V, V) -> V) {
        if self.front.is_empty() {
            for value in self.back.drain(..).rev() {
                let aggregate = match self.front.last() {
                    Some(newer) => f(value, newer.clone()),
                    None => value,
                };
                self.front.push(aggregate);
            }
            self.back_aggregate = None;
        }
        self.front.pop();
    }

    /// The aggregate of every value, oldest first: at most one call of `f`; `None` when empty.
    pub(crate) fn aggregate(&self, f: &dyn Fn(V, V) -> V) -> Option<V> {
        match (self.front.last(), &self.back_aggregate) {
            (Some(older), Some(newer)) => Some(f(older.clone(), newer.clone())),
            (Some(older), None) => Some(older.clone()),
            (None, newer) => newer.clone(),
        }
    }
}

/// Entries (a slice's reduced pairs, at a time) in a window, aggregated per key with one
/// [`TwoStacks`] each: adding an entry and removing the oldest cost a constant number of `f`
/// calls per key they hold; a key whose last value left is dropped.
pub(crate) struct KeyedAggregate<K, V> {
    f: Combine<V>,
    /// The entries in the window, oldest first, with their pairs (what a save keeps).
    entries: VecDeque<(Duration, Vec<(K, V)>)>,
    keys: HashMap<K, TwoStacks<V>>,
}

impl<K: Eq + Hash + Clone, V: Clone> KeyedAggregate<K, V> {
    pub(crate) fn new(f: Combine<V>) -> Self {
        KeyedAggregate {
            f,
            entries: VecDeque::new(),
            keys: HashMap::new(),
        }
    }

    /// Adds the newest entry: one `f` call per pair.
    pub(crate) fn push(&mut self, time: Duration, pairs: Vec<(K, V)>) {
        for (key, value) in &pairs {
            let stacks = self.keys.entry(key.clone()).or_insert_with(TwoStacks::new);
            stacks.push(value.clone(), &*self.f);
        }
        self.entries.push_back((time, pairs));
    }

    /// Removes the entries at or before `time`.
    pub(crate) fn evict_through(&mut self, time: Duration) {
        while self.entries.front().is_some_and(|(t, _)| *t <= time) {
            let Some((_, pairs)) = self.entries.pop_front() else {
                break;
            };
            for (key, _) in pairs {
                if let Some(stacks) = self.keys.get_mut(&key) {
                    stacks.pop(&*self.f);
                    if stacks.is_empty() {
                        self.keys.remove(&key);
                    }
                }
            }
        }
    }

    /// Each key with the aggregate of its values in the window, oldest first.
    pub(crate) fn result(&self) -> Vec<(K, V)> {
        self.keys
            .iter()
            .filter_map(|(key, stacks)| Some((key.clone(), stacks.aggregate(&*self.f)?)))
            .collect()
    }

    /// The entries in the window, oldest first.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &(Duration, Vec<(K, V)>)> {
        self.entries.iter()
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.keys.clear();
    }
}

impl<K, V> KeyedAggregate<K, V> {
    /// How many keys the window holds.
    pub(crate) fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// An estimate of the bytes held: each pair kept for a save, and twice a value in the
    /// stacks (its value and an aggregate), by their sizes (not what they own on the heap).
    pub(crate) fn bytes(&self) -> usize {
        let pairs: usize = self.entries.iter().map(|(_, pairs)| pairs.len()).sum();
        pairs * (std::mem::size_of::<(K, V)>() + 2 * std::mem::size_of::<V>())
            + self.keys.len() * std::mem::size_of::<(K, TwoStacks<V>)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn the_aggregate_is_the_queue_in_order_with_a_constant_number_of_calls_per_value() {
        let calls = Cell::new(0u64);
        let concat = |a: String, b: String| {
            calls.set(calls.get() + 1);
            a + &b
        };
        let mut queue = TwoStacks::new();
        let mut model: VecDeque<String> = VecDeque::new();
        for i in 0..1000u32 {
            let value = char::from(b'a' + (i % 26) as u8).to_string();
            queue.push(value.clone(), &concat);
            model.push_back(value);
            if model.len() > 7 {
                queue.pop(&concat);
                model.pop_front();
            }
            let want: String = model.iter().map(String::as_str).collect();
            assert_eq!(queue.aggregate(&concat), Some(want));
        }
        // A push, a pop and a query: at most 3 calls each on average (4 with the flips).
        assert!(calls.get() <= 4 * 1000, "{} calls for 1000 slides", calls.get());
    }

    #[test]
    fn keys_whose_last_value_left_are_dropped() {
        let mut window = KeyedAggregate::new(Arc::new(|a: u64, b: u64| a.max(b)));
        window.push(Duration::from_secs(1), vec![("a", 3), ("b", 1)]);
        window.push(Duration::from_secs(2), vec![("a", 2)]);
        window.evict_through(Duration::from_secs(1));
        assert_eq!(window.result(), vec![("a", 2)]);
        assert_eq!(window.key_count(), 1);
    }
}
