//! A state per key that a checkpoint can save and restore: the state of
//! `update_state_by_key`, driven one slice at a time.

use std::hash::Hash;
use std::sync::Arc;

use super::map_with_state::{Kept, State, StateSpec};
use super::update_state_by_key::next_state;
use crate::engine::Engine;
use crate::error::Result;
use crate::rdd::{Data, Rdd};
use crate::time::SliceTime;

/// A state kept between slices as a materialized `Rdd`, saved as its elements and restored
/// from them: what [`KeyedState`] and [`MappedState`] share.
struct KeptRdd<P> {
    rdd: Option<Rdd<P>>,
}

impl<P: Data> KeptRdd<P> {
    async fn save(&self) -> Result<Vec<P>> {
        match &self.rdd {
            Some(rdd) => rdd.collect().await,
            None => Ok(Vec::new()),
        }
    }

    fn restore(&mut self, engine: &Engine, saved: Vec<P>) {
        let partitions = engine.slice_partitions(saved.len());
        self.rdd = Some(engine.parallelize(saved, partitions).persist());
    }
}

/// A state per key, updated slice after slice as
/// [`update_state_by_key`](crate::state::StateStreamExt::update_state_by_key) does (the
/// same join of the slice's values with the state, on the engine), but driven by hand so that a
/// checkpointed pipeline can save it ([`save`](KeyedState::save)) and restore it after a
/// restart.
///
/// # Examples
///
/// ```
/// use zpark::state::KeyedState;
/// # futures::executor::block_on(async {
/// let engine = zpark::Engine::local(2);
/// let running = |new: Vec<u64>, old: Option<u64>| Some(old.unwrap_or(0) + new.iter().sum::<u64>());
/// let mut totals = KeyedState::new();
/// totals.update(&engine.parallelize(vec![("a", 1), ("b", 2)], 1), running).await?;
/// let saved = totals.save().await?;
///
/// let mut resumed = KeyedState::new();
/// resumed.restore(&engine, saved);
/// let mut now = resumed.update(&engine.parallelize(vec![("a", 5)], 1), running).await?.collect().await?;
/// now.sort();
/// assert_eq!(now, vec![("a", 6), ("b", 2)]);
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
pub struct KeyedState<K, S> {
    state: KeptRdd<(K, S)>,
}

impl<K, S> Default for KeyedState<K, S> {
    fn default() -> Self {
        KeyedState {
            state: KeptRdd { rdd: None },
        }
    }
}

impl<K: Data + Eq + Hash, S: Data> KeyedState<K, S> {
    /// No key has a state yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let state = zpark::state::KeyedState::<String, u64>::new();
    /// # drop(state);
    /// ```
    pub fn new() -> Self {
        KeyedState::default()
    }

    /// Calls `update` for every key with the slice's values for it (none for a key the slice
    /// lacks) and its state so far; a key whose update gives `None` is forgotten. Returns the
    /// whole state after the slice.
    ///
    /// # Errors
    ///
    /// When the slice fails or `update` panics; the state is then left as it was.
    pub async fn update<V, F>(&mut self, slice: &Rdd<(K, V)>, update: F) -> Result<Rdd<(K, S)>>
    where
        V: Data,
        F: Fn(Vec<V>, Option<S>) -> Option<S> + Send + Sync + 'static,
    {
        let next = next_state(slice, self.state.rdd.clone(), Arc::new(update)).await?;
        self.state.rdd = Some(next.clone());
        Ok(next)
    }

    /// Every key with its state.
    ///
    /// # Errors
    ///
    /// None in practice: the state is kept computed.
    pub async fn save(&self) -> Result<Vec<(K, S)>> {
        self.state.save().await
    }

    /// Puts back the pairs of a [`save`](KeyedState::save), replacing the state.
    pub fn restore(&mut self, engine: &Engine, saved: Vec<(K, S)>) {
        self.state.restore(engine, saved);
    }
}

impl<K, S> std::fmt::Debug for KeyedState<K, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedState")
            .field("has_state", &self.state.rdd.is_some())
            .finish()
    }
}

/// The state of [`map_with_state`](crate::state::StateStreamExt::map_with_state), driven by
/// hand one timed slice at a time so that a checkpointed pipeline can save it
/// ([`save`](MappedState::save): each key with its state and the time of its last value) and
/// restore it; timeouts keep counting across a restart, in slice time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zpark::state::{MappedState, State, StateSpec};
/// use zpark::SliceTime;
/// # futures::executor::block_on(async {
/// let engine = zpark::Engine::local(2);
/// let spec = StateSpec::new(|key: &&str, value: Option<u64>, state: &mut State<u64>| {
///     let total = state.get().copied().unwrap_or(0) + value.unwrap_or(0);
///     state.update(total);
///     state.is_timing_out().then_some((*key, total)) // report a key's total when it goes idle
/// })
/// .timeout(Duration::from_secs(2));
/// let mut keys = MappedState::new();
/// keys.map_with_state(SliceTime::from_millis(1000), &engine.parallelize(vec![("a", 3), ("a", 4)], 1), &spec).await?;
/// let saved = keys.save().await?;
///
/// let mut resumed = MappedState::new();
/// resumed.restore(&engine, saved);
/// let idle = resumed.map_with_state(SliceTime::from_millis(3000), &engine.empty(), &spec).await?;
/// assert_eq!(idle.collect().await?, vec![("a", 7)]);
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
pub struct MappedState<K, S> {
    state: KeptRdd<(K, Kept<S>)>,
}

impl<K, S> Default for MappedState<K, S> {
    fn default() -> Self {
        MappedState {
            state: KeptRdd { rdd: None },
        }
    }
}

impl<K: Data + Eq + Hash, S: Data> MappedState<K, S> {
    /// No key has a state yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let keys = zpark::state::MappedState::<String, u64>::new();
    /// # drop(keys);
    /// ```
    pub fn new() -> Self {
        MappedState::default()
    }

    /// Calls the spec's function for each record of the slice (ending at `time`) with its key's
    /// state, and a last time for keys idle longer than the spec's timeout; returns the
    /// function's outputs.
    ///
    /// # Errors
    ///
    /// When the slice fails or the function panics; the state is then left as it was.
    pub async fn map_with_state<V, U, F>(
        &mut self,
        time: SliceTime,
        slice: &Rdd<(K, V)>,
        spec: &StateSpec<S, U, F>,
    ) -> Result<Rdd<U>>
    where
        V: Data,
        U: Data,
        F: Fn(&K, Option<V>, &mut State<S>) -> Option<U> + Send + Sync + 'static,
    {
        let (outputs, kept) = spec.step_by_hand(time, slice, self.state.rdd.clone()).await?;
        self.state.rdd = Some(kept);
        Ok(outputs)
    }

    /// Every key with its state and the time of its last value.
    ///
    /// # Errors
    ///
    /// None in practice: the state is kept computed.
    pub async fn save(&self) -> Result<Vec<(K, (S, SliceTime))>> {
        self.state.save().await
    }

    /// Puts back the keys of a [`save`](MappedState::save), replacing the state.
    pub fn restore(&mut self, engine: &Engine, saved: Vec<(K, (S, SliceTime))>) {
        self.state.restore(engine, saved);
    }
}

impl<K, S> std::fmt::Debug for MappedState<K, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedState")
            .field("has_state", &self.state.rdd.is_some())
            .finish()
    }
}
