//! Sources and sinks: files, growing files, sockets, the input policy.

use std::io::Write;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use zpark::prelude::*;
use zpark::source::{follow, lines, tcp_lines, InputReport};

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("zpark-test-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write a temporary file");
    path
}

#[tokio::test]
async fn lines_of_a_file_then_a_pipeline() {
    let path = temp_file("numbers.txt", "1\n2\n\n3\r\n");
    let engine = Engine::local(2);
    let report = InputReport::new();
    let sum: Vec<u32> = lines(&path)
        .on_error(OnError::Fail, &report)
        .filter(|l| futures::future::ready(!l.is_empty()))
        .map(|l| l.trim().parse::<u32>().expect("numbers"))
        .parallelize(&engine, 10)
        .reduce_rdd(|a, b| a + b)
        .continuize()
        .map(|r| r.expect("slice"))
        .collect()
        .await;
    assert_eq!(sum, vec![6]);
    report.finish().expect("no input error");
    assert_eq!(report.accepted(), 4);
}

#[tokio::test]
async fn a_missing_file_is_an_error_that_names_it() {
    let report = InputReport::new();
    let got: Vec<String> = lines("/no/such/zpark/file.txt")
        .on_error(OnError::Fail, &report)
        .collect()
        .await;
    assert!(got.is_empty());
    let error = report.finish().expect_err("the open failed");
    assert!(error.to_string().contains("/no/such/zpark/file.txt"), "{error}");
}

#[tokio::test]
async fn skip_counts_bad_records_and_keeps_the_first_errors() {
    let records = futures::stream::iter(["1", "x", "3", "y"])
        .enumerate()
        .map(|(i, text)| {
            text.parse::<u32>().map_err(|e| Error::Parse {
                input: "memory".into(),
                line: i as u64 + 1,
                record: text.into(),
                reason: e.to_string(),
            })
        });
    let report = InputReport::new();
    let good: Vec<u32> = records.on_error(OnError::Skip, &report).collect().await;
    assert_eq!(good, vec![1, 3]);
    assert_eq!((report.accepted(), report.rejected()), (2, 2));
    let first = report.first_errors();
    assert_eq!(first.len(), 2);
    assert!(
        first[0].to_string().starts_with("memory:2: cannot parse \"x\""),
        "{}",
        first[0]
    );
    report.finish().expect("skip does not fail");
}

#[tokio::test]
async fn follow_reads_what_is_appended_and_restarts_after_truncation() {
    let path = temp_file("growing.log", "a\n");
    let mut stream = Box::pin(follow(&path));
    assert_eq!(stream.next().await.expect("a line").expect("ok"), "a");
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    file.write_all(b"b\nc-partial").expect("append");
    file.flush().expect("flush");
    assert_eq!(stream.next().await.expect("a line").expect("ok"), "b");
    file.write_all(b"-done\n").expect("append");
    assert_eq!(stream.next().await.expect("a line").expect("ok"), "c-partial-done");
    std::fs::write(&path, "new\n").expect("truncate");
    let line = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("in time");
    assert_eq!(line.expect("a line").expect("ok"), "new");
}

#[tokio::test]
async fn follow_survives_log_rotation_without_losing_a_line() {
    let path = temp_file("rotated.log", "one\n");
    let mut stream = Box::pin(follow(&path));
    async fn next(stream: &mut (impl futures::Stream<Item = zpark::Result<String>> + Unpin)) -> String {
        let line = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("in time");
        line.expect("a line").expect("ok")
    }
    assert_eq!(next(&mut stream).await, "one");
    // Written to the old file just before it is renamed away, then a new file at the path.
    let mut old = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    old.write_all(b"two\nthree-without-newline").expect("append");
    let rotated = path.with_extension("log.1");
    std::fs::rename(&path, &rotated).expect("rotate");
    std::fs::write(&path, "four\n").expect("new file");
    assert_eq!(next(&mut stream).await, "two");
    assert_eq!(next(&mut stream).await, "three-without-newline");
    assert_eq!(next(&mut stream).await, "four");
    std::fs::write(&rotated, "").expect("tidy");
}

#[tokio::test]
async fn lines_from_a_local_socket() {
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = server.local_addr().expect("address").to_string();
    let writer = tokio::spawn(async move {
        let (mut socket, _) = server.accept().await.expect("accept");
        for i in 0..100 {
            socket
                .write_all(format!("{}\n", i % 3).as_bytes())
                .await
                .expect("write");
        }
    });
    let engine = Engine::local(2);
    let mut counts: Vec<(String, u64)> = tcp_lines(&address)
        .map(|l| l.expect("line"))
        .parallelize(&engine, 1000)
        .count_rdd_by_value()
        .continuize()
        .map(|r| r.expect("slice"))
        .collect()
        .await;
    counts.sort();
    assert_eq!(
        counts,
        vec![("0".to_string(), 34), ("1".to_string(), 33), ("2".to_string(), 33)]
    );
    writer.await.expect("writer");
}

#[tokio::test]
async fn a_refused_connection_names_the_address() {
    // Bind then drop: the port is very likely free and refuses connections.
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").to_string()
    };
    let first = tcp_lines(&address).next().await.expect("one item");
    let error = first.expect_err("refused");
    assert!(error.to_string().contains(&format!("tcp://{address}")), "{error}");
}

#[tokio::test]
async fn the_sink_writes_one_line_per_result_and_forward_stops_at_an_error() {
    let engine = Engine::local(2);
    let mut sink = zpark::sink::lines_to(Vec::new(), "memory");
    futures::stream::iter([1u8, 1, 2])
        .parallelize(&engine, 3)
        .count_rdd()
        .continuize()
        .forward(&mut sink)
        .await
        .expect("forward");
    sink.close().await.expect("close");
    assert_eq!(sink.written(), 1);
    assert_eq!(String::from_utf8(sink.into_inner()).expect("utf-8"), "3\n");
}

#[tokio::test]
async fn a_line_that_is_not_utf8_is_one_error_naming_its_line_and_the_lines_go_on() {
    let path = std::env::temp_dir().join(format!("zpark-test-{}-latin1.txt", std::process::id()));
    std::fs::write(&path, b"a\ncaf\xe9\nb\n").expect("write");
    let report = InputReport::new();
    let text: Vec<String> = lines(&path).on_error(OnError::Skip, &report).collect().await;
    assert_eq!(text, vec!["a", "b"]);
    assert_eq!(report.rejected(), 1);
    let error = report.first_errors().remove(0).to_string();
    assert!(
        error.contains(":2:") && error.contains("not UTF-8 (byte 4 of the line)"),
        "{error}"
    );
    let bytes: Vec<Vec<u8>> = lines(&path).bytes().map(|l| l.expect("readable").item).collect().await;
    assert_eq!(bytes, vec![b"a".to_vec(), b"caf\xe9".to_vec(), b"b".to_vec()]);
}
