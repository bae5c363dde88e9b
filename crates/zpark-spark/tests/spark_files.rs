//! Files that Spark reads itself: `Engine::text_files` and `Rdd::field` run on the server
//! (a `read.text` and an expression), and give what the embedded engine gives over the same
//! files. `#[ignore]`d: needs the server of `scripts/spark-server.sh` (the README's test
//! command runs them).

use std::path::PathBuf;

use zpark::{Engine, Field};

mod common;

async fn spark() -> Engine {
    zpark_spark::connect(&common::spark_url())
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zpark-spark-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Lines with every edge of the three kinds of field, over two files and three line endings.
const FIRST: &str = "2025-06-24 10:00:01 status installed dpkg:1.22\n\
    \t lead  blanks\tand tabs  \r\n\
    \n\
    short line\r\
    {\"action\": \"install\", \"n\": 3, \"deep\": {\"a\": [1, 2]}}\n";
const SECOND: &str = "{\"action\": null}\n\
    one two three \n\
    one two\n\
    one two three four five\n\
    [\"not\", \"an\", \"object\"]\n\
    {\"n\": -12, \"action\": \"remove\"}\n\
    a,\"b, with comma\",c\n\
    a,,c\n\
    x,y\n\
    a,\"say \"\"hi\"\"\"";

fn fields() -> Vec<Field> {
    let field = |f: zpark::Result<Field>| f.unwrap_or_else(|e| panic!("{}", e.report()));
    vec![
        Field::Line,
        field(Field::word(1)),
        field(Field::word(3)),
        field(Field::word(4)),
        field(Field::word(5)),
        field(Field::json("action")),
        field(Field::json("n")),
        field(Field::json("deep")),
        field(Field::csv(2)),
        field(Field::csv(3)),
    ]
}

async fn counts(engine: &Engine, files: &[PathBuf], field: &Field) -> Vec<(Option<String>, u64)> {
    let mut counts = engine
        .text_files(files.to_vec())
        .field(field.clone())
        .count_by_value()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{field} on {}: {}", engine.url(), e.report()));
    counts.sort();
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn fields_of_files_read_by_spark_are_the_embedded_engines() {
    let dir = scratch("fields");
    let files = vec![dir.join("first.log"), dir.join("second.log")];
    std::fs::write(&files[0], FIRST).unwrap();
    std::fs::write(&files[1], SECOND).unwrap();
    let (spark, local) = (spark().await, Engine::local(2));
    for field in fields() {
        let expected = counts(&local, &files, &field).await;
        assert_eq!(
            expected.iter().map(|(_, n)| n).sum::<u64>(),
            15,
            "{field}: every line once"
        );
        assert_eq!(counts(&spark, &files, &field).await, expected, "{field}");
    }
    let lines = spark.text_files(files.clone());
    assert_eq!(lines.count().await.unwrap(), 15);
    let mut distinct = lines.field(Field::word(1).unwrap()).distinct().collect().await.unwrap();
    distinct.sort();
    let mut expected = local
        .text_files(files)
        .field(Field::word(1).unwrap())
        .distinct()
        .collect()
        .await
        .unwrap();
    expected.sort();
    assert_eq!(distinct, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn a_file_spark_cannot_read_is_an_error_from_the_server() {
    let spark = spark().await;
    let error = spark.text_files(["/no/such/zpark-file.log"]).count().await.unwrap_err();
    assert!(matches!(error, zpark::Error::Cluster { .. }), "{}", error.report());
    assert!(
        error.report().to_string().contains("zpark-file.log"),
        "{}",
        error.report()
    );
}

/// Texts at the edges of what a number is.
const NUMBERS: &str = "n 12\nn  7 \nn -3\nn +4\nn 1.5\nn abc\nn\nn 1e3\nn 007\nn 9223372036854775807\nn 9223372036854775808\nn -0.25\nn .5\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn numbers_parsed_by_spark_are_the_embedded_engines() {
    use zpark::Reducer;
    let dir = scratch("numbers");
    let file = dir.join("numbers.log");
    std::fs::write(&file, NUMBERS).unwrap();
    let (spark, local) = (spark().await, Engine::local(2));
    let texts = |engine: &Engine| engine.text_files([file.clone()]).field(Field::word(2).unwrap());
    let ints = |engine: &Engine| texts(engine).parse_int();
    let floats = |engine: &Engine| texts(engine).parse_float();
    let mut expected = ints(&local).collect().await.unwrap();
    let mut got = ints(&spark).collect().await.unwrap();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "whole numbers");
    let sorted = |mut v: Vec<Option<f64>>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    };
    assert_eq!(
        sorted(floats(&spark).collect().await.unwrap()),
        sorted(floats(&local).collect().await.unwrap()),
        "numbers"
    );
    // Sums past i64::MAX wrap on the embedded engine and are no value on Spark (its sum is
    // a decimal that does not fit back): the reductions leave out the largest number.
    let summable = dir.join("summable.log");
    std::fs::write(&summable, NUMBERS.replace("n 9223372036854775807\n", "")).unwrap();
    let ints = |engine: &Engine| {
        engine
            .text_files([summable.clone()])
            .field(Field::word(2).unwrap())
            .parse_int()
    };
    for reducer in [Reducer::Sum, Reducer::Min, Reducer::Max, Reducer::Count] {
        assert_eq!(
            ints(&spark).reduce_with(reducer).await.unwrap(),
            ints(&local).reduce_with(reducer).await.unwrap(),
            "{reducer:?} of whole numbers"
        );
        assert_eq!(
            floats(&spark).reduce_with(reducer).await.unwrap(),
            floats(&local).reduce_with(reducer).await.unwrap(),
            "{reducer:?} of numbers"
        );
    }
}

/// The Parquet files the CLI's tests read (written by Spark 4.3, snappy): 300 records of
/// time, action (null in every 17th), package, size and ok.
fn parquet_fixtures() -> Vec<PathBuf> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../zpark-cli/tests/data");
    vec![data.join("events-a.parquet"), data.join("events-b.parquet")]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn parquet_records_read_by_spark_are_the_embedded_engines() {
    let (spark, local) = (spark().await, Engine::local(2));
    let files = parquet_fixtures();
    let mut expected = local.parquet_files(files.clone()).collect().await.unwrap();
    let mut got = spark.parquet_files(files.clone()).collect().await.unwrap();
    expected.sort();
    got.sort();
    assert_eq!(expected.len(), 300);
    assert_eq!(got, expected, "the records as JSON objects");
    for column in ["action", "package", "size", "ok", "time", "absent"] {
        let field = Field::json(column).unwrap();
        let counts = |engine: &Engine| {
            let field = field.clone();
            let records = engine.parquet_files(files.clone());
            async move {
                let mut counts = records.field(field).count_by_value().collect().await.unwrap();
                counts.sort();
                counts
            }
        };
        assert_eq!(counts(&spark).await, counts(&local).await, "column {column}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]
async fn glob_patterns_are_the_same_files_on_spark() {
    let dir = scratch("glob");
    std::fs::write(dir.join("a.log"), FIRST).unwrap();
    std::fs::write(dir.join("b.log"), SECOND).unwrap();
    std::fs::write(dir.join("c.txt"), "left out\n").unwrap();
    let (spark, local) = (spark().await, Engine::local(2));
    let pattern = dir.join("*.log");
    let field = Field::word(2).unwrap();
    let counts = |engine: &Engine| {
        let lines = engine.text_files([pattern.clone()]).field(field.clone());
        async move {
            let mut counts = lines.count_by_value().collect().await.unwrap();
            counts.sort();
            counts
        }
    };
    let expected = counts(&local).await;
    assert_eq!(expected.iter().map(|(_, n)| n).sum::<u64>(), 15, "{expected:?}");
    assert_eq!(counts(&spark).await, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
