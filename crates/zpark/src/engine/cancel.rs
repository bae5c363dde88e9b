//! Work nobody waits for any more stops: a flag a job reads between partitions.
//!
//! Dropping the future of an action, or a slice stream with slices in flight, drops the
//! receivers of the jobs it started. Each job's [`Cancel`] is then set, and the job stops
//! before its next partition (a partition already started runs to its end: rayon has no way
//! to stop a closure midway, as DataFusion's `ExecutionPlan` streams stop at their next batch).
//! A job queued behind others does not start at all.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Whether the result of a job is still wanted. Clones share the flag.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Marks the work as not wanted any more.
    pub(crate) fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once nobody waits for the result.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err` once nobody waits for the result: what a job returns to stop (nobody reads it).
    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Internal("the result of this job is no longer wanted".into()));
        }
        Ok(())
    }

    /// A guard that cancels when dropped: held by the future that waits for the result.
    pub(crate) fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Some(self.clone()))
    }
}

/// Cancels its [`Cancel`] when dropped, unless disarmed.
#[derive(Debug)]
pub(crate) struct CancelOnDrop(Option<Cancel>);

impl CancelOnDrop {
    /// The result arrived: dropping the guard now cancels nothing.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = self.0.take() {
            cancel.cancel();
        }
    }
}

thread_local! {
    /// The flag of the action being polled on this thread ([`Engine::spawn`](super::Engine)):
    /// a job that runs in place, inside that poll, stops with its action.
    static POLLED: RefCell<Option<Cancel>> = const { RefCell::new(None) };
}

/// Runs `poll` with `cancel` as the flag of the action polled on this thread.
pub(crate) fn polling<R>(cancel: &Cancel, poll: impl FnOnce() -> R) -> R {
    let before = POLLED.with(|polled| polled.replace(Some(cancel.clone())));
    let result = poll();
    POLLED.with(|polled| *polled.borrow_mut() = before);
    result
}

/// The flag of the action polled on this thread, if any.
pub(crate) fn polled() -> Option<Cancel> {
    POLLED.with(|polled| polled.borrow().clone())
}
