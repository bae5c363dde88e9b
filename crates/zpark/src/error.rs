//! The one error type of zpark, grouped by who is at fault.
//!
//! Every variant carries what a user needs to act: which input, which slice, which operation.
//! Errors are `Clone` (I/O errors are shared behind an [`Arc`]) because a failed dataset can be
//! asked for its result more than once and must give the same answer each time.

use std::sync::Arc;

/// The result type of every fallible zpark operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, and where.
///
/// # Examples
///
/// ```
/// use zpark::prelude::*;
///
/// let err = Engine::connect("yarn").unwrap_err();
/// assert!(matches!(err, Error::UnknownEngineUrl { .. }));
/// assert!(err.to_string().contains("local[N]"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument that can never work, such as a window that is not a multiple of the slice
    /// interval. The message says what is allowed.
    #[error("invalid argument to {operation}: {problem}; {allowed}")]
    InvalidArgument {
        /// The operation that refused the argument.
        operation: &'static str,
        /// What is wrong with the value given.
        problem: String,
        /// What would be accepted.
        allowed: &'static str,
    },

    /// An engine URL that zpark does not know.
    #[error("unknown engine URL `{url}`: expected `local`, `local[N]` (N >= 1 worker threads), `local[*]` (one per core) or `SCHEME://...` of an engine registered in this program (`sc://HOST:PORT`: Apache Spark, crate `zpark-spark`)")]
    UnknownEngineUrl {
        /// The URL as given.
        url: String,
    },

    /// An engine that is known but cannot be used: not part of this build, or its server does
    /// not answer.
    #[error("engine `{url}` is not available: {reason}")]
    EngineUnavailable {
        /// The URL as given.
        url: String,
        /// Why, and what to do about it.
        reason: String,
    },

    /// An operation that the engine's cluster cannot run: a Rust closure where the cluster
    /// would have to call it (a custom reduce in a shuffle). Refused before any data is sent;
    /// the message names the built-in that would work.
    #[error(
        "`{operation}` with a Rust closure cannot run on {url}: the cluster would have to call the closure; {instead}"
    )]
    NotOnCluster {
        /// The operation refused.
        operation: &'static str,
        /// The engine's URL.
        url: String,
        /// What would work instead.
        instead: &'static str,
    },

    /// The engine's cluster failed a stage (it refused the plan, the data did not fit its types,
    /// or it stayed unreachable through the retries). `source` is the engine's own error (for
    /// the Spark engine a `zpark_spark::SparkError`, which a caller can downcast to).
    #[error("the cluster at {url} failed")]
    Cluster {
        /// The engine's URL.
        url: String,
        /// What the cluster (or the way to it) said.
        #[source]
        source: ClusterCause,
    },

    /// A user closure panicked while the engine ran it.
    #[error("the closure given to `{operation}` panicked: {message}")]
    ClosurePanicked {
        /// The operation whose closure panicked (`map`, `reduce_by_key`, ...).
        operation: &'static str,
        /// The panic message.
        message: String,
    },

    /// The computation of one slice failed; `source` says why.
    #[error("slice {index} failed")]
    Slice {
        /// The slice number, counted from 0 in the order the stream produced them.
        index: u64,
        /// What went wrong in that slice.
        #[source]
        source: Box<Error>,
    },

    /// Reading an input failed.
    #[error("cannot read {input}")]
    Io {
        /// The path, address or name of the input.
        input: String,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// A record of an input could not be parsed.
    #[error("{input}:{line}: cannot parse {record:?}: {reason}")]
    Parse {
        /// The path, address or name of the input.
        input: String,
        /// The line number, from 1.
        line: u64,
        /// The offending record (shortened when long).
        record: String,
        /// Why it was refused.
        reason: String,
    },

    /// Writing results to a sink failed.
    #[error("cannot write to {sink}")]
    Sink {
        /// The name of the sink.
        sink: String,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// A checkpoint that cannot be used: written by another pipeline shape, corrupt, of an
    /// unknown format version, or not writable. Never a silent restart from zero: the message
    /// says what differs and how to start over (`--reset`, `Checkpoint::reset`).
    #[error("checkpoint {dir}: {problem}")]
    Checkpoint {
        /// The checkpoint directory.
        dir: String,
        /// What is wrong, and what to do about it.
        problem: String,
    },

    /// A checkpointed run over a bounded input had finished (it reached the end of its input
    /// and wrote the windows that still held its last slices), and the input has grown since:
    /// reading on would write windows that contradict those already written. A refusal to use
    /// the checkpoint, as [`Error::Checkpoint`] is; the message says how to go on.
    #[error("checkpoint {dir}: the run finished after slice {slice} at the end of its input ({} lines, byte {}) and wrote its end-of-input windows; the input has grown since, and reading on would write windows that contradict them: reset the checkpoint to compute every window again over the whole input, or read the new part as a run of its own", .position.line, .position.offset)]
    InputGrewAfterEnd {
        /// The checkpoint directory.
        dir: String,
        /// The last slice the finished run committed (its end-of-input windows).
        slice: u64,
        /// Where the input ended when the run finished.
        position: crate::durable::SourcePosition,
    },

    /// A replayable input cannot be read again from the position a checkpoint recorded: the
    /// file was truncated, replaced or rotated away while the pipeline was stopped. A refusal
    /// to use the checkpoint, as [`Error::Checkpoint`] is.
    #[error("cannot resume reading {input}: {problem}")]
    PositionLost {
        /// The path of the input.
        input: String,
        /// What happened to it, and what to do about it.
        problem: String,
    },

    /// The environment cannot run what was asked (for example time-based slicing polled outside
    /// a tokio runtime).
    #[error("{0}")]
    Configuration(String),

    /// A bug in zpark itself: please report it.
    #[error("internal error (likely a bug in zpark, please report it): {0}")]
    Internal(String),
}

/// The cause of an [`Error::Cluster`]: the engine's own error, shared (errors are `Clone`).
///
/// # Examples
///
/// ```
/// let err = zpark::Error::cluster("sc://h:15002", std::io::Error::other("reset"));
/// if let zpark::Error::Cluster { source, .. } = &err {
///     let cause: &zpark::ClusterCause = source;
///     assert!(cause.downcast_ref::<std::io::Error>().is_some());
/// }
/// ```
pub type ClusterCause = Arc<dyn std::error::Error + Send + Sync>;

impl Error {
    /// A failure of the cluster at `url`, with the engine's own error (or a message) as its
    /// cause.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::error::Error as _;
    /// let err = zpark::Error::cluster("sc://h:15002", "the plan was refused");
    /// assert_eq!(err.to_string(), "the cluster at sc://h:15002 failed");
    /// assert_eq!(err.source().map(ToString::to_string).as_deref(), Some("the plan was refused"));
    /// ```
    pub fn cluster(url: impl Into<String>, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Cluster {
            url: url.into(),
            source: Arc::from(cause.into()),
        }
    }

    /// The error with every cause after it, each once: `slice 3 failed: cannot read app.log:
    /// No such file or directory (os error 2)`. (`Display` of an error shows only its own
    /// part, and `source()` the next, as the Rust API guidelines ask; this is the whole chain
    /// for a message.)
    ///
    /// # Examples
    ///
    /// ```
    /// let err = zpark::Error::cluster("sc://h:15002", "the plan was refused");
    /// assert_eq!(err.report().to_string(), "the cluster at sc://h:15002 failed: the plan was refused");
    /// ```
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }

    /// Wraps an I/O error with the input it came from.
    pub(crate) fn io(input: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            input: input.into(),
            source: Arc::new(source),
        }
    }

    /// A checkpoint problem in `dir`.
    pub(crate) fn checkpoint(dir: &std::path::Path, problem: impl Into<String>) -> Self {
        Error::Checkpoint {
            dir: dir.display().to_string(),
            problem: problem.into(),
        }
    }

    /// Attaches the slice number to an error.
    pub(crate) fn in_slice(self, index: u64) -> Self {
        Error::Slice {
            index,
            source: Box::new(self),
        }
    }

    /// The error without the slice context around it: the cause a user acts on.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::Error;
    /// let err = Error::Internal("x".into());
    /// assert!(matches!(err.root(), Error::Internal(_)));
    /// ```
    pub fn root(&self) -> &Error {
        match self {
            Error::Slice { source, .. } => source.root(),
            other => other,
        }
    }
}

/// An error with its causes, as [`Error::report`] shows it: each part once, joined by `: `.
///
/// # Examples
///
/// ```
/// let err = zpark::Error::cluster("sc://h:15002", "gone");
/// let report: zpark::Report<'_> = err.report();
/// assert_eq!(format!("zpark: {report}"), "zpark: the cluster at sc://h:15002 failed: gone");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Report<'a>(&'a Error);

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = std::error::Error::source(self.0);
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}
