//! The Spark engine: zpark's own API (`Rdd`, slice streams) on a Spark Connect server gives,
//! slice by slice, the multisets the embedded engine gives; what Spark cannot run is refused
//! before anything is sent. `#[ignore]`d: `scripts/test.sh` runs them with a server.

use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use zpark::prelude::*;

fn url() -> String {
    std::env::var("ZPARK_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".to_string())
}

async fn spark() -> Engine {
    zpark_spark::builder(&url())
        .register::<Reading>()
        .register::<(String, Reading)>()
        .register::<(String, Vec<Reading>)>()
        .register::<(std::time::Duration, u32)>()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()))
}

/// Each slice's elements, sorted: the multiset of each slice, in slice order.
async fn slices<T: Ord>(results: impl Stream<Item = Vec<T>>) -> Vec<Vec<T>> {
    results
        .map(|mut slice| {
            slice.sort();
            slice
        })
        .collect()
        .await
}

async fn per_slice<T: Ord + Data, S: Stream<Item = Rdd<T>>>(stream: S) -> Vec<Vec<T>> {
    slices(stream.then(|rdd| async move { rdd.collect().await.unwrap_or_else(|e| panic!("{}", e.report())) })).await
}

fn keys(n: u64) -> Vec<u64> {
    (0..n).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) % 100).collect()
}

#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
struct Reading {
    sensor: String,
    celsius: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn slice_pipelines_give_on_spark_what_they_give_embedded() {
    let (spark, local) = (spark().await, Engine::local(2));
    let data = keys(5000);
    for engine in [&spark, &local] {
        assert!(engine.url().starts_with("sc://") || engine.url().starts_with("local"));
    }
    let count_by_value = |engine: &Engine| {
        futures::stream::iter(data.clone())
            .parallelize(engine, 1000)
            .map_rdd(|k| k % 10)
            .count_rdd_by_value()
    };
    assert_eq!(
        per_slice(count_by_value(&spark)).await,
        per_slice(count_by_value(&local)).await
    );

    let counts = |engine: &Engine| futures::stream::iter(data.clone()).parallelize(engine, 700).count_rdd();
    assert_eq!(per_slice(counts(&spark)).await, per_slice(counts(&local)).await);

    let sums = |engine: &Engine| {
        futures::stream::iter(data.clone())
            .parallelize(engine, 1000)
            .map_rdd(|k| (k % 7, k as i64 - 50))
            .reduce_rdd_by_key_with(Reducer::Sum)
    };
    assert_eq!(per_slice(sums(&spark)).await, per_slice(sums(&local)).await);

    let groups = |engine: &Engine| {
        futures::stream::iter(data.clone())
            .parallelize(engine, 1000)
            .map_rdd(|k| (k % 5, k as u32))
            .group_rdd_by_key()
            .map_rdd(|(k, mut vs)| {
                vs.sort();
                (k, vs)
            })
    };
    assert_eq!(per_slice(groups(&spark)).await, per_slice(groups(&local)).await);

    let per_key = |engine: &Engine| {
        futures::stream::iter(data.clone())
            .parallelize(engine, 1000)
            .map_rdd(|k| (k.to_string(), k))
            .transform_rdd(|rdd| rdd.count_by_key())
    };
    assert_eq!(per_slice(per_key(&spark)).await, per_slice(per_key(&local)).await);

    let maxima = |engine: &Engine| {
        futures::stream::iter(data.clone())
            .parallelize(engine, 999)
            .reduce_rdd_with(Reducer::Max)
    };
    assert_eq!(per_slice(maxima(&spark)).await, per_slice(maxima(&local)).await);
    // An empty slice reduces to nothing on both engines (not to a null row on Spark).
    assert_eq!(spark.empty::<u64>().reduce_with(Reducer::Max).await.unwrap(), None);
    assert_eq!(local.empty::<u64>().reduce_with(Reducer::Max).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn rdds_of_strings_and_registered_structs() {
    let spark = spark().await;
    let words = spark.parallelize(vec!["b".to_string(), "a".into(), "b".into()], 2);
    let mut distinct = words.distinct().collect().await.unwrap();
    distinct.sort();
    assert_eq!(distinct, vec!["a", "b"]);
    assert_eq!(words.count().await.unwrap(), 3);
    let readings: Vec<(String, Reading)> = (0..30)
        .map(|i| {
            let sensor = format!("s{}", i % 3);
            (
                sensor.clone(),
                Reading {
                    sensor,
                    celsius: f64::from(i) / 2.0,
                },
            )
        })
        .collect();
    let mut grouped = spark.parallelize(readings, 3).group_by_key().collect().await.unwrap();
    grouped.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(grouped.len(), 3);
    assert!(grouped
        .iter()
        .all(|(k, rs)| rs.len() == 10 && rs.iter().all(|r| &r.sensor == k)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn closures_spark_would_call_and_unknown_types_are_refused_with_what_works() {
    let spark = spark().await;
    let pairs = spark.parallelize(vec![(1u64, 2u64), (1, 3)], 1);
    let error = pairs.reduce_by_key(|a, b| a + b).collect().await.unwrap_err();
    assert!(matches!(error.root(), Error::NotOnCluster { .. }), "{error}");
    assert!(
        error.report().to_string().contains("reduce_by_key_with(Reducer::Sum"),
        "{error}"
    );

    // Refused when the Rdd is built, before any data is sent: its engine knows at once.
    let refused = pairs.reduce_by_key(|a, b| a + b);
    assert!(format!("{refused:?}").contains("failed"), "{refused:?}");

    // In a stream of slices, once: the first slice says it, and the stream ends.
    let items: Vec<zpark::Result<u64>> = futures::stream::iter(0..5000u64)
        .parallelize(&spark, 1000)
        .reduce_rdd(|a, b| a + b)
        .continuize()
        .collect()
        .await;
    assert_eq!(items.len(), 1, "one refusal, not one per slice: {items:?}");
    let error = items[0].as_ref().unwrap_err();
    assert!(error.report().to_string().contains("reduce_rdd_with"), "{error}");

    #[derive(Clone, PartialEq, Eq, Hash, Debug)]
    struct Unknown(u8);
    let error = spark
        .parallelize(vec![Unknown(1)], 1)
        .count_by_value()
        .collect()
        .await
        .unwrap_err();
    let text = error.report().to_string();
    assert!(text.contains("Unknown") && text.contains("register"), "{text}");
}

/// The timed pipelines of the tour, slice by slice, on tokio's paused clock (Spark's client
/// runs on a runtime of its own, on the real clock).
#[tokio::test(flavor = "current_thread", start_paused = true)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn timed_pipelines_of_the_tour_slice_by_slice() {
    use std::time::Duration;
    use zpark::source::naturals_every;
    let ms = Duration::from_millis;
    let (spark, local) = (spark().await, Engine::local(2));

    let counted = |engine: &Engine| naturals_every(ms(10)).take(500).discretize(engine, ms(500)).count_rdd();
    assert_eq!(per_slice(counted(&spark)).await, per_slice(counted(&local)).await);

    let zipped = |engine: &Engine| {
        naturals_every(ms(100))
            .take(50)
            .discretize(engine, ms(250))
            .zip_rdd(naturals_every(ms(100)).take(50).discretize(engine, ms(250)))
            .count_rdd_by_value()
    };
    assert_eq!(per_slice(zipped(&spark)).await, per_slice(zipped(&local)).await);

    let windows = |engine: &Engine| {
        naturals_every(ms(10))
            .take(500)
            .map(|n| n % 4)
            .discretize_keep_time(engine, ms(500))
            .count_by_value_and_window(ms(1000), ms(500))
            .map(|(_, rdd)| rdd)
    };
    assert_eq!(per_slice(windows(&spark)).await, per_slice(windows(&local)).await);

    // Sessions: each key's slices grouped on the engine (a built-in stage on Spark), the
    // sessions on the driver. Key k is active one second in three.
    let sessions = |engine: &Engine| {
        naturals_every(ms(10))
            .take(500)
            .map(|n| ((n / 100) % 3, n))
            .discretize_keep_time(engine, ms(500))
            .session_window_by_key(ms(1000))
            .then(|(_, rdd)| async move {
                let mut closed: Vec<(u64, Duration, Duration, Vec<u64>)> = rdd
                    .collect()
                    .await
                    .unwrap_or_else(|e| panic!("{}", e.report()))
                    .into_iter()
                    .map(|s| {
                        let mut values = s.value;
                        values.sort();
                        (s.key, s.start, s.end, values)
                    })
                    .collect();
                closed.sort();
                closed
            })
            .collect::<Vec<_>>()
    };
    let on_spark = sessions(&spark).await;
    assert_eq!(on_spark, sessions(&local).await);
    assert_eq!(on_spark.concat().len(), 5, "keys 0 and 1 twice, key 2 once");

    let stamped: Vec<(Duration, u32)> = (0..300u32).map(|i| (ms(u64::from(i) * 10), i)).collect();
    let event_time = |engine: &Engine| {
        futures::stream::iter(stamped.clone())
            .discretize_by_event_time(engine, |(t, _)| *t, ms(500), ms(0))
            .count_rdd()
            .map(|(_, rdd)| rdd)
    };
    assert_eq!(per_slice(event_time(&spark)).await, per_slice(event_time(&local)).await);
}

#[tokio::test]
async fn an_unreachable_server_is_an_engine_error_naming_the_url_within_ten_seconds() {
    let url = nobody_listens();
    let started = std::time::Instant::now();
    let error = zpark_spark::connect(&url).await.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(matches!(error, Error::EngineUnavailable { .. }), "{error:?}");
    let text = error.report().to_string();
    assert!(text.contains(&url) && text.contains("cannot reach"), "{text}");
}

/// Counts of two slices, unioned and summed per key, read twice through a persisted `Rdd`:
/// on Spark the whole chain is one plan per read (nothing comes back between the stages).
async fn chained(engine: &Engine) -> (Vec<(u64, u64)>, u64, Vec<(u64, u64)>) {
    let first = engine.parallelize(keys(3000), 2).count_by_value();
    let second = engine.parallelize(keys(1000), 2).map(|k| k % 7).count_by_value();
    let totals = first.union(&second).reduce_by_key_with(Reducer::Sum).persist();
    let mut sums = totals.collect().await.unwrap_or_else(|e| panic!("{}", e.report()));
    sums.sort();
    let keys_seen = totals.count().await.unwrap_or_else(|e| panic!("{}", e.report()));
    let mut largest = engine
        .union(&[totals.clone(), totals.clone()])
        .reduce_by_key_with(Reducer::Max)
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    largest.sort();
    totals.unpersist().await.unwrap_or_else(|e| panic!("{}", e.report()));
    assert_eq!(
        totals.count().await.unwrap_or_else(|e| panic!("{}", e.report())),
        keys_seen,
        "read again after unpersist"
    );
    (sums, keys_seen, largest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn stages_union_and_persist_chain_on_spark_as_embedded() {
    let (spark, local) = (spark().await, Engine::local(2));
    let on_spark = chained(&spark).await;
    assert_eq!(on_spark, chained(&local).await);
    assert_eq!(on_spark.0.iter().map(|(_, n)| n).sum::<u64>(), 4000);
    assert_eq!(on_spark.0, on_spark.2, "the max of a sum with itself is the sum");
}

/// The `Count` reducer per key and in all, on values of several types, empty included.
async fn counted(engine: &Engine) -> (Vec<(u64, f64)>, Vec<(String, i32)>, Option<f64>, Option<u64>) {
    let readings = engine.parallelize((0..500u64).map(|i| (i % 7, i as f64 / 3.0)).collect(), 3);
    let mut per_key = readings
        .reduce_by_key_with(Reducer::Count)
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    per_key.sort_by_key(|(k, _)| *k);
    let words = engine.parallelize(vec![("a".to_string(), 5i32), ("b".into(), 7), ("a".into(), -1)], 2);
    let mut per_word = words
        .reduce_by_key_with(Reducer::Count)
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    per_word.sort();
    let all = readings
        .map(|(_, v)| v)
        .reduce_with(Reducer::Count)
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    let none = engine
        .parallelize(vec![1u64, 2], 1)
        .filter(|x| *x > 5)
        .reduce_with(Reducer::Count)
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    (per_key, per_word, all, none)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn the_count_reducer_gives_on_spark_what_it_gives_embedded() {
    let (spark, local) = (spark().await, Engine::local(2));
    let on_spark = counted(&spark).await;
    assert_eq!(on_spark, counted(&local).await);
    assert_eq!(on_spark.0.iter().map(|(_, n)| n).sum::<f64>(), 500.0);
    assert_eq!(on_spark.1, vec![("a".to_string(), 2), ("b".to_string(), 1)]);
    assert_eq!((on_spark.2, on_spark.3), (Some(500.0), None));
}

/// Each slice's elements, sorted, with 8 slices computed at once (so that they share plans).
async fn in_flight<T: Ord + Data, S: Stream<Item = Rdd<T>>>(stream: S) -> Vec<Vec<T>> {
    slices(
        stream
            .map(|rdd| async move { rdd.collect().await.unwrap_or_else(|e| panic!("{}", e.report())) })
            .buffered(8),
    )
    .await
}

/// Per-slice stages that slices in flight share plans for (distinct, counts, sums, groups),
/// slice by slice, empty slices included.
async fn shared_per_slice(
    engine: &Engine,
) -> (
    Vec<Vec<u64>>,
    Vec<Vec<u64>>,
    Vec<Vec<(u64, u64)>>,
    Vec<Vec<(u64, Vec<u64>)>>,
) {
    let data: Vec<u64> = (0..4000u64)
        .map(|i| if (i / 500) % 3 == 2 { 1000 } else { i % 13 })
        .collect();
    let slices = || futures::stream::iter(data.clone()).parallelize(engine, 500);
    let distinct = in_flight(slices().transform_rdd(|rdd| rdd.distinct())).await;
    let counts = in_flight(slices().filter_rdd(|k| *k < 1000).count_rdd()).await;
    let sums = in_flight(slices().map_rdd(|k| (k % 3, k)).reduce_rdd_by_key_with(Reducer::Sum)).await;
    let groups = in_flight(slices().map_rdd(|k| (k % 2, k)).group_rdd_by_key())
        .await
        .into_iter()
        .map(|slice| {
            slice
                .into_iter()
                .map(|(k, mut vs)| {
                    vs.sort();
                    (k, vs)
                })
                .collect()
        })
        .collect();
    (distinct, counts, sums, groups)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn stages_that_share_plans_give_each_slice_its_own_rows() {
    let spark = zpark_spark::builder(&url())
        .slices_in_flight(8)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    let on_spark = shared_per_slice(&spark).await;
    assert_eq!(on_spark, shared_per_slice(&Engine::local(2)).await);
    assert_eq!(
        on_spark.1,
        vec![
            vec![500],
            vec![500],
            vec![0],
            vec![500],
            vec![500],
            vec![0],
            vec![500],
            vec![500]
        ]
    );
    assert_eq!(on_spark.0[2], vec![1000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn engine_connect_with_a_spark_url_gives_the_spark_engine() {
    zpark_spark::register();
    // Called from inside a runtime, as most users will: it must not try to nest one.
    let engine = Engine::connect(&url()).unwrap_or_else(|e| panic!("{}", e.report()));
    assert!(engine.url().starts_with("sc://"));
    let counts = engine.parallelize(keys(1000), 2).count_by_value().count().await;
    assert_eq!(counts.unwrap_or_else(|e| panic!("{}", e.report())), 100);
}

#[test]
fn engine_connect_to_no_server_fails_within_ten_seconds_naming_the_url() {
    zpark_spark::register();
    let url = nobody_listens();
    let started = std::time::Instant::now();
    let error = Engine::connect(&url).expect_err("nothing listens there");
    assert!(
        error.report().to_string().contains("cannot reach"),
        "the Spark engine's own error: {error}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, Error::EngineUnavailable { .. }), "{error:?}");
    assert!(error.report().to_string().contains(&url), "{error}");
}

/// A Spark URL on a port that nothing listens on: bound, then released.
fn nobody_listens() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"));
    format!("sc://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn u64_sums_past_i64_max_are_right_on_spark_as_embedded() {
    let (spark, local) = (spark().await, Engine::local(2));
    // Each value fits Spark's bigint; their total (3 * 2^62) does not, and fits a u64.
    let big = 1u64 << 62;
    let sums = |engine: &Engine| {
        let pairs = engine.parallelize(vec![(7u64, big), (7, big), (7, big), (8, 1)], 2);
        async move {
            let mut by_key = pairs
                .reduce_by_key_with(Reducer::Sum)
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{}", e.report()));
            by_key.sort();
            let total = pairs
                .map(|(_, v)| v)
                .reduce_with(Reducer::Sum)
                .await
                .unwrap_or_else(|e| panic!("{}", e.report()));
            (by_key, total)
        }
    };
    let on_spark = sums(&spark).await;
    assert_eq!(on_spark, sums(&local).await);
    assert_eq!(on_spark, (vec![(7, 3 * big), (8, 1)], Some(3 * big + 1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn metrics_on_spark_give_each_slice_the_plan_s_round_trip() {
    let spark = spark().await;
    let mut counts = futures::stream::iter(0..3000u64)
        .parallelize(&spark, 1000)
        .count_rdd_by_value()
        .continuize();
    let metrics = counts.metrics();
    assert_eq!(counts.count().await, 3000);
    let metrics: Vec<zpark::slice_ops::SliceMetrics> = metrics.collect().await;
    assert_eq!(metrics.len(), 3);
    assert!(
        metrics
            .iter()
            .all(|m| m.round_trip.is_some_and(|t| !t.is_zero()) && m.records == 1000),
        "{metrics:?}"
    );
}
