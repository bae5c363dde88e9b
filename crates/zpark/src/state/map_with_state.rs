use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};

use super::{join_with_state, Cogrouped, StateStep, Stateful};
use crate::engine::guarded;
use crate::error::Result;
use crate::rdd::{Data, Rdd};
use crate::time::SliceTime;

/// The state of one key, as [`map_with_state`](crate::state::StateStreamExt::map_with_state)'s
/// function sees it.
///
/// # Examples
///
/// ```
/// let mut state = zpark::state::State::<u32>::default();
/// assert!(!state.exists());
/// state.update(3);
/// assert_eq!(state.get(), Some(&3));
/// state.remove();
/// assert!(!state.exists());
/// ```
#[derive(Debug, Clone, Default)]
pub struct State<S> {
    value: Option<S>,
    timing_out: bool,
}

impl<S> State<S> {
    /// The key's state, if it has one.
    ///
    /// ```
    /// let mut state = zpark::state::State::default();
    /// state.update("x");
    /// assert_eq!(state.get(), Some(&"x"));
    /// ```
    pub fn get(&self) -> Option<&S> {
        self.value.as_ref()
    }

    /// True when the key has a state.
    ///
    /// ```
    /// assert!(!zpark::state::State::<u8>::default().exists());
    /// ```
    pub fn exists(&self) -> bool {
        self.value.is_some()
    }

    /// Sets the key's state.
    ///
    /// ```
    /// let mut state = zpark::state::State::default();
    /// state.update(1);
    /// assert!(state.exists());
    /// ```
    pub fn update(&mut self, value: S) {
        self.value = Some(value);
    }

    /// Removes the key's state.
    ///
    /// ```
    /// let mut state = zpark::state::State::default();
    /// state.update(1);
    /// state.remove();
    /// assert_eq!(state.get(), None);
    /// ```
    pub fn remove(&mut self) {
        self.value = None;
    }

    /// True on the last call for a key that stayed idle longer than the timeout: the call
    /// gets no value, and the state is removed after it.
    ///
    /// ```
    /// assert!(!zpark::state::State::<u8>::default().is_timing_out());
    /// ```
    pub fn is_timing_out(&self) -> bool {
        self.timing_out
    }
}

/// What `map_with_state` does: a function called per record, `f(key, Some(value), state)`,
/// whose `Some` results form the output, and an optional timeout after which an idle key gets
/// a last call `f(key, None, state)` (with `state.is_timing_out()`) and is removed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let spec = zpark::state::StateSpec::new(|key: &&str, value: Option<u32>, state: &mut zpark::state::State<u32>| {
///     let total = state.get().copied().unwrap_or(0) + value.unwrap_or(0);
///     state.update(total);
///     Some((*key, total))
/// })
/// .timeout(Duration::from_secs(60));
/// # let _ = spec;
/// ```
pub struct StateSpec<S, U, F> {
    function: Arc<F>,
    timeout: Option<Duration>,
    marker: PhantomData<fn(S) -> U>,
}

impl<S, U, F> StateSpec<S, U, F> {
    /// A spec with the per-record function and no timeout.
    ///
    /// ```
    /// use zpark::state::{State, StateSpec};
    /// let spec = StateSpec::new(|_key: &u8, value: Option<u32>, _state: &mut State<u32>| value);
    /// # let _ = spec;
    /// ```
    pub fn new<K, V>(function: F) -> Self
    where
        F: Fn(&K, Option<V>, &mut State<S>) -> Option<U>,
    {
        StateSpec {
            function: Arc::new(function),
            timeout: None,
            marker: PhantomData,
        }
    }

    /// Times out a key that saw no value for `idle` (measured in slice time).
    ///
    /// ```
    /// use std::time::Duration;
    /// use zpark::state::{State, StateSpec};
    /// let spec = StateSpec::new(|_key: &u8, value: Option<u32>, _state: &mut State<u32>| value)
    ///     .timeout(Duration::from_secs(30));
    /// # let _ = spec;
    /// ```
    pub fn timeout(mut self, idle: Duration) -> Self {
        self.timeout = Some(idle);
        self
    }
}

impl<S, U, F> std::fmt::Debug for StateSpec<S, U, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSpec")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The stream of `map_with_state`: per slice, the function's outputs.
pub type MapWithState<St, S, U, F> = Stateful<St, StateSpec<S, U, F>>;

/// A key's state with the slice time of its last value.
pub(super) type Kept<S> = (S, SliceTime);
/// Per key: the outputs of this slice and the state to keep.
type Stepped<U, S> = (Vec<U>, Option<Kept<S>>);

impl<K, V, S, U, F> StateStep<(SliceTime, Rdd<(K, V)>)> for StateSpec<S, U, F>
where
    K: Data + Eq + Hash,
    V: Data,
    S: Data,
    U: Data,
    F: Fn(&K, Option<V>, &mut State<S>) -> Option<U> + Send + Sync + 'static,
{
    type State = Rdd<(K, Kept<S>)>;
    type Out = (SliceTime, Rdd<U>);

    fn step(
        &mut self,
        (time, slice): (SliceTime, Rdd<(K, V)>),
        state: Option<Self::State>,
    ) -> BoxFuture<'static, (Self::Out, Option<Self::State>)> {
        let (function, timeout) = (Arc::clone(&self.function), self.timeout);
        async move {
            let engine = slice.engine().clone();
            match step_slice(&slice, state.clone(), time, function, timeout).await {
                Ok((outputs, kept)) => ((time, outputs), Some(kept)),
                Err(error) => ((time, engine.failed(error)), state),
            }
        }
        .boxed()
    }
}

impl<S, U, F> StateSpec<S, U, F> {
    /// One slice of `map_with_state`, driven by hand: the outputs, and the state to keep.
    pub(super) async fn step_by_hand<K, V>(
        &self,
        time: SliceTime,
        slice: &Rdd<(K, V)>,
        state: Option<Rdd<(K, Kept<S>)>>,
    ) -> Result<(Rdd<U>, Rdd<(K, Kept<S>)>)>
    where
        K: Data + Eq + Hash,
        V: Data,
        S: Data,
        U: Data,
        F: Fn(&K, Option<V>, &mut State<S>) -> Option<U> + Send + Sync + 'static,
    {
        step_slice(slice, state, time, Arc::clone(&self.function), self.timeout).await
    }
}

/// One slice: the function's outputs, and the state kept (materialized, without lineage).
async fn step_slice<K, V, S, U, F>(
    slice: &Rdd<(K, V)>,
    state: Option<Rdd<(K, Kept<S>)>>,
    now: SliceTime,
    function: Arc<F>,
    timeout: Option<Duration>,
) -> Result<(Rdd<U>, Rdd<(K, Kept<S>)>)>
where
    K: Data + Eq + Hash,
    V: Data,
    S: Data,
    U: Data,
    F: Fn(&K, Option<V>, &mut State<S>) -> Option<U> + Send + Sync + 'static,
{
    let stepped = step_keys(slice, state, now, function, timeout).await?;
    let outputs = stepped.flat_map(|(_, (outputs, _))| outputs);
    let kept = stepped.flat_map(|(k, (_, kept))| kept.map(|kept| (k, kept)));
    Ok((outputs, kept.materialize().await?))
}

async fn step_keys<K, V, S, U, F>(
    slice: &Rdd<(K, V)>,
    state: Option<Rdd<(K, Kept<S>)>>,
    now: SliceTime,
    function: Arc<F>,
    timeout: Option<Duration>,
) -> Result<Rdd<(K, Stepped<U, S>)>>
where
    K: Data + Eq + Hash,
    V: Data,
    S: Data,
    U: Data,
    F: Fn(&K, Option<V>, &mut State<S>) -> Option<U> + Send + Sync + 'static,
{
    let joined = join_with_state(slice, state);
    let stepped = joined.map(move |(k, (values, kept)): (K, Cogrouped<V, Kept<S>>)| {
        let (value, last) = kept.map_or((None, now), |(s, last)| (Some(s), last));
        let mut state = State {
            value,
            timing_out: false,
        };
        let mut outputs = Vec::new();
        match values {
            Some(values) => {
                for v in values {
                    outputs.extend(guarded("map_with_state", || function(&k, Some(v), &mut state)));
                }
                let kept = state.value.map(|s| (s, now));
                (k, (outputs, kept))
            }
            None if timeout.is_some_and(|idle| now.as_duration().saturating_sub(last.as_duration()) >= idle) => {
                state.timing_out = true;
                outputs.extend(guarded("map_with_state", || function(&k, None, &mut state)));
                (k, (outputs, None))
            }
            None => (k, (outputs, state.value.map(|s| (s, last)))),
        }
    });
    stepped.materialize().await
}
