//! What can go wrong between zpark and a Spark Connect server, by who is at fault.

/// The errors of the Spark Connect layer. `Clone`, like `zpark::Error`, so that a failed
/// slice answers the same way twice.
///
/// # Examples
///
/// ```
/// let error = zpark_spark::SparkError::Unreachable {
///     url: "sc://127.0.0.1:15002".into(),
///     cause: "connection refused".into(),
/// };
/// assert!(error.to_string().contains("sc://127.0.0.1:15002"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SparkError {
    /// The URL is not a Spark Connect URL.
    #[error("`{url}` is not a Spark Connect URL: {reason} (expected sc://HOST:PORT, e.g. sc://127.0.0.1:15002)")]
    Url {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// No server answered at the URL in time.
    #[error("cannot reach the Spark Connect server at {url}: {cause} (is a server running at {url}? scripts/spark-server.sh start runs one on 127.0.0.1:15002)")]
    Unreachable {
        /// The URL.
        url: String,
        /// What the connection attempt said.
        cause: String,
    },

    /// The server went away and did not come back within the retries and the grace period.
    #[error("gave up on the Spark Connect server at {url} after {attempts} attempts (the server or the connection was lost each time): {cause}")]
    RetriesExhausted {
        /// The URL.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        cause: String,
    },

    /// The server refused or failed the plan.
    #[error("the Spark Connect server at {url} failed the plan itself (not retried: it would fail again): {message}")]
    Server {
        /// The URL.
        url: String,
        /// The server's message.
        message: String,
    },

    /// A Rust type whose values cannot travel as Arrow data to Spark.
    #[error("type `{type_name}` cannot travel to Spark as Arrow data: {reason}")]
    Schema {
        /// The Rust type.
        type_name: &'static str,
        /// Why not.
        reason: String,
    },
}
