//! State across slices: a running value per key, carried from one slice to the next.
//!
//! [`update_state_by_key`](StateStreamExt::update_state_by_key) keeps a
//! state per key and calls the update function for every key, with the new values of the slice
//! (none for a key that saw no values); [`map_with_state`](StateStreamExt::map_with_state)
//! calls a function per record with the key's state, and times out keys that stayed idle.
//!
//! Both work slice after slice (a slice's state depends on the previous one), compute on the
//! engine (the state is a partitioned `Rdd`, joined with each slice by key), and keep the state
//! materialized, without lineage. A slice that fails yields its `Err` and leaves the state as
//! it was before that slice.

mod ext;
mod keyed_state;
mod map_with_state;
mod stateful;
mod update_state_by_key;

pub use ext::StateStreamExt;
pub use keyed_state::{KeyedState, MappedState};
pub use map_with_state::{MapWithState, State, StateSpec};
pub use stateful::{StateStep, Stateful};
pub use update_state_by_key::{UpdateState, UpdateStateByKey};

use std::hash::Hash;

use crate::rdd::{Data, Rdd};

/// Per key: the values of this slice (if it has any) and the state kept so far (if any).
pub(crate) type Cogrouped<V, S> = (Option<Vec<V>>, Option<S>);

/// Joins a slice's values, gathered per key, with the state kept so far: one pair per key that
/// has values in the slice, a state, or both.
pub(crate) fn join_with_state<K, V, S>(slice: &Rdd<(K, V)>, state: Option<Rdd<(K, S)>>) -> Rdd<(K, Cogrouped<V, S>)>
where
    K: Data + Eq + Hash,
    V: Data,
    S: Data,
{
    let mut sides = vec![slice.group_by_key().map(|(k, values)| (k, (Some(values), None)))];
    if let Some(state) = state {
        sides.push(state.map(|(k, s)| (k, (None, Some(s)))));
    }
    // Each side holds a key at most once, so merging keeps one of each.
    slice
        .engine()
        .union(&sides)
        .reduce_by_key(|a, b| (a.0.or(b.0), a.1.or(b.1)))
}
