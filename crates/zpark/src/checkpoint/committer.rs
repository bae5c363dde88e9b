//! The thread that makes each slice durable while the driver reads the next one.
//!
//! A commit is mostly waiting on the disk: the sink's `fsync`s, then the checkpoint's. A
//! checkpointed run hands that work, as an owned job, to one thread of its own and meanwhile
//! keeps reading and cutting the input into the next slice; it processes that slice only once
//! the commit is done. So the order that recovery relies on is kept (the sink's output of slice
//! `k` is durable before the checkpoint of `k`, which is durable before slice `k + 1` is
//! processed or written), and the disk's latency is hidden behind reading instead of added to
//! it. One thread per run, not one per commit: slices can be a few milliseconds apart.

use std::sync::mpsc;
use std::thread::JoinHandle;

use futures::channel::oneshot;

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send>;

/// One thread that runs jobs in the order they are given.
pub(super) struct Committer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the thread (named `zpark-commit`).
    pub(super) fn start() -> Result<Committer> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("zpark-commit".into())
            .spawn(move || inbox.into_iter().for_each(|job| job()))
            .map_err(|e| Error::Internal(format!("cannot start the commit thread: {e}")))?;
        Ok(Committer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `job` on the thread; the future gives its result.
    ///
    /// # Errors
    ///
    /// [`Error::Internal`] when the thread is gone or `job` panicked (its panic message is
    /// printed by the thread).
    pub(super) async fn run<R: Send + 'static>(&self, job: impl FnOnce() -> R + Send + 'static) -> Result<R> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The receiver is gone only when the run was dropped mid-commit: nobody to tell.
            let _ = done.send(job());
        });
        let gone =
            || Error::Internal("the commit thread stopped (a panic while writing a slice or its checkpoint)".into());
        self.jobs.as_ref().ok_or_else(gone)?.send(job).map_err(|_| gone())?;
        result.await.map_err(|_| gone())
    }
}

impl Drop for Committer {
    /// Lets the job in progress finish (a half-written commit is harmless, but an `fsync` in
    /// flight is better finished than abandoned), then joins the thread.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_off_the_callers_thread() {
        let committer = Committer::start().expect("thread");
        let caller = std::thread::current().id();
        let results = futures::executor::block_on(async {
            let first = committer.run(move || (1, std::thread::current().id() != caller));
            let second = committer.run(|| (2, true));
            (first.await, second.await)
        });
        assert_eq!(results.0.expect("first"), (1, true));
        assert_eq!(results.1.expect("second"), (2, true));
    }

    #[test]
    fn a_panicking_job_is_an_error_not_a_hang() {
        let committer = Committer::start().expect("thread");
        let outcome = futures::executor::block_on(committer.run(|| -> u8 { panic!("disk on fire") }));
        let error = outcome.expect_err("the panic is reported").to_string();
        assert!(error.contains("commit thread stopped"), "{error}");
    }
}
