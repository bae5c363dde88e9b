//! `zpark::source::kafka` against a real Kafka-protocol broker (tansu, started by
//! `scripts/kafka-broker.sh` on 127.0.0.1; `scripts/test.sh` runs these `#[ignore]`d tests with
//! `ZPARK_KAFKA_BROKER` and `ZPARK_KAFKA_PYTHON` set). The records are produced by an
//! independent client, pip's `confluent-kafka` (librdkafka), and read back by zpark.
#![cfg(feature = "kafka")]

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use zpark::prelude::*;
use zpark::source::{kafka, KafkaBatch, KafkaRecord, StartAt};

fn broker() -> String {
    std::env::var("ZPARK_KAFKA_BROKER").expect("ZPARK_KAFKA_BROKER=127.0.0.1:PORT (scripts/kafka-broker.sh start)")
}

/// Runs `script` with confluent-kafka, the broker's address as `BROKER`.
fn python(script: &str) -> String {
    let python = std::env::var("ZPARK_KAFKA_PYTHON").expect("ZPARK_KAFKA_PYTHON (scripts/kafka-broker.sh python)");
    let output = Command::new(python)
        .arg("-c")
        .arg(format!("BROKER = {:?}\n{script}", broker()))
        .output()
        .expect("python");
    assert!(
        output.status.success(),
        "confluent-kafka failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A new topic of `partitions` partitions (a name of its own per test and process).
fn topic(name: &str, partitions: u32) -> String {
    let topic = format!("{name}-{}", std::process::id());
    python(&format!(
        r#"
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({{"bootstrap.servers": BROKER}})
for future in admin.create_topics([NewTopic({topic:?}, {partitions}, 1)]).values():
    future.result(30)
"#
    ));
    topic
}

/// Produces lines `from..to` as `k{{i % 37}} {{i}}`, keyed by the first word (so spread over
/// the partitions), and waits until every one is acknowledged.
fn produce(topic: &str, from: u64, to: u64) {
    python(&format!(
        r#"
from confluent_kafka import Producer
producer = Producer({{"bootstrap.servers": BROKER, "linger.ms": 5}})
failed = []
for i in range({from}, {to}):
    key = "k%d" % (i % 37)
    producer.produce({topic:?}, key=key, value="%s %d" % (key, i), on_delivery=lambda e, m: e and failed.append(e))
    producer.poll(0)
producer.flush(60)
assert not failed, failed
"#
    ));
}

fn line(i: u64) -> String {
    format!("k{} {i}", i % 37)
}

fn value(record: &KafkaRecord) -> String {
    String::from_utf8_lossy(record.value.as_deref().unwrap_or_default()).into_owned()
}

async fn all_batches(url: &str, start: StartAt) -> Vec<KafkaBatch> {
    kafka(url)
        .expect("url")
        .start_at(start)
        .until_end()
        .batches()
        .map(|batch| batch.expect("batch"))
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker: scripts/kafka-broker.sh start, then ZPARK_KAFKA_BROKER"]
async fn a_topic_of_three_partitions_counts_as_the_same_lines_in_a_file_do() {
    let topic = topic("counts", 3);
    produce(&topic, 0, 6293);
    let url = format!("kafka://{}/{topic}", broker());
    let batches = all_batches(&url, StartAt::Earliest).await;
    let partitions: std::collections::BTreeSet<i32> = batches.iter().map(|b| b.partition).collect();
    assert_eq!(partitions.len(), 3, "every partition read");
    let mut offsets: Vec<(i32, i64)> = batches
        .iter()
        .flat_map(|b| b.records.iter().map(|r| (r.partition, r.offset)))
        .collect();
    offsets.sort();
    offsets.dedup();
    assert_eq!(offsets.len(), 6293, "every record once");

    // The records' values through a pipeline, against the same lines counted in memory.
    let engine = Engine::local(2);
    let firsts: Vec<(String, u64)> = futures::stream::iter(batches.into_iter().flat_map(|b| b.records))
        .map(|record| value(&record).split(' ').next().unwrap_or_default().to_string())
        .parallelize(&engine, 1000)
        .count_rdd_by_value()
        .continuize()
        .map(|counted| counted.expect("slice"))
        .collect()
        .await;
    let mut counted = BTreeMap::<String, u64>::new();
    for (key, n) in firsts {
        *counted.entry(key).or_default() += n;
    }
    let mut expected = BTreeMap::<String, u64>::new();
    for i in 0..6293 {
        *expected
            .entry(line(i).split(' ').next().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    assert_eq!(counted, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker: scripts/kafka-broker.sh start, then ZPARK_KAFKA_BROKER"]
async fn resumed_from_the_offsets_of_a_stop_every_record_is_read_once() {
    let topic = topic("resume", 3);
    produce(&topic, 0, 3000);
    let url = format!("kafka://{}/{topic}", broker());
    // A first reader stops after some batches: where it stands is the next offset per partition.
    let mut first = kafka(&url).expect("url").until_end().batches();
    let mut seen = Vec::new();
    let mut positions = BTreeMap::new();
    while let Some(batch) = first.next().await {
        let batch = batch.expect("batch");
        positions.insert(batch.partition, batch.next_offset);
        seen.extend(batch.records.iter().map(value));
        if seen.len() >= 1000 {
            break;
        }
    }
    drop(first);
    produce(&topic, 3000, 4000);
    for batch in all_batches(&url, StartAt::Offsets(positions)).await {
        seen.extend(batch.records.iter().map(value));
    }
    seen.sort();
    let mut expected: Vec<String> = (0..4000).map(line).collect();
    expected.sort();
    assert_eq!(seen, expected, "every record once across the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker: scripts/kafka-broker.sh start, then ZPARK_KAFKA_BROKER"]
async fn a_stream_started_at_latest_sees_only_new_records() {
    let topic = topic("latest", 2);
    produce(&topic, 0, 500);
    let url = format!("kafka://{}/{topic}", broker());
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let reading = tokio::spawn(async move {
        let mut records = std::pin::pin!(kafka(&url).expect("url").start_at(StartAt::Latest).records());
        while let Some(record) = records.next().await {
            if sender.send(value(&record.expect("record"))).is_err() {
                return;
            }
        }
    });
    // Once it has looked up where the partitions end (it fetches from there), produce more.
    tokio::time::sleep(Duration::from_secs(2)).await;
    produce(&topic, 500, 520);
    let mut new = Vec::new();
    let began = Instant::now();
    while new.len() < 20 && began.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(value)) = tokio::time::timeout(Duration::from_secs(1), received.recv()).await {
            new.push(value);
        }
    }
    reading.abort();
    new.sort();
    let mut expected: Vec<String> = (500..520).map(line).collect();
    expected.sort();
    assert_eq!(new, expected, "only the records produced after the start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker: scripts/kafka-broker.sh start, then ZPARK_KAFKA_BROKER"]
async fn a_topic_that_does_not_exist_is_an_error_naming_it() {
    let url = format!("kafka://{}/no-such-topic-{}", broker(), std::process::id());
    let first = kafka(&url).expect("url").batches().next().await.expect("an item");
    let error = first.expect_err("no such topic").report().to_string();
    assert!(error.contains("does not exist"), "{error}");
    assert!(error.contains(&url), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_does_not_answer_is_an_error_within_the_connect_timeout() {
    // A port of this machine where nothing listens (bound, then let go).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("kafka://127.0.0.1:{port}/events");
    let began = Instant::now();
    let first = kafka(&url)
        .expect("url")
        .connect_timeout(Duration::from_secs(2))
        .batches()
        .next()
        .await
        .expect("an item");
    let error = first.expect_err("nobody there").report().to_string();
    assert!(began.elapsed() < Duration::from_secs(10), "{:?}", began.elapsed());
    assert!(error.contains(&url), "{error}");
    assert!(
        error.contains("no broker answered") || error.contains("cannot connect"),
        "{error}"
    );
}

/// A stage that writes each slice's sum, and the windows... just the sum: enough to see every
/// slice arrive, in order, marked.
struct Sums;

impl zpark::checkpoint::CheckpointStage<u64> for Sums {
    type State = ();
    fn describe(&self) -> String {
        "sum".into()
    }
    fn process(&mut self, slice: u64, rdd: Rdd<u64>) -> futures::future::BoxFuture<'_, zpark::Result<Vec<String>>> {
        Box::pin(async move {
            let sum = rdd.reduce(|a, b| a + b).await?.unwrap_or(0);
            Ok(vec![format!("{slice}\tsum\t{sum}"), format!("{slice}\tend")])
        })
    }
    fn save(&self) -> futures::future::BoxFuture<'_, zpark::Result<()>> {
        Box::pin(futures::future::ready(Ok(())))
    }
    fn restore(&mut self, _engine: &Engine, _state: ()) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker: scripts/kafka-broker.sh start, then ZPARK_KAFKA_BROKER"]
async fn a_checkpointed_run_writes_each_slice_to_a_topic_marked_with_its_number() {
    use zpark::checkpoint::{CutSlice, Pipeline, Replay, Slicing, SourcePosition};
    let topic = topic("sink", 1);
    let url = format!("kafka://{}/{topic}", broker());
    let engine = Engine::local(2);
    let mut sink = zpark::sink::KafkaSlices::open(kafka(&url).expect("url"))
        .await
        .expect("sink");
    let run = Pipeline::new(&engine, Slicing::Count(10), "numbers", Replay::No)
        .start(&mut Sums)
        .expect("start");
    let slices = futures::stream::iter((0..5u64).map(|k| {
        let numbers: Vec<u64> = (k * 10..k * 10 + 10).collect();
        Ok(CutSlice {
            rdd: engine.parallelize(numbers, 2),
            elements: 10,
            end: Some(SourcePosition::at((k + 1) * 10, (k + 1) * 10)),
        })
    }));
    let summary = run.run_slices(slices, &mut Sums, &mut sink).await.expect("run");
    assert_eq!(summary.slices, 5);
    // Read back by the independent client: key, headers and value of each record, in order.
    let read = python(&format!(
        r#"
from confluent_kafka import Consumer, TopicPartition
consumer = Consumer({{"bootstrap.servers": BROKER, "group.id": "zpark-test", "enable.auto.commit": False}})
consumer.assign([TopicPartition({topic:?}, 0, 0)])
seen = []
while len(seen) < 10:
    message = consumer.poll(10)
    assert message is not None, "timed out after %d records" % len(seen)
    assert message.error() is None, message.error()
    headers = dict(message.headers() or [])
    seen.append("%s|%s|%s|%s|%s" % (message.key().decode(), headers["zpark-slice"].decode(), headers["zpark-line"].decode(), headers["zpark-lines"].decode(), message.value().decode()))
print("\n".join(seen))
"#
    ));
    let expected: Vec<String> = (1..=5u64)
        .flat_map(|slice| {
            let sum: u64 = ((slice - 1) * 10..slice * 10).sum();
            [
                format!("{slice}|{slice}|1|2|{slice}\tsum\t{sum}"),
                format!("{slice}|{slice}|2|2|{slice}\tend"),
            ]
        })
        .collect();
    assert_eq!(read.lines().map(str::to_string).collect::<Vec<_>>(), expected);
}

/// A broker of this test's own (tansu keeping its records in SQLite, so that they outlive a
/// restart) on a free port of 127.0.0.1.
struct OwnBroker {
    port: u16,
    storage: std::path::PathBuf,
    process: Option<std::process::Child>,
}

impl OwnBroker {
    fn start(storage: std::path::PathBuf) -> OwnBroker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut broker = OwnBroker {
            port,
            storage,
            process: None,
        };
        broker.restart();
        broker
    }

    fn restart(&mut self) {
        let tansu = std::env::var("ZPARK_KAFKA_TANSU").expect("ZPARK_KAFKA_TANSU (scripts/kafka-broker.sh tansu)");
        let listener = format!("tcp://127.0.0.1:{}", self.port);
        let process = Command::new(tansu)
            .args([
                "broker",
                "--listener-url",
                &listener,
                "--advertised-listener-url",
                &listener,
            ])
            // tansu takes the database's path from its working directory.
            .current_dir(self.storage.parent().expect("a directory"))
            .arg("--storage-engine")
            .arg(format!(
                "sqlite://{}",
                self.storage.file_name().expect("a file name").to_string_lossy()
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tansu");
        self.process = Some(process);
        let began = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(began.elapsed() < Duration::from_secs(30), "the broker does not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu: scripts/kafka-broker.sh tansu, then ZPARK_KAFKA_TANSU"]
async fn a_broker_restarted_within_the_grace_period_loses_nothing() {
    let dir = std::env::temp_dir().join(format!("zpark-kafka-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    let mut broker = OwnBroker::start(dir.join("tansu.db"));
    let address = format!("127.0.0.1:{}", broker.port);
    let produce_to = |from: u64, to: u64| {
        let python = std::env::var("ZPARK_KAFKA_PYTHON").expect("ZPARK_KAFKA_PYTHON");
        let output = Command::new(python)
            .arg("-c")
            .arg(format!(
                r#"
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
if {from} == 0:
    admin = AdminClient({{"bootstrap.servers": "{address}"}})
    for future in admin.create_topics([NewTopic("restart", 2, 1)]).values():
        future.result(30)
producer = Producer({{"bootstrap.servers": "{address}", "linger.ms": 5}})
for i in range({from}, {to}):
    producer.produce("restart", key="k%d" % (i % 7), value="v%d" % i)
producer.flush(60)
"#
            ))
            .output()
            .expect("python");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    produce_to(0, 500);
    let url = format!("kafka://{address}/restart");
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let reading = tokio::spawn(async move {
        let mut records = std::pin::pin!(kafka(&url).expect("url").records());
        while let Some(record) = records.next().await {
            let _ = sender.send(record.map(|record| value(&record)));
        }
    });
    let mut seen = Vec::new();
    let collect = |received: &mut tokio::sync::mpsc::UnboundedReceiver<zpark::Result<String>>,
                   seen: &mut Vec<String>,
                   until: usize| {
        let began = Instant::now();
        while seen.len() < until && began.elapsed() < Duration::from_secs(30) {
            match received.try_recv() {
                Ok(value) => seen.push(value.expect("no error while the broker comes back")),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    };
    collect(&mut received, &mut seen, 500);
    assert_eq!(seen.len(), 500, "the records before the restart");
    // Stopped for two seconds (the grace period is 30 s), then back with its records.
    broker.stop();
    std::thread::sleep(Duration::from_secs(2));
    broker.restart();
    produce_to(500, 800);
    collect(&mut received, &mut seen, 800);
    reading.abort();
    seen.sort();
    seen.dedup();
    let mut expected: Vec<String> = (0..800).map(|i| format!("v{i}")).collect();
    expected.sort();
    assert_eq!(seen.len(), 800, "every record once, across the restart");
    assert!(seen == expected);
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker: scripts/kafka-broker.sh start, then ZPARK_KAFKA_BROKER"]
async fn records_slice_by_their_own_kafka_timestamps_with_lateness() {
    let topic = topic("event-time", 1);
    // (second after a whole 10 s, value): out of order by less than the lateness, then late.
    const BASE_MS: i64 = 1_700_000_000_000;
    python(&format!(
        r#"
from confluent_kafka import Producer
producer = Producer({{"bootstrap.servers": BROKER}})
for second, value in [(2, "a"), (1, "b"), (11, "c"), (9, "d"), (30, "e"), (12, "late")]:
    producer.produce({topic:?}, value=value, timestamp={BASE_MS} + second * 1000)
    producer.flush(30)
"#
    ));
    let url = format!("kafka://{}/{topic}", broker());
    let engine = Engine::local(2);
    let records = kafka(&url)
        .expect("url")
        .until_end()
        .records()
        .map(|record| record.expect("record"));
    let slices = records.discretize_by_event_time(
        &engine,
        |record: &KafkaRecord| Duration::from_millis(u64::try_from(record.timestamp_ms).unwrap_or(0)),
        Duration::from_secs(10),
        Duration::from_secs(5),
    );
    let late = slices.late_count();
    let slices: Vec<(SliceTime, Vec<String>)> = slices
        .then(|(time, rdd)| async move {
            let mut values: Vec<String> = rdd.map(|record| value(&record)).collect().await.expect("slice");
            values.sort();
            (time, values)
        })
        .collect()
        .await;
    let base = Duration::from_millis(BASE_MS as u64);
    let expected = vec![
        (base + Duration::from_secs(10), vec!["a", "b", "d"]),
        (base + Duration::from_secs(20), vec!["c"]),
        (base + Duration::from_secs(30), vec![]),
        (base + Duration::from_secs(40), vec!["e"]),
    ];
    let got: Vec<(Duration, Vec<&str>)> = slices
        .iter()
        .map(|(time, values)| (time.as_duration(), values.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(late.get(), 1, "the record of second 12 came after its slice closed");
}
