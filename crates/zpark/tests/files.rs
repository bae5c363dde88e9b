//! Sources that describe their data: text files read where the engine reads them, a field of
//! each line taken by the same rules everywhere, and the files that appear in a directory,
//! each once, cut into slices of time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;
use zpark::Field;
use zpark_testkit::fake_cluster::FakeCluster;

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zpark-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Lines with every edge of the three kinds of field.
const TRICKY: &str = "2025-06-24 10:00:01 status installed dpkg:1.22\n\
    \t lead  blanks\tand tabs  \n\
    \n\
    short line\n\
    {\"action\": \"install\", \"n\": 3, \"deep\": {\"a\": [1, 2]}}\n\
    {\"action\": null}\n\
    [\"not\", \"an\", \"object\"]\n\
    a,\"b, with comma\",c\n\
    a,,c\n\
    a,\"say \"\"hi\"\"\"\n";

fn fields() -> Vec<Field> {
    let field = |f: zpark::Result<Field>| f.unwrap_or_else(|e| panic!("{}", e.report()));
    vec![
        field(Field::word(1)),
        field(Field::word(3)),
        field(Field::word(4)),
        field(Field::json("action")),
        field(Field::json("n")),
        field(Field::json("deep")),
        field(Field::csv(2)),
        field(Field::csv(3)),
    ]
}

#[tokio::test]
async fn text_files_are_one_partition_per_file_in_order() {
    let dir = scratch("order");
    std::fs::write(dir.join("a"), "1\r\n2\n").unwrap();
    std::fs::write(dir.join("b"), "").unwrap();
    std::fs::write(dir.join("c"), "3\r4").unwrap();
    let engine = Engine::local(2);
    let lines = engine.text_files(["a", "b", "c"].map(|name| dir.join(name)));
    assert_eq!(lines.partitions(), 3);
    assert_eq!(lines.collect().await.unwrap(), ["1", "2", "3", "4"]);
    assert_eq!(lines.count().await.unwrap(), 4);
}

#[tokio::test]
async fn glob_patterns_are_the_files_they_match_in_name_order() {
    let dir = scratch("glob");
    std::fs::write(dir.join("b.log"), "b\n").unwrap();
    std::fs::write(dir.join("a.log"), "a1\na2\n").unwrap();
    std::fs::write(dir.join("c.txt"), "c\n").unwrap();
    std::fs::create_dir_all(dir.join("d.log")).unwrap();
    let engine = Engine::local(2);
    let lines = engine.text_files([dir.join("*.log"), dir.join("c.tx?")]);
    assert_eq!(lines.partitions(), 3, "a directory is not a file");
    assert_eq!(lines.collect().await.unwrap(), ["a1", "a2", "b", "c"]);
    // A pattern that matches nothing is kept as a path, and named when read.
    let nothing = dir.join("*.gz");
    let error = engine.text_files([nothing.clone()]).count().await.unwrap_err();
    assert!(
        matches!(&error, Error::Io { input, .. } if *input == nothing.display().to_string()),
        "{error:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_an_error_naming_it() {
    let engine = Engine::local(2);
    let missing = Path::new("/no/such/zpark-file.log");
    let error = engine.text_files([missing]).collect().await.unwrap_err();
    assert!(
        matches!(&error, Error::Io { input, .. } if input == "/no/such/zpark-file.log"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_field_of_lines_read_from_files_is_the_field_of_the_same_lines_in_memory() {
    let dir = scratch("fields");
    std::fs::write(dir.join("tricky.log"), TRICKY).unwrap();
    let engine = Engine::local(2);
    let from_file = engine.text_files([dir.join("tricky.log")]);
    let in_memory = engine.parallelize(TRICKY.lines().map(str::to_string).collect(), 3);
    for field in fields() {
        let read = from_file.field(field.clone()).collect().await.unwrap();
        let held = in_memory.field(field.clone()).collect().await.unwrap();
        assert_eq!(read, held, "{field}");
        assert_eq!(read.len(), 10, "{field}: one value or None per line, nothing dropped");
    }
    let words: Vec<Option<String>> = from_file.field(Field::word(3).unwrap()).collect().await.unwrap();
    assert_eq!(words[0].as_deref(), Some("status"));
    assert_eq!(words[1].as_deref(), Some("and"));
    assert_eq!(words[3], None);
}

#[tokio::test]
async fn on_a_cluster_that_reads_no_files_the_driver_reads_them_and_uploads_the_fields() {
    let dir = scratch("fake");
    std::fs::write(dir.join("a.log"), "x 1\ny 2\nx 3\nshort\n").unwrap();
    let cluster = FakeCluster::with_common_types();
    let engine = cluster.engine();
    let mut counts = engine
        .text_files([dir.join("a.log")])
        .field(Field::word(1).unwrap())
        .count_by_value()
        .collect()
        .await
        .unwrap();
    counts.sort();
    assert_eq!(
        counts,
        vec![
            (Some("short".to_string()), 1),
            (Some("x".to_string()), 2),
            (Some("y".to_string()), 1)
        ]
    );
    assert_eq!(
        cluster.calls(),
        ["upload core::option::Option<String> 4", "stage CountByValue", "fetch"]
    );
}

#[tokio::test]
async fn new_files_gives_each_file_once_and_leaves_out_files_being_written() {
    let dir = scratch("new");
    std::fs::write(dir.join("old.log"), "x\n").unwrap();
    std::fs::write(dir.join(".partial"), "x\n").unwrap();
    std::fs::write(dir.join("_temporary"), "x\n").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let mut files = zpark::source::new_files(&dir, Duration::from_millis(5)).skipping([dir.join("done.log")]);
    std::fs::write(dir.join("done.log"), "x\n").unwrap();
    assert_eq!(files.next().await.unwrap().unwrap(), dir.join("old.log"));
    std::fs::rename(dir.join(".partial"), dir.join("new.log")).unwrap();
    assert_eq!(files.next().await.unwrap().unwrap(), dir.join("new.log"));
    // Nothing else arrives: no file is given twice, and the skipped one never.
    let nothing = tokio::time::timeout(Duration::from_millis(100), files.next()).await;
    assert!(nothing.is_err(), "{nothing:?}");
}

#[tokio::test]
async fn a_directory_that_cannot_be_read_is_an_error_and_the_end() {
    let mut files = zpark::source::new_files("/no/such/zpark-dir", Duration::from_millis(5));
    let error = files.next().await.unwrap().unwrap_err();
    assert!(
        matches!(&error, Error::Io { input, .. } if input == "/no/such/zpark-dir"),
        "{error:?}"
    );
    assert!(files.next().await.is_none());
}

#[tokio::test]
async fn files_arriving_over_time_are_each_in_one_slice_and_counted_once() {
    let dir = scratch("slices");
    let engine = Engine::local(2);
    let incoming = dir.clone();
    let writer = tokio::spawn(async move {
        for i in 0..6 {
            let part = incoming.join(format!(".part-{i}"));
            std::fs::write(&part, format!("k{} a\nk{} b\n", i % 2, i % 3)).unwrap();
            std::fs::rename(&part, incoming.join(format!("part-{i}.log"))).unwrap();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    });
    let slices: Vec<(SliceTime, Rdd<String>)> = zpark::source::new_files(&dir, Duration::from_millis(5))
        .take(6)
        .discretize_files(&engine, Duration::from_millis(100))
        .collect()
        .await;
    writer.await.unwrap();
    assert!(
        slices.len() >= 2,
        "six files over 240 ms in slices of 100 ms: {}",
        slices.len()
    );
    let mut all = Vec::new();
    for (_, lines) in &slices {
        assert_eq!(
            lines.partitions(),
            lines.count().await.unwrap().div_ceil(2).max(1) as usize
        );
        all.extend(lines.collect().await.unwrap());
    }
    all.sort();
    let mut expected: Vec<String> = (0..6)
        .flat_map(|i| [format!("k{} a", i % 2), format!("k{} b", i % 3)])
        .collect();
    expected.sort();
    assert_eq!(all, expected);
}

/// With the `parquet` feature (the workspace's tests have it, through zpark-spark's): slices of
/// Parquet files, each record one JSON object of its columns; the fixtures are the CLI's
/// (written by Spark 4.3: 300 records, `action` null in every 17th).
#[cfg(feature = "parquet")]
#[tokio::test]
async fn slices_of_parquet_files_are_their_records_as_json_objects() {
    use zpark::engine::FileFormat;
    let dir = scratch("parquet");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../zpark-cli/tests/data");
    for name in ["events-a.parquet", "events-b.parquet"] {
        std::fs::copy(data.join(name), dir.join(name)).unwrap();
    }
    let engine = Engine::local(2);
    let slices: Vec<(SliceTime, Rdd<String>)> = zpark::source::new_files(&dir, Duration::from_millis(5))
        .take(2)
        .discretize_files_as(&engine, Duration::from_millis(50), FileFormat::Parquet)
        .collect()
        .await;
    let mut counts = std::collections::BTreeMap::new();
    for (_, records) in &slices {
        for (action, n) in records
            .field(Field::json("action").unwrap())
            .count_by_value()
            .collect()
            .await
            .unwrap()
        {
            *counts.entry(action).or_insert(0) += n;
        }
    }
    assert_eq!(counts.get(&None), Some(&18), "{counts:?}");
    assert_eq!(counts.values().sum::<u64>(), 300);
    let first = engine
        .parquet_files([dir.join("events-a.parquet")])
        .collect()
        .await
        .unwrap();
    assert_eq!(
        first[1],
        r#"{"time":"00:01","action":"remove","package":"zlib","size":-13,"ok":true}"#
    );
    let _ = std::fs::remove_dir_all(&dir);
}
