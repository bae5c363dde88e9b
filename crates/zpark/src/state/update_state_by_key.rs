use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};

use super::{join_with_state, Cogrouped, StateStep, Stateful};
use crate::engine::guarded;
use crate::error::Result;
use crate::rdd::{Data, Rdd};
use crate::slice_ops::Slice;

/// The stream of [`update_state_by_key`](crate::state::StateStreamExt::update_state_by_key):
/// after each slice, the whole state, one `(key, state)` per key.
pub type UpdateStateByKey<St, K, V, S, F> = Stateful<St, UpdateState<K, V, S, F>>;

/// The step of `update_state_by_key`.
pub struct UpdateState<K, V, S, F> {
    update: Arc<F>,
    marker: PhantomData<fn(K, V, S)>,
}

impl<K, V, S, F> UpdateState<K, V, S, F> {
    pub(crate) fn new(update: F) -> Self {
        UpdateState {
            update: Arc::new(update),
            marker: PhantomData,
        }
    }
}

impl<I, K, V, S, F> StateStep<I> for UpdateState<K, V, S, F>
where
    I: Slice<Elem = (K, V)> + Send + 'static,
    I::With<(K, S)>: Send + 'static,
    K: Data + Eq + Hash,
    V: Data,
    S: Data,
    F: Fn(Vec<V>, Option<S>) -> Option<S> + Send + Sync + 'static,
{
    type State = Rdd<(K, S)>;
    type Out = I::With<(K, S)>;

    fn step(&mut self, slice: I, state: Option<Rdd<(K, S)>>) -> BoxFuture<'static, (Self::Out, Option<Rdd<(K, S)>>)> {
        let update = Arc::clone(&self.update);
        async move {
            let engine = slice.rdd().engine().clone();
            match next_state(slice.rdd(), state.clone(), update).await {
                Ok(next) => (slice.with_rdd(|_| next.clone()), Some(next)),
                Err(error) => (slice.with_rdd(|_| engine.failed(error)), state),
            }
        }
        .boxed()
    }
}

pub(super) async fn next_state<K, V, S, F>(
    slice: &Rdd<(K, V)>,
    state: Option<Rdd<(K, S)>>,
    update: Arc<F>,
) -> Result<Rdd<(K, S)>>
where
    K: Data + Eq + Hash,
    V: Data,
    S: Data,
    F: Fn(Vec<V>, Option<S>) -> Option<S> + Send + Sync + 'static,
{
    let joined: Rdd<(K, Cogrouped<V, S>)> = join_with_state(slice, state);
    joined
        .flat_map(move |(k, (values, old))| {
            guarded("update_state_by_key", || update(values.unwrap_or_default(), old)).map(|s| (k, s))
        })
        .materialize()
        .await
}
