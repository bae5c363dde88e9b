//! The embedded engine: a rayon work-stealing pool inside this process.
//!
//! Partitions are shared by `Arc`, closures are plain Rust closures, nothing is serialized.

use super::{Backend, Job};

/// The backend of `Engine::local(n)`: `n` worker threads named `zpark-worker-i`.
///
/// # Examples
///
/// ```
/// use zpark::engine::{Backend, LocalBackend};
/// let backend = LocalBackend::new(2)?;
/// assert_eq!(backend.parallelism(), 2);
/// # Ok::<_, rayon::ThreadPoolBuildError>(())
/// ```
#[derive(Debug)]
pub struct LocalBackend {
    pool: rayon::ThreadPool,
    threads: usize,
}

impl LocalBackend {
    /// Starts a pool of `threads` worker threads (at least 1).
    ///
    /// ```
    /// let backend = zpark::engine::LocalBackend::new(2)?;
    /// # Ok::<_, rayon::ThreadPoolBuildError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// When the operating system refuses to start the threads.
    pub fn new(threads: usize) -> Result<LocalBackend, rayon::ThreadPoolBuildError> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("zpark-worker-{i}"))
            // Jobs catch their own panics; one that escapes is a bug, and must not abort the
            // process: its job's result is dropped and the action reports an internal error.
            .panic_handler(|_| {})
            .build()?;
        Ok(LocalBackend { pool, threads })
    }
}

impl Backend for LocalBackend {
    fn url(&self) -> String {
        format!("local[{}]", self.threads)
    }

    fn parallelism(&self) -> usize {
        self.threads
    }

    fn execute(&self, job: Job) {
        self.pool.spawn(job);
    }

    fn on_worker_thread(&self) -> bool {
        self.pool.current_thread_index().is_some()
    }
}
