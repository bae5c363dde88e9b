//! Driving an action to completion on the engine's own threads.
//!
//! An action is a chain of steps (materialize a shuffle, then collect), each a job on the
//! pool. Awaited from a stream consumer, the next step would start only when the consumer polls
//! again, and a consumer busy filling the next slice would leave the pool idle in between.
//! [`Engine::spawn`] polls the action from the pool instead: when a step's job finishes, its
//! waker schedules the next poll as a pool job, so slices advance while the consumer works.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::task::Context;

use futures::channel::oneshot;
use futures::future::BoxFuture;
use futures::task::{waker_ref, ArcWake};
use futures::FutureExt;

use super::cancel::{self, Cancel};
use super::clock_hold::ClockHold;
use super::{Backend, Engine};

/// A future polled on the backend's threads.
struct Task {
    future: Mutex<Option<BoxFuture<'static, ()>>>,
    /// Set by a wake, cleared by the poll it causes: a wake during a poll is never lost.
    scheduled: AtomicBool,
    backend: Arc<dyn Backend>,
    /// Set when the result's future is dropped: the action stops at its next poll, and the
    /// jobs it runs in place stop at their next partition.
    cancel: Cancel,
}

impl ArcWake for Task {
    fn wake_by_ref(task: &Arc<Self>) {
        if !task.scheduled.swap(true, Ordering::AcqRel) {
            let task = Arc::clone(task);
            task.backend.clone().execute(Box::new(move || task.poll()));
        }
    }
}

impl Task {
    fn poll(self: Arc<Self>) {
        loop {
            let mut slot = match self.future.try_lock() {
                Ok(slot) => slot,
                // Someone is polling right now: they will see `scheduled` and poll again.
                Err(TryLockError::WouldBlock) => return,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            };
            self.scheduled.store(false, Ordering::Release);
            if self.cancel.is_cancelled() {
                *slot = None; // Nobody waits for the result: drop the action and its jobs.
            }
            if let Some(future) = slot.as_mut() {
                let waker = waker_ref(&self);
                let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    cancel::polling(&self.cancel, || {
                        future.as_mut().poll(&mut Context::from_waker(&waker)).is_ready()
                    })
                }));
                // Done, or broken by a panic (a bug): drop the future, and with it the sender,
                // so that the waiting side sees the computation end instead of hanging.
                if polled.unwrap_or(true) {
                    *slot = None;
                }
            }
            drop(slot);
            // Woken while we polled, and nobody else took it: poll again.
            if !self.scheduled.load(Ordering::Acquire) {
                return;
            }
        }
    }
}

impl Engine {
    /// Runs `future` to completion on the engine's threads; the result comes through the
    /// returned future. Dropping that future stops the work: the action is not polled again,
    /// and the jobs it started stop before their next partition ([`Cancel`]).
    pub(crate) fn spawn<R, F>(&self, future: F) -> impl Future<Output = Option<R>> + Send + 'static
    where
        R: Send + 'static,
        F: Future<Output = R> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let task = Arc::new(Task {
            future: Mutex::new(Some(
                async move {
                    let _ = sender.send(future.await);
                }
                .boxed(),
            )),
            scheduled: AtomicBool::new(false),
            backend: Arc::clone(&self.backend),
            cancel: Cancel::default(),
        });
        ArcWake::wake_by_ref(&task);
        let waiting = Waiting(Some(task));
        async move {
            let mut receiver = receiver;
            // Not done at once: a paused tokio clock is held until the result is taken.
            let result = match futures::poll!(&mut receiver) {
                std::task::Poll::Ready(result) => result.ok(),
                std::task::Poll::Pending => {
                    let hold = ClockHold::new();
                    let result = receiver.await.ok();
                    drop(hold);
                    result
                }
            };
            waiting.answered();
            result
        }
    }
}

/// Held by the future that waits for a spawned action's result: dropped before the result came,
/// it cancels the action and wakes its task, whose next poll drops the action's future (and with
/// it the futures of the work it waits for, which stop theirs in turn).
struct Waiting(Option<Arc<Task>>);

impl Waiting {
    /// The result came: nothing to stop.
    fn answered(mut self) {
        self.0 = None;
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.cancel.cancel();
            ArcWake::wake_by_ref(&task);
        }
    }
}
