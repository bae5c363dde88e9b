//! A connection to a Spark Connect server: bounded waits, plans run on tokio (several at once
//! on one connection), and bounded retries when the server goes away.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use serde::de::DeserializeOwned;
use spark_connect_core::{ChannelBuilder, RetryPolicy, SparkConnectClient};
use spark_connect_proto as proto;

use crate::codec;
use crate::relation::Relation;
use crate::stub::{KeepAlive, Stub};
use crate::SparkError;

/// How long a plan that ran out of time waits for the server to confirm its cancellation
/// before it is sent again (the interrupt goes on in the background).
const CANCEL_WAIT: Duration = Duration::from_secs(1);

/// How a [`SparkClient`] waits and retries.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let options = zpark_spark::Options { attempts: 2, ..Default::default() };
/// assert_eq!(options.connect_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How long the first answer of the server may take before the connection is given up.
    pub connect_timeout: Duration,
    /// How many times a plan is sent, at least, before a server that went away is an error (at
    /// least 1); see also `grace_period`.
    pub attempts: u32,
    /// How long a server may stay away: a plan whose server or connection went away is sent
    /// again (after the backoff) until `attempts` are spent *and* this long has passed since
    /// its first failure, so a restarted server (a `local[2]` one answers 6 to 15 s after it
    /// starts) gets the plan again instead of the slice failing. 60 s by default; zero makes
    /// `attempts` the only budget.
    pub grace_period: Duration,
    /// The wait before the first retry; it doubles at each retry, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// How long one attempt of a plan may take before it counts as lost (a stalled connection,
    /// a frozen server) and is sent again: 5 minutes by default, longer than any plan a slice
    /// should need.
    pub plan_timeout: Duration,
    /// How often the connection pings the server (HTTP/2 keep-alive) while it waits: 10 s by
    /// default.
    pub keep_alive_interval: Duration,
    /// How long a ping may go unanswered before the connection counts as lost and the plan is
    /// sent again: 20 s by default, so a frozen server or a dead link is a retry within half a
    /// minute, not at `plan_timeout`.
    pub keep_alive_timeout: Duration,
    /// `spark.sql.shuffle.partitions` for this session: Spark's default of 200 suits tables,
    /// not slices of a stream. `None` keeps the server's setting.
    pub shuffle_partitions: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_secs(10),
            attempts: 4,
            grace_period: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            plan_timeout: Duration::from_secs(300),
            keep_alive_interval: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(20),
            shuffle_partitions: Some(4),
        }
    }
}

/// A connection to one Spark Connect server. Cheap to clone: clones share the connection and
/// the session, and plans sent from several tasks run at once.
#[derive(Clone)]
pub struct SparkClient {
    url: String,
    /// The session (its id and user) and the calls made once, at connect.
    inner: Arc<SparkConnectClient>,
    /// The plans' calls, on a channel with keep-alive pings.
    stub: Stub,
    /// The number of the next plan attempt: each is tagged `zpark-<session>-<n>`, so that one
    /// that runs out of time can be interrupted on the server.
    attempts: Arc<AtomicU64>,
    /// The last plan's round trip, in nanoseconds (0 before any): for metrics.
    round_trip: Arc<AtomicU64>,
    /// Operations the server said it interrupted at our request.
    interrupted: Arc<AtomicU64>,
    options: Options,
}

/// Interrupts a plan's attempt on the server when dropped before [`disarm`](Self::disarm): the
/// attempt's future was dropped (its slice is not wanted any more), so the server should stop
/// running it.
struct InterruptOnDrop<'a> {
    client: &'a SparkClient,
    tag: Option<String>,
}

impl InterruptOnDrop<'_> {
    fn disarm(mut self) {
        self.tag = None;
    }
}

impl Drop for InterruptOnDrop<'_> {
    fn drop(&mut self) {
        let (Some(tag), Ok(runtime)) = (self.tag.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let client = self.client.clone();
        runtime.spawn(async move { client.cancel(&tag).await });
    }
}

impl std::fmt::Debug for SparkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkClient")
            .field("url", &self.url)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Why one attempt failed: worth another attempt, or not.
enum Failure {
    /// The server is unreachable or went away.
    Transient(String),
    /// The server answered with an error.
    Fatal(String),
}

impl From<spark_connect_core::SparkError> for Failure {
    fn from(error: spark_connect_core::SparkError) -> Self {
        const UNAVAILABLE: i32 = 14;
        let message = error.message.clone();
        match (error.kind, error.grpc_code) {
            (spark_connect_core::SparkErrorKind::Connect, _) | (_, Some(UNAVAILABLE)) => Failure::Transient(message),
            _ if says_connection_lost(&message) => Failure::Transient(message),
            _ => Failure::Fatal(message),
        }
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        let message = status.message().to_string();
        match status.code() {
            tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Aborted => Failure::Transient(message),
            // The connection broke under the answer (an h2 reset, a body cut short): the plan
            // itself may be fine.
            _ if lost_connection(&status) => Failure::Transient(message),
            _ => Failure::Fatal(message),
        }
    }
}

/// Whether a failed call lost its connection rather than being refused by the server: a
/// transport error under it, or the words of one from h2 or hyper.
fn lost_connection(status: &tonic::Status) -> bool {
    std::error::Error::source(status).is_some() || says_connection_lost(status.message())
}

/// Whether an error's message is h2's or hyper's for a connection that broke (what a call
/// says when the server was killed under it, before the client sees the socket closed).
fn says_connection_lost(message: &str) -> bool {
    [
        "h2 protocol error",
        "transport error",
        "connection reset",
        "broken pipe",
        "error reading a body",
    ]
    .iter()
    .any(|words| message.contains(words))
}

impl SparkClient {
    /// Connects to the server at `url` (`sc://HOST:PORT`) and waits for its first answer, at
    /// most `options.connect_timeout`.
    ///
    /// # Errors
    ///
    /// [`SparkError::Url`] for a URL that is not `sc://...`; [`SparkError::Unreachable`],
    /// naming the URL and the cause, when no server answers in time.
    pub async fn connect(url: &str, options: Options) -> Result<SparkClient, SparkError> {
        let builder = ChannelBuilder::parse(url).map_err(|e| SparkError::Url {
            url: url.to_string(),
            reason: e.message,
        })?;
        let unreachable = |cause: String| SparkError::Unreachable {
            url: url.to_string(),
            cause,
        };
        let mut inner = SparkConnectClient::connect(&builder)
            .await
            .map_err(|e| unreachable(e.message))?;
        // zpark retries whole plans itself, with its own bounds: no hour-long retries inside.
        inner.set_retry_policy(RetryPolicy {
            max_retries: Some(0),
            ..RetryPolicy::default()
        });
        let first_answer = async {
            match options.shuffle_partitions {
                Some(n) => inner.set_config("spark.sql.shuffle.partitions", &n.to_string()).await,
                None => inner.get_configs(&["spark.sql.shuffle.partitions"]).await.map(drop),
            }
        };
        match tokio::time::timeout(options.connect_timeout, first_answer).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(unreachable(error.message)),
            Err(_) => return Err(unreachable(format!("no answer within {:?}", options.connect_timeout))),
        }
        let keep_alive = KeepAlive {
            interval: options.keep_alive_interval,
            timeout: options.keep_alive_timeout,
        };
        let stub = Stub::new(&builder, options.connect_timeout, keep_alive).map_err(unreachable)?;
        Ok(SparkClient {
            url: url.to_string(),
            inner: Arc::new(inner),
            stub,
            attempts: Arc::new(AtomicU64::new(0)),
            round_trip: Arc::new(AtomicU64::new(0)),
            interrupted: Arc::new(AtomicU64::new(0)),
            options,
        })
    }

    /// How many operations the server confirmed it interrupted at this client's request: a
    /// plan past its time limit, or a plan whose future was dropped (a slice nobody waits for,
    /// a stream dropped while it ran). Clones share the count.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), zpark_spark::SparkError> {
    /// let client = zpark_spark::SparkClient::connect("sc://127.0.0.1:15002", Default::default()).await?;
    /// assert_eq!(client.operations_interrupted(), 0);
    /// # Ok(()) }
    /// ```
    pub fn operations_interrupted(&self) -> u64 {
        self.interrupted.load(Ordering::Relaxed)
    }

    /// The URL of the server.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `plan` and returns its rows as Arrow batches. A server that is unreachable or goes
    /// away during the plan gets the plan again, after a backoff that doubles each time, up to
    /// `options.attempts` attempts in all; the plan is read-only, so running it again cannot
    /// count anything twice.
    ///
    /// # Errors
    ///
    /// [`SparkError::Server`] when the server fails the plan (no retry: it would fail again);
    /// [`SparkError::RetriesExhausted`] when the server stayed away.
    pub async fn execute(&self, plan: &Relation) -> Result<Vec<RecordBatch>, SparkError> {
        let sent = std::time::Instant::now();
        let answer = self.retrying(|| self.execute_once(plan)).await;
        let took = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX).max(1);
        self.round_trip.store(took, Ordering::Relaxed);
        answer
    }

    /// How long the last plan took, from sent to answered (its retries included); `None`
    /// before any.
    pub fn last_round_trip(&self) -> Option<Duration> {
        match self.round_trip.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Asks the server to keep `plan`'s rows once computed (the Dataset's `persist`, at the
    /// server's default storage level), retrying as [`execute`](SparkClient::execute) does.
    ///
    /// # Errors
    ///
    /// As [`execute`](SparkClient::execute).
    pub async fn persist(&self, plan: &Relation) -> Result<(), SparkError> {
        let persist = proto::analyze_plan_request::Analyze::Persist(proto::analyze_plan_request::Persist {
            relation: Some(plan.clone()),
            storage_level: None,
        });
        self.retrying(|| self.analyze_once(persist.clone())).await.map(drop)
    }

    /// Asks the server to drop what [`persist`](SparkClient::persist) kept of `plan`.
    ///
    /// # Errors
    ///
    /// As [`execute`](SparkClient::execute).
    pub async fn unpersist(&self, plan: &Relation) -> Result<(), SparkError> {
        let unpersist = proto::analyze_plan_request::Analyze::Unpersist(proto::analyze_plan_request::Unpersist {
            relation: Some(plan.clone()),
            blocking: Some(false),
        });
        self.retrying(|| self.analyze_once(unpersist.clone())).await.map(drop)
    }

    /// Whether the server keeps `plan`'s rows in memory or on disk (after a
    /// [`persist`](SparkClient::persist) and an action that computed them).
    ///
    /// # Errors
    ///
    /// As [`execute`](SparkClient::execute).
    pub async fn is_persisted(&self, plan: &Relation) -> Result<bool, SparkError> {
        let level =
            proto::analyze_plan_request::Analyze::GetStorageLevel(proto::analyze_plan_request::GetStorageLevel {
                relation: Some(plan.clone()),
            });
        let response = self.retrying(|| self.analyze_once(level.clone())).await?;
        Ok(match response.result {
            Some(proto::analyze_plan_response::Result::GetStorageLevel(answer)) => answer
                .storage_level
                .is_some_and(|level| level.use_memory || level.use_disk),
            _ => false,
        })
    }

    /// Runs `attempt` until it succeeds, fails for good, or has failed for a transient cause
    /// `options.attempts` times and for longer than `options.grace_period`, waiting a doubling
    /// backoff (bounded) in between.
    async fn retrying<T, F, Fut>(&self, attempt: F) -> Result<T, SparkError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let attempts = self.options.attempts.max(1);
        let mut backoff = self.options.initial_backoff;
        let mut tried = 1;
        let mut first_failure = None;
        loop {
            match attempt().await {
                Ok(answer) => return Ok(answer),
                Err(Failure::Fatal(message)) => {
                    return Err(SparkError::Server {
                        url: self.url.clone(),
                        message,
                    })
                }
                Err(Failure::Transient(cause))
                    if tried >= attempts
                        && first_failure.get_or_insert_with(tokio::time::Instant::now).elapsed()
                            >= self.options.grace_period =>
                {
                    return Err(SparkError::RetriesExhausted {
                        url: self.url.clone(),
                        attempts: tried,
                        cause,
                    })
                }
                Err(Failure::Transient(_)) => {
                    first_failure.get_or_insert_with(tokio::time::Instant::now);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.options.max_backoff);
                    tried += 1;
                }
            }
        }
    }

    async fn analyze_once(
        &self,
        analyze: proto::analyze_plan_request::Analyze,
    ) -> Result<proto::AnalyzePlanResponse, Failure> {
        let request = proto::AnalyzePlanRequest {
            session_id: self.inner.session_id().to_string(),
            user_context: Some(self.user_context()),
            analyze: Some(analyze),
            ..Default::default()
        };
        let answer = tokio::time::timeout(self.options.plan_timeout, self.stub.analyze_plan(request));
        Ok(answer.await.map_err(|_| self.timed_out(None))??)
    }

    /// A plan attempt that took longer than `plan_timeout`: lost, to be sent again. What
    /// `cancelled` says of its cancellation on the server is part of the message.
    fn timed_out(&self, cancelled: Option<String>) -> Failure {
        let cancelled = cancelled.map_or(String::new(), |said| format!("; {said}"));
        Failure::Transient(format!(
            "no answer within {:?} (Options::plan_timeout): the connection stalled or the server froze{cancelled}",
            self.options.plan_timeout
        ))
    }

    /// Cancels the plan attempt tagged `tag` on the server, and says how it went. The interrupt
    /// runs on a task of its own (bounded by the connect timeout: a frozen server cannot take
    /// it either); the retry waits at most [`CANCEL_WAIT`] for its answer.
    async fn cancel(&self, tag: &str) -> String {
        let (stub, session, user, tag) = (
            self.stub.clone(),
            self.inner.session_id().to_string(),
            self.user_context(),
            tag.to_string(),
        );
        let limit = self.options.connect_timeout;
        let interrupt =
            tokio::spawn(async move { tokio::time::timeout(limit, stub.interrupt_tag(&session, user, &tag)).await });
        match tokio::time::timeout(CANCEL_WAIT, interrupt).await {
            Ok(Ok(Ok(Ok(ids)))) => {
                self.interrupted.fetch_add(ids.len() as u64, Ordering::Relaxed);
                format!("cancelled on the server ({} operation(s) interrupted)", ids.len())
            }
            Ok(Ok(Ok(Err(status)))) => format!("not cancelled on the server: {}", status.message()),
            Ok(Ok(Err(_))) => format!("not cancelled on the server: no answer to the interrupt within {limit:?}"),
            Ok(Err(joined)) => format!("not cancelled on the server: {joined}"),
            Err(_) => "an interrupt was sent to cancel it on the server (no answer yet)".to_string(),
        }
    }

    fn user_context(&self) -> proto::UserContext {
        proto::UserContext {
            user_id: self.inner.user_id().unwrap_or("zpark").to_string(),
            ..Default::default()
        }
    }

    /// Runs `plan` and decodes its rows into `T` (see [`codec`]).
    ///
    /// # Errors
    ///
    /// As [`execute`](SparkClient::execute), and [`SparkError::Schema`] naming `T` when the rows
    /// do not have its shape.
    pub async fn collect<T: DeserializeOwned>(&self, plan: &Relation) -> Result<Vec<T>, SparkError> {
        codec::from_batches(&self.execute(plan).await?)
    }

    async fn execute_once(&self, plan: &Relation) -> Result<Vec<RecordBatch>, Failure> {
        let tag = format!(
            "zpark-{}-{}",
            self.inner.session_id(),
            self.attempts.fetch_add(1, Ordering::Relaxed)
        );
        let request = proto::ExecutePlanRequest {
            session_id: self.inner.session_id().to_string(),
            user_context: Some(self.user_context()),
            plan: Some(proto::Plan {
                op_type: Some(proto::plan::OpType::Root(plan.clone())),
            }),
            tags: vec![tag.clone()],
            ..Default::default()
        };
        let pending = InterruptOnDrop {
            client: self,
            tag: Some(tag.clone()),
        };
        let answer = async {
            let mut responses = self.stub.execute_plan(request).await?;
            let mut batches = Vec::new();
            while let Some(response) = responses.message().await? {
                if let Some(proto::execute_plan_response::ResponseType::ArrowBatch(batch)) = response.response_type {
                    batches.extend(codec::from_ipc(&batch.data).map_err(|e| Failure::Fatal(e.to_string()))?);
                }
            }
            Ok(batches)
        };
        let outcome = tokio::time::timeout(self.options.plan_timeout, answer).await;
        pending.disarm();
        match outcome {
            Ok(outcome) => outcome,
            Err(_) => Err(self.timed_out(Some(self.cancel(&tag).await))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_lost_under_a_plan_is_retried_and_a_plan_error_is_not() {
        let reset = tonic::Status::unknown("h2 protocol error: error reading a body from connection");
        assert!(matches!(Failure::from(reset), Failure::Transient(_)));
        let analysis = tonic::Status::internal("[UNRESOLVED_COLUMN] A column `x` cannot be resolved");
        assert!(matches!(Failure::from(analysis), Failure::Fatal(_)));
        assert!(matches!(
            Failure::from(tonic::Status::unavailable("down")),
            Failure::Transient(_)
        ));
    }

    #[test]
    fn plans_have_a_time_limit_by_default() {
        assert_eq!(Options::default().plan_timeout, Duration::from_secs(300));
    }
}
