//! The state operations on streams of slices, as one extension trait (in the prelude).

use std::hash::Hash;

use futures::Stream;

use super::{MapWithState, State, StateSpec, Stateful, UpdateState, UpdateStateByKey};
use crate::rdd::{Data, Rdd};
use crate::slice_ops::Slice;
use crate::time::SliceTime;

/// State across slices for every stream of slices of pairs: a running value per key
/// ([`update_state_by_key`](StateStreamExt::update_state_by_key)) or a function per record
/// with its key's state ([`map_with_state`](StateStreamExt::map_with_state), on timed slices).
///
/// # Examples
///
/// ```
/// # use futures::StreamExt; use zpark::prelude::*;
/// # futures::executor::block_on(async {
/// let engine = Engine::local(1);
/// let mut seen = futures::stream::iter([("a", 1), ("a", 1)])
///     .parallelize(&engine, 1)
///     .update_state_by_key(|new: Vec<i32>, old: Option<i32>| Some(old.unwrap_or(0) + new.len() as i32));
/// assert_eq!(seen.next().await.unwrap().collect().await?, vec![("a", 1)]);
/// assert_eq!(seen.next().await.unwrap().collect().await?, vec![("a", 2)]);
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
pub trait StateStreamExt: Stream + Sized
where
    Self::Item: Slice,
{
    /// A running state per key across slices (Spark's `updateStateByKey`): after each slice,
    /// `update(new_values, old_state)` is called for every key that has a state or values in
    /// the slice (with no values for a key the slice did not mention); `None` removes the key.
    /// Each item is the whole state after that slice.
    ///
    /// # Examples
    ///
    /// ```
    /// # use futures::StreamExt; use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// # let engine = Engine::local(2);
    /// let mut totals = futures::stream::iter([("a", 1), ("b", 2), ("a", 3), ("c", 4)])
    ///     .parallelize(&engine, 2)
    ///     .update_state_by_key(|new: Vec<i32>, old: Option<i32>| Some(old.unwrap_or(0) + new.iter().sum::<i32>()));
    /// let mut first = totals.next().await.unwrap().collect().await?;
    /// first.sort();
    /// assert_eq!(first, vec![("a", 1), ("b", 2)]);
    /// let mut second = totals.next().await.unwrap().collect().await?;
    /// second.sort();
    /// assert_eq!(second, vec![("a", 4), ("b", 2), ("c", 4)]);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    fn update_state_by_key<K, V, S, F>(self, update: F) -> UpdateStateByKey<Self, K, V, S, F>
    where
        Self::Item: Slice<Elem = (K, V)> + Send + 'static,
        <Self::Item as Slice>::With<(K, S)>: Send + 'static,
        K: Data + Eq + Hash,
        V: Data,
        S: Data,
        F: Fn(Vec<V>, Option<S>) -> Option<S> + Send + Sync + 'static,
    {
        Stateful::new(self, UpdateState::new(update))
    }

    /// Calls `spec`'s function for every record with its key's state (Spark's `mapWithState`)
    /// and yields, per slice, the function's `Some` results; with a timeout, a key that saw no
    /// value for that long (in slice time) gets a last call with no value and is removed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// use zpark::state::{State, StateSpec};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let engine = Engine::local(2);
    /// let ms = Duration::from_millis;
    /// // A running count per key; keys idle for 1 s report their total and go.
    /// let spec = StateSpec::new(|key: &u64, value: Option<u64>, state: &mut State<u64>| {
    ///     let total = state.get().copied().unwrap_or(0) + value.map_or(0, |_| 1);
    ///     state.update(total);
    ///     state.is_timing_out().then_some((*key, total))
    /// })
    /// .timeout(ms(1000));
    /// let reports: Vec<Vec<(u64, u64)>> = zpark::source::naturals_every(ms(100)).take(10)
    ///     .map(|n| (n % 2, n))
    ///     .chain(futures::stream::pending().take_until(tokio::time::sleep(ms(2000))))
    ///     .discretize_keep_time(&engine, ms(500))
    ///     .map_with_state(spec)
    ///     .then(|(_, rdd)| async move { let mut v = rdd.collect().await.unwrap(); v.sort(); v })
    ///     .collect().await;
    /// assert_eq!(reports.concat(), vec![(0, 5), (1, 5)]);
    /// # }
    /// ```
    fn map_with_state<K, V, S, U, F>(self, spec: StateSpec<S, U, F>) -> MapWithState<Self, S, U, F>
    where
        Self: Stream<Item = (SliceTime, Rdd<(K, V)>)>,
        K: Data + Eq + Hash,
        V: Data,
        S: Data,
        U: Data,
        F: Fn(&K, Option<V>, &mut State<S>) -> Option<U> + Send + Sync + 'static,
    {
        Stateful::new(self, spec)
    }
}

impl<St: Stream> StateStreamExt for St where St::Item: Slice {}
