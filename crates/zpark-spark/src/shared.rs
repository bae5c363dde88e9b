//! Slices in flight share plans: the same built-in stage over the rows of several slices runs
//! as one Spark plan, whose rows carry each slice's tag and are cut back into slices.
//!
//! Why: on Spark a plan costs about the same for 1 000 rows as for 8 000 (the server's work
//! per plan, and per `LocalRelation` in it, dominates; BENCHMARKS.md row 9), so running plans
//! side by side on a small cluster barely adds throughput while one plan for several slices
//! does.
//!
//! How: at most `slices_in_flight` slices are on their way at once. Each joins a queue, then
//! waits for one of the `plans_at_once` turns; whoever gets a turn waits up to `linger` for
//! the queue to hold `slices_in_flight` slices (so that slices started together go together,
//! not one then the rest), then takes the oldest waiting
//! slice and every later one with the same stage and row type (up to `max_rows` rows in all),
//! runs them as one plan and answers each. A slice taken by another turn's plan gives its own
//! turn back at once. Any other plan (a chain of stages, a union) runs alone, in the same
//! queue. A failed plan (after the client's retries) is an error for each slice in it; none is
//! dropped.

use std::any::Any;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use tokio::sync::{oneshot, Notify, Semaphore};
use zpark::engine::StageOp;

use crate::codec;
use crate::registry::ErasedCodec;
use crate::relation::{self, Relation, Slices};
use crate::{SparkClient, SparkError};

type Answer = Result<Box<dyn Any + Send>, SparkError>;

/// What a slice asks the server for.
pub(crate) enum Work {
    /// A built-in stage over rows from the driver: shares a plan with the like of it.
    Stage(StageOp, RecordBatch),
    /// Any other plan: runs alone.
    Plan(Box<Relation>),
}

/// One slice's work, waiting for a plan.
struct Waiting {
    /// Which fetch this is.
    id: u64,
    part: Part,
    answer: oneshot::Sender<Answer>,
}

/// What a slice asks of a plan: its work, and how to decode its rows.
struct Part {
    work: Work,
    decoder: Arc<dyn ErasedCodec>,
}

impl Part {
    /// The stage and rows, when the work can share a plan.
    fn stage(&self) -> Option<(StageOp, &RecordBatch)> {
        match &self.work {
            Work::Stage(op, rows) => Some((*op, rows)),
            Work::Plan(_) => None,
        }
    }
}

/// The queue of slices waiting, and the turns to run plans.
pub(crate) struct Sharing {
    client: SparkClient,
    waiting: Mutex<Vec<Waiting>>,
    /// Told when a slice joins the queue.
    joined: Notify,
    in_flight: usize,
    linger: Duration,
    slices: Semaphore,
    /// Held by a plan's own task while it runs.
    turns: Arc<Semaphore>,
    max_rows: usize,
    next_id: AtomicU64,
    /// Plans run so far (for tests and the benchmark: slices per plan).
    plans: AtomicUsize,
}

impl Sharing {
    /// At most `slices` slices on their way, `plans` plans at once, `max_rows` rows a plan;
    /// a turn waits up to `linger` for the queue to fill.
    pub(crate) fn new(
        client: SparkClient,
        (slices, plans): (usize, usize),
        max_rows: usize,
        linger: Duration,
    ) -> Sharing {
        Sharing {
            client,
            waiting: Mutex::new(Vec::new()),
            joined: Notify::new(),
            in_flight: slices.max(1),
            linger,
            slices: Semaphore::new(slices.max(1)),
            turns: Arc::new(Semaphore::new(plans.max(1))),
            max_rows,
            next_id: AtomicU64::new(0),
            plans: AtomicUsize::new(0),
        }
    }

    /// How many plans have run so far.
    #[cfg(test)]
    pub(crate) fn plans(&self) -> usize {
        self.plans.load(Ordering::Relaxed)
    }

    /// The rows `work` gives, decoded by `decoder`: run in a plan of its own or shared with
    /// other slices waiting at the same time.
    ///
    /// A plan runs on a task of its own, holding its turn: a slice whose future is dropped
    /// (nobody waits for it) does not take with it the plan it shares with other slices. A
    /// plan whose slices are all dropped stops, and is interrupted on the server.
    pub(crate) async fn fetch(self: &Arc<Self>, work: Work, decoder: Arc<dyn ErasedCodec>) -> Answer {
        let _in_flight = self.slices.acquire().await;
        let (answer, answered) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Waiting {
            id,
            part: Part { work, decoder },
            answer,
        });
        self.joined.notify_waiters();
        if let Ok(turn) = Arc::clone(&self.turns).acquire_owned().await {
            // A slice that an earlier turn's plan took gives its turn back at once.
            if self.lock().iter().any(|w| w.id == id) {
                self.linger().await;
                let plan = self.take_plan();
                if !plan.is_empty() {
                    let sharing = Arc::clone(self);
                    let _ = tokio::spawn(async move {
                        sharing.run(plan).await;
                        drop(turn);
                    })
                    .await;
                }
            }
        }
        answered.await.unwrap_or_else(|_| {
            Err(SparkError::Server {
                url: self.client.url().to_string(),
                message: "the plan that held this slice was dropped before it answered".into(),
            })
        })
    }

    /// Waits until `in_flight` slices are queued, at most `linger`.
    async fn linger(&self) {
        let deadline = tokio::time::Instant::now() + self.linger;
        while self.lock().len() < self.in_flight && tokio::time::Instant::now() < deadline {
            let _ = tokio::time::timeout_at(deadline, self.joined.notified()).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        // A panic while holding the lock leaves a plain Vec behind: still usable.
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The oldest waiting slice and, when it can share, every later one with the same stage
    /// and row schema, up to `max_rows` rows in all (the first always).
    fn take_plan(&self) -> Vec<Waiting> {
        let mut waiting = self.lock();
        if waiting.is_empty() {
            return Vec::new();
        }
        let first = waiting.remove(0);
        let Some((op, rows)) = first.part.stage() else {
            return vec![first];
        };
        let (schema, mut total) = (rows.schema(), rows.num_rows());
        let mut taken = vec![first];
        let mut kept = Vec::new();
        for slice in waiting.drain(..) {
            match slice.part.stage() {
                Some((o, rows)) if o == op && rows.schema() == schema && total + rows.num_rows() <= self.max_rows => {
                    total += rows.num_rows();
                    taken.push(slice);
                }
                _ => kept.push(slice),
            }
        }
        *waiting = kept;
        taken
    }

    /// Runs one plan for the slices still waited for, and answers each; stops (the plan's
    /// future dropped, which interrupts it on the server) once none is waited for.
    async fn run(&self, slices: Vec<Waiting>) {
        let (parts, mut senders): (Vec<Part>, Vec<oneshot::Sender<Answer>>) = slices
            .into_iter()
            .filter(|slice| !slice.answer.is_closed())
            .map(|slice| (slice.part, slice.answer))
            .unzip();
        if parts.is_empty() {
            return;
        }
        let all_gone = futures::future::join_all(senders.iter_mut().map(oneshot::Sender::closed));
        let answers = tokio::select! {
            answers = self.answers(&parts) => answers,
            _ = all_gone => return,
        };
        for (sender, answer) in senders.into_iter().zip(answers) {
            let _ = sender.send(answer);
        }
    }

    /// Each part's answer, from one plan.
    async fn answers(&self, parts: &[Part]) -> Vec<Answer> {
        self.plans.fetch_add(1, Ordering::Relaxed);
        if let [part] = parts {
            return vec![self.run_one(part).await];
        }
        match self.run_tagged(parts).await {
            Ok(batches) => (0i64..)
                .zip(parts)
                .map(|(tag, part)| answer_of(part, &batches, tag))
                .collect(),
            Err(error) => parts.iter().map(|_| Err(error.clone())).collect(),
        }
    }

    async fn run_one(&self, part: &Part) -> Answer {
        let batches = match &part.work {
            Work::Stage(op, rows) => {
                let input = relation::from_batch(rows, self.max_rows)?;
                self.client.execute(&relation::stage(*op, input, Slices::One)).await?
            }
            Work::Plan(plan) => self.client.execute(plan).await?,
        };
        part.decoder.decode(&batches)
    }

    /// One plan for slices that [`take_plan`](Sharing::take_plan) found alike (the same
    /// stage over rows of the same schema): their rows tagged and concatenated.
    async fn run_tagged(&self, parts: &[Part]) -> Result<Vec<RecordBatch>, SparkError> {
        let tagged = (0i64..)
            .zip(parts)
            .filter_map(|(tag, part)| part.stage().map(|(_, rows)| codec::tagged(rows, tag)))
            .collect::<Result<Vec<_>, _>>()?;
        let (Some((op, _)), Some(first)) = (parts.first().and_then(Part::stage), tagged.first()) else {
            return Ok(Vec::new());
        };
        let all = arrow::compute::concat_batches(&first.schema(), &tagged).map_err(codec::arrow_error)?;
        let plan = relation::stage(op, relation::from_batch(&all, self.max_rows)?, Slices::Tagged);
        self.client.execute(&plan).await
    }
}

/// Slice `tag`'s rows of a shared plan's result, decoded. A count has a row even for an empty
/// slice (the shared plan's grouping has none for it).
fn answer_of(part: &Part, batches: &[RecordBatch], tag: i64) -> Answer {
    let rows = codec::untagged(batches, tag)?;
    let is_count = matches!(part.work, Work::Stage(StageOp::Count, _));
    if is_count && rows.iter().all(|b| b.num_rows() == 0) {
        return Ok(Box::new(vec![0u64]));
    }
    part.decoder.decode(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{codec, Options};

    fn decoder<T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static>() -> Arc<dyn ErasedCodec> {
        let mut registry = crate::registry::Registry::default();
        registry.register::<T>();
        registry
            .get(zpark::engine::DataType::of::<T>())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn sorted<T: Ord + 'static>(answer: Answer) -> Vec<T> {
        let mut rows = *answer
            .unwrap_or_else(|e| panic!("{e}"))
            .downcast::<Vec<T>>()
            .expect("rows of T");
        rows.sort();
        rows
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
    async fn slices_waiting_together_share_one_plan_and_get_their_own_rows() {
        let url = std::env::var("ZPARK_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".to_string());
        let client = SparkClient::connect(&url, Options::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let sharing = Arc::new(Sharing::new(client, (16, 1), 100_000, Duration::from_millis(20)));
        let slice = |k: u64| codec::to_batch(&(0..50 + k).map(|i| i % (k + 2)).collect::<Vec<u64>>());
        let counts = (0..6u64).map(|k| {
            let (sharing, rows) = (Arc::clone(&sharing), slice(k).unwrap_or_else(|e| panic!("{e}")));
            tokio::spawn(async move {
                sharing
                    .fetch(Work::Stage(StageOp::CountByValue, rows), decoder::<(u64, u64)>())
                    .await
            })
        });
        let empty = codec::to_batch::<u64>(&[]).unwrap_or_else(|e| panic!("{e}"));
        let sizes = [empty.clone(), slice(3).unwrap_or_else(|e| panic!("{e}")), empty]
            .into_iter()
            .map(|rows| {
                let sharing = Arc::clone(&sharing);
                tokio::spawn(async move { sharing.fetch(Work::Stage(StageOp::Count, rows), decoder::<u64>()).await })
            })
            .collect::<Vec<_>>();
        for (k, answer) in (0..6u64).zip(futures::future::join_all(counts).await) {
            let expected: Vec<(u64, u64)> = (0..k + 2)
                .map(|v| (v, (0..50 + k).filter(|i| i % (k + 2) == v).count() as u64))
                .collect();
            assert_eq!(sorted::<(u64, u64)>(answer.expect("task")), expected, "slice {k}");
        }
        let sizes: Vec<Vec<u64>> = futures::future::join_all(sizes)
            .await
            .into_iter()
            .map(|answer| sorted(answer.expect("task")))
            .collect();
        assert_eq!(
            sizes,
            vec![vec![0], vec![53], vec![0]],
            "an empty slice counts 0 in a shared plan too"
        );
        assert!(
            sharing.plans() < 9,
            "9 slices waiting together ran as {} plans",
            sharing.plans()
        );
    }
}
