//! Keeps tokio's paused clock from jumping ahead while the engine works (DESIGN.md, "Paused
//! clocks are exact").
//!
//! On a paused clock (`#[tokio::test(start_paused = true)]`, `tokio::time::pause`), tokio moves
//! time to the next timer as soon as its runtime has nothing to run. While an action runs on
//! the engine's threads, the task that awaits it has nothing to run, so without a hold the
//! clock would jump over slice boundaries in the middle of the work, and elements would land in
//! later slices than they arrived in. Tokio holds the clock for its own blocking work: a
//! `spawn_blocking` task inhibits the auto-advance from its spawn to its end (on the
//! current-thread runtime, the only one whose clock can be paused). A [`ClockHold`] is that:
//! one blocking task per runtime thread while any action awaited there is running, which waits
//! until the last hold is dropped, the awaiting future having taken the action's result.
//!
//! What it costs: nothing on a multi-thread runtime or outside tokio; on a current-thread
//! runtime, an action that is not finished when first polled starts the blocking task when no
//! other action holds the clock (a few microseconds, a pooled thread), and shares it otherwise.
//! The blocking task hands over to a fresh one every [`HAND_OVER`], so that a hold leaked past
//! the runtime's end (an action's future kept after its runtime is dropped) delays the
//! runtime's shutdown by that much at most instead of forever.

use std::cell::RefCell;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

/// How long one blocking task holds the clock before a fresh one takes over.
const HAND_OVER: Duration = Duration::from_millis(100);

/// The holds of one runtime thread.
#[derive(Default)]
struct Holds {
    state: Mutex<HoldState>,
}

#[derive(Default)]
struct HoldState {
    /// Actions awaited on this thread and still running.
    holders: usize,
    /// Dropped when the last holder goes: the blocking task then ends.
    release: Option<mpsc::Sender<()>>,
}

impl Holds {
    fn state(&self) -> MutexGuard<'_, HoldState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

thread_local! {
    static HOLDS: RefCell<Option<Arc<Holds>>> = const { RefCell::new(None) };
}

/// Held by the future that awaits an action while the action runs: tokio's paused clock does
/// not advance on its own meanwhile. See the [module docs](self).
pub(crate) struct ClockHold(Option<Arc<Holds>>);

impl ClockHold {
    /// Holds the clock of the current-thread runtime this is called on; nothing elsewhere.
    pub(crate) fn new() -> ClockHold {
        let Ok(handle) = Handle::try_current() else {
            return ClockHold(None);
        };
        if handle.runtime_flavor() != RuntimeFlavor::CurrentThread {
            return ClockHold(None);
        }
        let holds = HOLDS.with(|holds| Arc::clone(holds.borrow_mut().get_or_insert_with(Default::default)));
        let mut state = holds.state();
        state.holders += 1;
        if state.holders == 1 {
            let (release, released) = mpsc::channel();
            state.release = Some(release);
            hold_until(&handle, released);
        }
        drop(state);
        ClockHold(Some(holds))
    }
}

impl Drop for ClockHold {
    fn drop(&mut self) {
        let Some(holds) = self.0.take() else { return };
        let mut state = holds.state();
        state.holders = state.holders.saturating_sub(1);
        if state.holders == 0 {
            // The blocking task's `recv` ends: the clock may move again.
            state.release = None;
        }
    }
}

/// A blocking task on `handle` that lasts until `released` is dropped, handing over to a
/// fresh one every [`HAND_OVER`] (the fresh one is spawned before this one ends, so that the
/// clock stays held across the hand-over; after the runtime's shutdown no fresh one runs).
fn hold_until(handle: &Handle, released: mpsc::Receiver<()>) {
    let runtime = handle.clone();
    drop(handle.spawn_blocking(move || {
        if let Err(RecvTimeoutError::Timeout) = released.recv_timeout(HAND_OVER) {
            hold_until(&runtime, released);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_paused_clock_stays_while_a_hold_lasts() {
        let start = tokio::time::Instant::now();
        let hold = ClockHold::new();
        // Real time passes in another thread while this task sleeps on the paused clock: a
        // sleep of 1 s would end at once (auto-advance) were the clock not held.
        let (sender, receiver) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(250));
            drop(hold);
            let _ = sender.send(());
        });
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => panic!("the clock moved while held"),
            _ = receiver => {}
        }
        assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
        // Released, it moves again.
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(start.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn on_a_multi_thread_runtime_nothing_is_held() {
        assert!(ClockHold::new().0.is_none());
    }
}
