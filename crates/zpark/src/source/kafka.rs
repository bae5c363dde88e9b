//! A Kafka topic as a source (feature `kafka`): every partition read from an offset, as Spark
//! Streaming's direct Kafka stream and Flink's `KafkaSource` read them, with no consumer group.
//! Where the stream stands is the next offset of each partition ([`KafkaPositions`]): the
//! caller keeps it (a checkpoint), and a restart reads on from there
//! ([`StartAt::Offsets`]).
//!
//! The client is [`rskafka`](https://docs.rs/rskafka) (pure Rust, InfluxData), which fetches a
//! partition from an offset and leaves offset tracking to its user: the shape of a direct
//! stream. A fetch's records come as one [`KafkaBatch`], so a slice is made of batches without
//! a poll per record (as file sources hand over blocks of lines); [`Kafka::records`] gives
//! them one by one.
//!
//! Errors say which broker, topic and partition: a broker that does not answer within the
//! connect timeout, a topic that does not exist (with the topics there), offsets that retention
//! has deleted. A broker that goes away mid-stream is retried with backoff for the grace
//! period ([`Kafka::grace`]) before the stream ends with an error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{BoxStream, Stream, StreamExt};
use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::BackoffConfig;
use tokio::sync::mpsc;

use crate::durable::{Positioned, SourcePosition};
use crate::error::{Error, Result};

/// The next offset to read of each partition: where a Kafka stream stands.
pub type KafkaPositions = BTreeMap<i32, i64>;

/// Where a [`Kafka`] stream starts in each partition.
///
/// # Examples
///
/// ```
/// use zpark::source::StartAt;
/// let resume = StartAt::Offsets([(0, 42), (1, 7)].into());
/// assert_ne!(resume, StartAt::Earliest);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest record the broker still keeps.
    Earliest,
    /// After the last record there now: only records produced from now on.
    Latest,
    /// These offsets (a checkpoint's); a partition without one starts at its earliest record,
    /// as a partition added to the topic later does.
    Offsets(KafkaPositions),
}

impl StartAt {
    /// Where a checkpointed stream resumes: the partitions' next offsets that `position` (a
    /// checkpoint's) holds, or `fresh` when it holds none (nothing committed yet).
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::SourcePosition;
    /// use zpark::source::StartAt;
    /// assert_eq!(StartAt::resume(&SourcePosition::default(), StartAt::Latest), StartAt::Latest);
    /// let mut after = SourcePosition::default();
    /// after.partitions.insert(0, 42);
    /// assert_eq!(StartAt::resume(&after, StartAt::Latest), StartAt::Offsets([(0, 42)].into()));
    /// ```
    pub fn resume(position: &SourcePosition, fresh: StartAt) -> StartAt {
        match position.partitions.is_empty() {
            true => fresh,
            false => StartAt::Offsets(position.partitions.clone()),
        }
    }
}

/// One record of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaRecord {
    /// Its partition.
    pub partition: i32,
    /// Its offset in the partition.
    pub offset: i64,
    /// Its timestamp, milliseconds since the Unix epoch (the producer's or the broker's).
    pub timestamp_ms: i64,
    /// Its key, if any.
    pub key: Option<Vec<u8>>,
    /// Its value, if any.
    pub value: Option<Vec<u8>>,
}

/// The records of one fetch from one partition, in offset order, and where the partition
/// stands after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaBatch {
    /// The partition.
    pub partition: i32,
    /// The records, in offset order.
    pub records: Vec<KafkaRecord>,
    /// The next offset to read in the partition after this batch.
    pub next_offset: i64,
    /// The partition's high watermark when fetched: `high_watermark - next_offset` records
    /// were waiting behind this batch (the consumer lag).
    pub high_watermark: i64,
}

impl KafkaBatch {
    /// Moves `position` past this batch: its partition's next offset, and its records
    /// counted in `position.line`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::SourcePosition;
    /// use zpark::source::{KafkaBatch, KafkaRecord};
    /// let record = KafkaRecord { partition: 1, offset: 7, timestamp_ms: 0, key: None, value: None };
    /// let batch = KafkaBatch { partition: 1, records: vec![record], next_offset: 8, high_watermark: 8 };
    /// let mut position = SourcePosition::default();
    /// batch.advance(&mut position);
    /// assert_eq!((position.partitions[&1], position.line), (8, 1));
    /// ```
    pub fn advance(&self, position: &mut SourcePosition) {
        position.partitions.insert(self.partition, self.next_offset);
        position.line += self.records.len() as u64;
    }
}

/// A topic to read: made by [`kafka`] or [`Kafka::new`], read by [`Kafka::batches`] or
/// [`Kafka::records`].
///
/// # Examples
///
/// ```
/// let topic = zpark::source::kafka("kafka://127.0.0.1:9092/events")?
///     .start_at(zpark::source::StartAt::Earliest)
///     .until_end();
/// assert_eq!(topic.name(), "kafka://127.0.0.1:9092/events");
/// # Ok::<_, zpark::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Kafka {
    brokers: Vec<String>,
    topic: String,
    start: StartAt,
    bounded: bool,
    connect_timeout: Duration,
    grace: Duration,
    max_wait: Duration,
    fetch_bytes: i32,
}

/// The topic at `url`: `kafka://HOST:PORT[,HOST:PORT...]/TOPIC`.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a URL of another form, saying which.
///
/// # Examples
///
/// ```
/// assert!(zpark::source::kafka("kafka://h1:9092,h2:9092/logs").is_ok());
/// let error = zpark::source::kafka("kafka://h1:9092").unwrap_err();
/// assert!(error.to_string().contains("kafka://HOST:PORT/TOPIC"), "{error}");
/// ```
pub fn kafka(url: &str) -> Result<Kafka> {
    let invalid = |problem: String| Error::InvalidArgument {
        operation: "kafka",
        problem,
        allowed: "kafka://HOST:PORT/TOPIC (several brokers separated by commas)",
    };
    let rest = url
        .strip_prefix("kafka://")
        .ok_or_else(|| invalid(format!("`{url}` does not start with kafka://")))?;
    let (brokers, topic) = rest
        .split_once('/')
        .ok_or_else(|| invalid(format!("`{url}` names no topic")))?;
    let brokers: Vec<String> = brokers.split(',').map(str::to_string).collect();
    if topic.is_empty() || topic.contains('/') || brokers.iter().any(|b| !b.contains(':')) {
        return Err(invalid(format!("`{url}` is not a broker list and one topic")));
    }
    Ok(Kafka::new(brokers, topic))
}

impl Kafka {
    /// The topic `topic` on the brokers `brokers` (`HOST:PORT` each), from its earliest
    /// records, followed for ever.
    ///
    /// # Examples
    ///
    /// ```
    /// let topic = zpark::source::Kafka::new(vec!["127.0.0.1:9092".into()], "events");
    /// assert_eq!(topic.name(), "kafka://127.0.0.1:9092/events");
    /// ```
    pub fn new(brokers: Vec<String>, topic: &str) -> Kafka {
        Kafka {
            brokers,
            topic: topic.to_string(),
            start: StartAt::Earliest,
            bounded: false,
            connect_timeout: Duration::from_secs(10),
            grace: Duration::from_secs(30),
            max_wait: Duration::from_millis(100),
            fetch_bytes: 4 << 20,
        }
    }

    /// Where to start in each partition (by default the earliest records).
    pub fn start_at(mut self, start: StartAt) -> Kafka {
        self.start = start;
        self
    }

    /// Ends the stream once every partition has been read to its end: a fetch that waited
    /// for records brought none (a batch over what the topic holds, as a file is read to its
    /// end; records produced while it reads may be in it). By default the topic is followed
    /// for ever.
    pub fn until_end(mut self) -> Kafka {
        self.bounded = true;
        self
    }

    /// How long a broker has to answer the first time (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Kafka {
        self.connect_timeout = timeout;
        self
    }

    /// How long a broker that went away mid-stream is retried, with backoff, before the stream
    /// ends with an error (30 s by default): a broker restarted within it loses nothing.
    pub fn grace(mut self, grace: Duration) -> Kafka {
        self.grace = grace;
        self
    }

    /// `kafka://BROKERS/TOPIC`: how errors name this input.
    pub fn name(&self) -> String {
        format!("kafka://{}/{}", self.brokers.join(","), self.topic)
    }

    /// The topic's records as batches, one per fetch from a partition; the partitions are read
    /// at once (a task each), each in offset order. An error (a broker gone for longer than the
    /// grace period, deleted offsets) is the stream's last item.
    pub fn batches(self) -> BoxStream<'static, Result<KafkaBatch>> {
        let (sender, receiver) = mpsc::channel::<Result<KafkaBatch>>(16);
        let reading = tokio::spawn(async move {
            if let Err(error) = self.read_into(&sender).await {
                let _ = sender.send(Err(error)).await;
            }
        });
        let batches = futures::stream::unfold((receiver, AbortOnDrop(reading)), |(mut receiver, task)| async move {
            let batch = receiver.recv().await?;
            Some((batch, (receiver, task)))
        });
        batches.boxed()
    }

    /// The topic's batches from `from` on (a checkpoint's position; the start given to
    /// [`start_at`](Kafka::start_at) when it holds no offsets), each with the position after
    /// it: the input of [`Run::run`](crate::checkpoint::Run::run), whose slices then end at
    /// batch boundaries and whose checkpoint keeps the next offset of every partition. A run
    /// killed at any moment resumes from the offsets of its last committed slice: with
    /// [`SliceFiles`](crate::sink::SliceFiles), every record is in exactly one committed slice.
    pub fn positioned(
        self,
        from: SourcePosition,
    ) -> impl Stream<Item = Result<Positioned<KafkaBatch>>> + Send + 'static {
        let start = StartAt::resume(&from, self.start.clone());
        self.start_at(start).batches().scan(from, |position, batch| {
            let positioned = batch.map(|batch| {
                batch.advance(position);
                Positioned {
                    item: batch,
                    end: position.clone(),
                }
            });
            futures::future::ready(Some(positioned))
        })
    }

    /// The topic's records one by one (see [`batches`](Kafka::batches)).
    pub fn records(self) -> impl Stream<Item = Result<KafkaRecord>> + Send + 'static {
        self.batches().flat_map(|batch| {
            let records: Vec<Result<KafkaRecord>> = match batch {
                Ok(batch) => batch.records.into_iter().map(Ok).collect(),
                Err(error) => vec![Err(error)],
            };
            futures::stream::iter(records)
        })
    }

    /// Connects, finds the partitions, and reads each on a task of its own into `sender`.
    async fn read_into(self, sender: &mpsc::Sender<Result<KafkaBatch>>) -> Result<()> {
        let name = self.name();
        let client = self.connect().await?;
        let partitions = self.partitions(&client).await?;
        let this = Arc::new(self);
        let mut readers = Vec::new();
        for partition in partitions {
            let (this, sender, client) = (Arc::clone(&this), sender.clone(), Arc::clone(&client));
            readers.push(tokio::spawn(async move {
                if let Err(error) = this.read_partition(&client, partition, &sender).await {
                    let _ = sender.send(Err(error)).await;
                }
            }));
        }
        for reader in readers {
            reader
                .await
                .map_err(|e| Error::Internal(format!("a reader of {name} stopped: {e}")))?;
        }
        Ok(())
    }

    fn io_error(&self, what: String) -> Error {
        Error::Io {
            input: self.name(),
            source: Arc::new(std::io::Error::other(what)),
        }
    }

    /// The topic's name on its brokers.
    pub(crate) fn topic(&self) -> &str {
        &self.topic
    }

    /// A client of the brokers, within the connect timeout.
    pub(crate) async fn connect(&self) -> Result<Arc<Client>> {
        let backoff = BackoffConfig {
            deadline: Some(self.grace),
            ..BackoffConfig::default()
        };
        let building = ClientBuilder::new(self.brokers.clone()).backoff_config(backoff).build();
        match tokio::time::timeout(self.connect_timeout, building).await {
            Ok(Ok(client)) => Ok(Arc::new(client)),
            Ok(Err(error)) => Err(self.io_error(format!("cannot connect to the broker: {error}"))),
            Err(_) => Err(self.io_error(format!(
                "no broker answered within {:?} (connect timeout): is it running, and is this its address?",
                self.connect_timeout
            ))),
        }
    }

    /// The topic's partitions, or an error naming the topics there.
    pub(crate) async fn partitions(&self, client: &Client) -> Result<Vec<i32>> {
        let topics = client
            .list_topics()
            .await
            .map_err(|error| self.io_error(format!("cannot list the topics: {error}")))?;
        match topics.iter().find(|topic| topic.name == self.topic) {
            Some(topic) => Ok(topic.partitions.iter().copied().collect()),
            None => {
                let there: Vec<&str> = topics.iter().map(|topic| topic.name.as_str()).collect();
                Err(self.io_error(format!(
                    "the topic `{}` does not exist (the topics there: {})",
                    self.topic,
                    if there.is_empty() {
                        "none".to_string()
                    } else {
                        there.join(", ")
                    }
                )))
            }
        }
    }

    /// Reads `partition` from its start into `sender`, until its end for a bounded stream.
    async fn read_partition(
        &self,
        client: &Client,
        partition: i32,
        sender: &mpsc::Sender<Result<KafkaBatch>>,
    ) -> Result<()> {
        let at = |what: &str, error: rskafka::client::error::Error| {
            self.io_error(format!("partition {partition}: {what}: {error}"))
        };
        let reader = client
            .partition_client(self.topic.clone(), partition, UnknownTopicHandling::Error)
            .await
            .map_err(|e| at("cannot reach it", e))?;
        let earliest = reader
            .get_offset(OffsetAt::Earliest)
            .await
            .map_err(|e| at("earliest offset", e))?;
        let mut offset = match &self.start {
            StartAt::Earliest => earliest,
            // A bounded stream from the end has nothing to read.
            StartAt::Latest if self.bounded => return Ok(()),
            StartAt::Latest => reader
                .get_offset(OffsetAt::Latest)
                .await
                .map_err(|e| at("latest offset", e))?,
            StartAt::Offsets(offsets) => offsets.get(&partition).copied().unwrap_or(earliest),
        };
        if offset < earliest {
            return Err(self.io_error(format!(
                "partition {partition}: offsets {offset} to {} were deleted by the broker's retention before they were read; {} records are lost",
                earliest - 1,
                earliest - offset
            )));
        }
        loop {
            let fetched = self.fetch(&reader, offset).await.map_err(|e| at("fetch", e))?;
            let Some(batch) = fetched else {
                if self.bounded {
                    return Ok(()); // Caught up with the partition's end.
                }
                continue;
            };
            offset = batch.next_offset;
            if sender.send(Ok(batch)).await.is_err() {
                return Ok(()); // Nobody reads any more.
            }
        }
    }

    /// One fetch of whole record batches from `offset` (a batch's start: a position this
    /// source gave, or a partition's earliest or latest offset); `None` when none came (the
    /// broker waited `max_wait` for one). A bounded stream ends there: it has caught up with
    /// the partition's end.
    ///
    /// Only whole batches are taken, and a stream goes on at the offset after a batch's last
    /// record: tansu 0.6, the test broker, answers a fetch from inside a batch with the
    /// batches that start at or after it (Kafka answers with the batch that holds it), and its
    /// latest offsets were seen one batch short, so neither is relied on.
    async fn fetch(
        &self,
        reader: &PartitionClient,
        offset: i64,
    ) -> std::result::Result<Option<KafkaBatch>, rskafka::client::error::Error> {
        let max_wait = i32::try_from(self.max_wait.as_millis()).unwrap_or(i32::MAX);
        let (records, high_watermark) = reader.fetch_records(offset, 1..self.fetch_bytes, max_wait).await?;
        let partition = reader.partition();
        // Offsets only go up: a record at or before one taken is left out (tansu 0.6 was
        // seen to answer with a batch and, after it, a part of it again).
        let mut next = offset;
        let records: Vec<KafkaRecord> = records
            .into_iter()
            .filter(|record| {
                let new = record.offset >= next;
                next = next.max(record.offset + 1);
                new
            })
            .map(|record| KafkaRecord {
                partition,
                offset: record.offset,
                timestamp_ms: record.record.timestamp.timestamp_millis(),
                key: record.record.key,
                value: record.record.value,
            })
            .collect();
        let Some(last) = records.last() else { return Ok(None) };
        Ok(Some(KafkaBatch {
            partition,
            next_offset: last.offset + 1,
            high_watermark: high_watermark.max(last.offset + 1),
            records,
        }))
    }
}

/// Aborts the reading task when the stream is dropped: no task outlives its stream.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_brokers_and_one_topic() -> Result<()> {
        let topic = kafka("kafka://a:1,b:2/t")?;
        assert_eq!(topic.brokers, vec!["a:1".to_string(), "b:2".to_string()]);
        assert_eq!(topic.topic, "t");
        for bad in [
            "http://a:1/t",
            "kafka://a:1",
            "kafka://a:1/",
            "kafka://a/t",
            "kafka://a:1/t/u",
        ] {
            assert!(kafka(bad).is_err(), "{bad}");
        }
        Ok(())
    }
}
