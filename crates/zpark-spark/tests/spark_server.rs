//! The Spark Connect layer against a real server. The server tests are `#[ignore]`d:
//! `scripts/test.sh` starts a server on 127.0.0.1 (`scripts/spark-server.sh start`) and runs
//! them with `--ignored`; `ZPARK_SPARK_URL` points them at another server.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zpark::engine::Numbers;
use zpark::Reducer;
use zpark_spark::relation::{self, Relation};
use zpark_spark::{Options, SparkClient, SparkError};

const NEEDS_SERVER: &str = "needs a Spark Connect server: scripts/test.sh starts one";

fn url() -> String {
    std::env::var("ZPARK_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".to_string())
}

async fn client() -> SparkClient {
    SparkClient::connect(&url(), Options::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn keys(n: u64) -> Vec<u64> {
    (0..n).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) % 1000).collect()
}

fn local<T: Serialize + serde::de::DeserializeOwned>(elements: &[T]) -> Relation {
    relation::local(elements, 10_000).expect("encodable")
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn count_by_value_on_spark_equals_the_local_count() {
    let spark = client().await;
    for n in [1, 1000, 100_000] {
        let data = keys(n);
        let mut expected: HashMap<u64, u64> = HashMap::new();
        for k in &data {
            *expected.entry(*k).or_default() += 1;
        }
        let got: Vec<(u64, u64)> = spark.collect(&relation::count_by_value(local(&data))).await.unwrap();
        assert_eq!(sorted(got), sorted(expected.into_iter().collect()), "{n} keys");
        let count: Vec<u64> = spark.collect(&relation::count(local(&data))).await.unwrap();
        assert_eq!(count, vec![n]);
    }
    let _ = NEEDS_SERVER;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn an_empty_slice_counts_zero_and_has_no_values() {
    let spark = client().await;
    let none: &[u64] = &[];
    assert_eq!(
        spark.collect::<u64>(&relation::count(local(none))).await.unwrap(),
        vec![0]
    );
    assert!(spark
        .collect::<(u64, u64)>(&relation::count_by_value(local(none)))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn reduce_by_key_with_the_built_in_reducers_equals_a_local_fold() {
    let spark = client().await;
    let pairs: Vec<(String, i64)> = (0..5000i64)
        .map(|i| (format!("k{}", i % 37), (i * 7919) % 101 - 50))
        .collect();
    let fold = |f: fn(i64, i64) -> i64| {
        let mut out: HashMap<String, i64> = HashMap::new();
        for (k, v) in &pairs {
            out.entry(k.clone()).and_modify(|a| *a = f(*a, *v)).or_insert(*v);
        }
        sorted(out.into_iter().collect::<Vec<_>>())
    };
    for (reducer, f) in [
        (Reducer::Sum, (|a, b| a + b) as fn(i64, i64) -> i64),
        (Reducer::Min, i64::min),
        (Reducer::Max, i64::max),
    ] {
        let got: Vec<(String, i64)> = spark
            .collect(&relation::reduce_by_key(local(&pairs), reducer, Numbers::Integers))
            .await
            .unwrap();
        assert_eq!(sorted(got), fold(f), "{reducer:?}");
    }
    let counts: Vec<(String, u64)> = spark
        .collect(&relation::reduce_by_key(
            local(&pairs),
            Reducer::Count,
            Numbers::Integers,
        ))
        .await
        .unwrap();
    assert_eq!(counts.len(), 37);
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 5000);
    let total: Vec<Option<i64>> = spark
        .collect(&relation::reduce(local(&[1i64, 2, 3]), Reducer::Sum, Numbers::Integers))
        .await
        .unwrap();
    assert_eq!(total, vec![Some(6)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn group_by_key_distinct_and_union() {
    let spark = client().await;
    let pairs = vec![(1u64, 10u64), (2, 20), (1, 11), (3, 30), (1, 12)];
    let groups: Vec<(u64, Vec<u64>)> = spark.collect(&relation::group_by_key(local(&pairs))).await.unwrap();
    let groups: Vec<(u64, Vec<u64>)> = sorted(groups.into_iter().map(|(k, vs)| (k, sorted(vs))).collect());
    assert_eq!(groups, vec![(1, vec![10, 11, 12]), (2, vec![20]), (3, vec![30])]);
    let distinct: Vec<u64> = spark
        .collect(&relation::distinct(local(&[3u64, 1, 3, 2, 1])))
        .await
        .unwrap();
    assert_eq!(sorted(distinct), vec![1, 2, 3]);
    let both: Vec<u64> = spark
        .collect(&relation::union(local(&[1u64, 2]), local(&[2u64, 3])))
        .await
        .unwrap();
    assert_eq!(sorted(both), vec![1, 2, 2, 3]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reading {
    sensor: String,
    celsius: Option<f64>,
    at: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn structs_strings_and_options_go_to_spark_and_come_back_in_pieces() {
    let spark = client().await;
    let readings: Vec<Reading> = (0..25_000u64)
        .map(|i| Reading {
            sensor: format!("s{}", i % 3),
            celsius: (i % 5 != 0).then_some(i as f64 / 10.0),
            at: i,
        })
        .collect();
    // 25 000 rows in pieces of at most 10 000: three relations unioned.
    let back: Vec<Reading> = spark.collect(&local(&readings)).await.unwrap();
    let mut back = back;
    back.sort_by_key(|r| r.at);
    assert_eq!(back, readings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn several_plans_at_once_on_one_connection() {
    let spark = client().await;
    let plans = (1..=6u64).map(|n| {
        let spark = spark.clone();
        tokio::spawn(async move {
            let count: Vec<u64> = spark.collect(&relation::count(local(&keys(n * 1000)))).await.unwrap();
            (n, count)
        })
    });
    for plan in plans {
        let (n, count) = plan.await.unwrap();
        assert_eq!(count, vec![n * 1000]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn a_plan_the_server_refuses_is_an_error_with_its_message_and_no_retry() {
    let spark = client().await;
    // Strings cannot be summed into the pair's value type: Spark refuses the plan.
    let pairs = vec![(1u64, "a".to_string())];
    let started = Instant::now();
    let error = spark
        .collect::<(u64, String)>(&relation::reduce_by_key(local(&pairs), Reducer::Sum, Numbers::Floats))
        .await;
    match error {
        Err(SparkError::Server { url: u, message }) => {
            assert_eq!(u, url());
            assert!(!message.is_empty());
        }
        // Spark may also sum strings as doubles (null): then the rows do not decode.
        Err(SparkError::Schema { type_name, .. }) => assert!(type_name.contains("String"), "{type_name}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_naming_the_url_within_ten_seconds() {
    // A port that nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("sc://127.0.0.1:{port}");
    let started = Instant::now();
    let error = SparkClient::connect(&url, Options::default()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(matches!(error, SparkError::Unreachable { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains(&url), "{text}");
}

#[tokio::test]
async fn a_url_that_is_not_spark_connect_is_refused() {
    let error = SparkClient::connect("spark://127.0.0.1:7077", Options::default())
        .await
        .unwrap_err();
    assert!(matches!(error, SparkError::Url { .. }), "{error:?}");
    assert!(error.to_string().contains("sc://HOST:PORT"), "{error}");
}

#[tokio::test]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn a_persisted_plan_is_kept_by_the_server_until_unpersisted() {
    let client = client().await;
    let plan = relation::count_by_value(local(&keys(2000)));
    assert!(!client.is_persisted(&plan).await.unwrap());
    client.persist(&plan).await.unwrap();
    assert!(client.is_persisted(&plan).await.unwrap(), "persist marks the plan");
    let first: Vec<(u64, u64)> = client.collect(&plan).await.unwrap();
    // A stage over the persisted plan reads what the server kept, and gives the same rows.
    let total: Vec<u64> = client
        .collect(&relation::reduce(
            relation::union(plan.clone(), plan.clone()),
            zpark::Reducer::Count,
            Numbers::Integers,
        ))
        .await
        .unwrap();
    assert_eq!(total, vec![2 * first.len() as u64]);
    client.unpersist(&plan).await.unwrap();
    assert!(!client.is_persisted(&plan).await.unwrap(), "unpersist drops it");
}
