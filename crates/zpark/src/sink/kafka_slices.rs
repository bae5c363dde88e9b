//! A Kafka topic as the sink of a checkpointed run (feature `kafka`): each slice's output lines
//! as records of one partition, in order, each marked with its slice and line so that a reader
//! drops what a resumed run wrote again.

use std::collections::BTreeMap;
use std::sync::Arc;

use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::record::Record;
use tokio::runtime::Handle;

use super::slice_files::{PendingWrite, SliceSink};
use crate::error::{Error, Result};
use crate::source::Kafka;

/// The header of each record that holds its slice's number.
pub const SLICE_HEADER: &str = "zpark-slice";
/// The header of each record that holds its line's number in the slice (from 1; 0 for the
/// marker of an empty slice).
pub const LINE_HEADER: &str = "zpark-line";
/// The header of each record that holds how many lines its slice has.
pub const LINES_HEADER: &str = "zpark-lines";

/// Writes each slice's output lines to partition 0 of a topic: a record per line, its key the
/// slice's number, its headers [`SLICE_HEADER`], [`LINE_HEADER`] and [`LINES_HEADER`]; an empty
/// slice is one record with no value and 0 lines, so that a reader sees every slice.
///
/// **At least once.** A slice is written, then the checkpoint records it; a run killed between
/// the two writes the slice again when it resumes (the same lines: stages are deterministic).
/// A reader drops a record whose (slice, line) it has seen. rskafka, the client, has neither
/// idempotent nor transactional producers, so exactly-once delivery to the topic itself is not
/// offered.
///
/// The records are sent on the run's commit thread (`Handle::block_on` on the runtime that
/// opened the sink), so that the driver goes on reading meanwhile.
///
/// # Examples
///
/// ```no_run
/// # #[tokio::main] async fn main() -> zpark::Result<()> {
/// let sink = zpark::sink::KafkaSlices::open(zpark::source::kafka("kafka://127.0.0.1:9092/results")?).await?;
/// # drop(sink); Ok(()) }
/// ```
pub struct KafkaSlices {
    partition: Arc<PartitionClient>,
    runtime: Handle,
    name: String,
}

impl std::fmt::Debug for KafkaSlices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSlices")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl KafkaSlices {
    /// Connects to the topic (which must exist) on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::Sink`] naming the topic when no broker answers within the connect timeout or
    /// the topic does not exist.
    pub async fn open(topic: Kafka) -> Result<KafkaSlices> {
        let name = topic.name();
        let cannot = |error: Error| Error::Sink {
            sink: name.clone(),
            source: Arc::new(std::io::Error::other(error.report().to_string())),
        };
        let client = topic.connect().await.map_err(cannot)?;
        let partitions = topic.partitions(&client).await.map_err(cannot)?;
        if !partitions.contains(&0) {
            return Err(cannot(Error::Internal("the topic has no partition 0".into())));
        }
        let partition = client
            .partition_client(topic.topic().to_string(), 0, UnknownTopicHandling::Error)
            .await
            .map_err(|error| cannot(Error::Internal(format!("partition 0: {error}"))))?;
        Ok(KafkaSlices {
            partition: Arc::new(partition),
            runtime: Handle::current(),
            name,
        })
    }

    /// The records of slice `slice`.
    fn records(slice: u64, lines: &[String]) -> Vec<Record> {
        let record = |line: u64, value: Option<Vec<u8>>| Record {
            key: Some(slice.to_string().into_bytes()),
            value,
            headers: BTreeMap::from([
                (SLICE_HEADER.to_string(), slice.to_string().into_bytes()),
                (LINE_HEADER.to_string(), line.to_string().into_bytes()),
                (LINES_HEADER.to_string(), lines.len().to_string().into_bytes()),
            ]),
            timestamp: now(),
        };
        if lines.is_empty() {
            return vec![record(0, None)];
        }
        (1..)
            .zip(lines)
            .map(|(number, line)| record(number, Some(line.clone().into_bytes())))
            .collect()
    }
}

/// Now, as the records' timestamp.
fn now() -> rskafka::chrono::DateTime<rskafka::chrono::Utc> {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let millis = i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX);
    rskafka::chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

impl SliceSink for KafkaSlices {
    /// Writes slice `slice` and waits for the broker's acknowledgement (on a thread of its own:
    /// the caller may be a runtime's thread).
    fn write_slice(&mut self, slice: u64, lines: &[String]) -> Result<()> {
        let pending = self.begin_slice(slice, lines)?;
        std::thread::scope(|scope| scope.spawn(pending).join()).map_err(|_| Error::Sink {
            sink: self.name.clone(),
            source: Arc::new(std::io::Error::other("the write panicked")),
        })?
    }

    fn begin_slice(&mut self, slice: u64, lines: &[String]) -> Result<PendingWrite> {
        let records = KafkaSlices::records(slice, lines);
        let (partition, runtime, name) = (Arc::clone(&self.partition), self.runtime.clone(), self.name.clone());
        Ok(Box::new(move || {
            runtime
                .block_on(partition.produce(records, Compression::NoCompression))
                .map(|_| ())
                .map_err(|error| Error::Sink {
                    sink: name,
                    source: Arc::new(std::io::Error::other(format!("slice {slice}: {error}"))),
                })
        }))
    }
}
