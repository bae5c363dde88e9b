//! State across slices: a running value per key, carried from one slice to the next.
//!
//! [`update_state_by_key`](crate::slice_ops::SliceStreamExt::update_state_by_key) keeps a
//! state per key and calls the update function for every key, with the new values of the slice
//! (none for a key that saw no values); [`map_with_state`](crate::window::PairWindowExt::map_with_state)
//! calls a function per record with the key's state, and times out keys that stayed idle.
//!
//! Both work slice after slice (a slice's state depends on the previous one), compute on the
//! engine (the state is a partitioned `Rdd`, joined with each slice by key), and keep the state
//! materialized, without lineage. A slice that fails yields its `Err` and leaves the state as
//! it was before that slice.

mod map_with_state;
mod stateful;
mod update_state_by_key;

pub use map_with_state::{MapWithState, State, StateSpec};
pub use stateful::{StateStep, Stateful};
pub use update_state_by_key::{UpdateState, UpdateStateByKey};
