//! Failures surface as `Err` items with context; the pipeline neither hangs nor aborts.

use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;

#[tokio::test]
async fn a_panicking_closure_fails_its_slice_and_later_slices_still_come() {
    let engine = Engine::local(2);
    let results: Vec<zpark::Result<u32>> = futures::stream::iter(0..12u32)
        .parallelize(&engine, 4)
        .map_rdd(|x| if x == 5 { panic!("five is not allowed") } else { x * 2 })
        .continuize()
        .collect()
        .await;
    let oks: Vec<u32> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    assert_eq!(oks, vec![0, 2, 4, 6, 16, 18, 20, 22], "slices 0 and 2 intact");
    let errors: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "one Err for the failed slice");
    let text = errors[0].report().to_string();
    assert!(text.contains("slice 1"), "{text}");
    assert!(text.contains("`map`") && text.contains("five is not allowed"), "{text}");
    assert!(matches!(errors[0], Error::Slice { index: 1, .. }));
}

#[tokio::test]
async fn the_error_names_the_operation_whose_closure_panicked() {
    let engine = Engine::local(2);
    let cases: Vec<(&str, Rdd<u32>)> = vec![
        ("filter", engine.parallelize(vec![1, 2], 2).filter(|_| panic!("boom"))),
        (
            "flat_map",
            engine
                .parallelize(vec![1, 2], 2)
                .flat_map(|_| -> Vec<u32> { panic!("boom") }),
        ),
        (
            "reduce_by_key",
            engine
                .parallelize(vec![(1, 1), (1, 2)], 1)
                .reduce_by_key(|_, _| panic!("boom"))
                .map(|(k, _)| k),
        ),
        (
            "reduce",
            engine
                .parallelize(vec![1, 2, 3], 1)
                .reduce_as_rdd(|_, _| panic!("boom")),
        ),
        (
            "map",
            engine
                .parallelize(vec![1u32], 1)
                .map(|x| x + 1)
                .map(|_| -> u32 { panic!("boom") })
                .persist(),
        ),
    ];
    for (operation, rdd) in cases {
        let error = rdd.collect().await.expect_err(operation);
        match error.root() {
            Error::ClosurePanicked {
                operation: named,
                message,
            } => {
                assert_eq!(*named, operation);
                assert_eq!(message, "boom");
            }
            other => panic!("{operation}: unexpected {other}"),
        }
    }
}

#[tokio::test]
async fn a_failed_persisted_stage_is_tried_again_and_the_engine_survives() {
    let engine = Engine::local(1);
    let rdd = engine
        .parallelize(vec![1, 2, 3], 1)
        .map(|x: i32| if x == 2 { panic!("two") } else { x })
        .persist();
    assert!(rdd.collect().await.is_err());
    assert!(
        rdd.count().await.is_err(),
        "asked again, fails again: not a stale success"
    );
    assert_eq!(
        engine
            .parallelize(vec![1, 2], 1)
            .count()
            .await
            .expect("the pool still works"),
        2
    );
}

#[test]
fn unknown_engine_urls_list_the_accepted_forms() {
    for url in ["spark://h:7077", "local[0]", "mesos://x"] {
        let error = Engine::connect(url).expect_err(url);
        let text = error.to_string();
        assert!(
            text.contains(url) && text.contains("local[N]") && text.contains("sc://HOST:PORT"),
            "{text}"
        );
    }
}

#[test]
fn a_spark_url_without_the_spark_engine_says_how_to_get_it() {
    let error = Engine::connect("sc://127.0.0.1:15002").expect_err("no Spark engine registered here");
    assert!(matches!(error, Error::EngineUnavailable { .. }));
    assert!(error.to_string().contains("zpark_spark::register()"), "{error}");
}

#[test]
fn time_slicing_outside_a_runtime_is_an_error_not_a_panic() {
    let engine = Engine::local(1);
    let results: Vec<zpark::Result<u32>> = futures::executor::block_on(
        futures::stream::iter(0..3u32)
            .discretize(&engine, Duration::from_millis(10))
            .continuize()
            .collect(),
    );
    assert_eq!(results.len(), 1);
    let error = results[0].as_ref().expect_err("no runtime");
    assert!(error.report().to_string().contains("tokio runtime"), "{error}");
}

#[tokio::test]
async fn a_panicking_input_fails_the_stream_instead_of_ending_it_quietly() {
    let engine = Engine::local(1);
    let input = futures::stream::iter(0..5u32).map(|x| if x == 3 { panic!("source broke") } else { x });
    let results: Vec<zpark::Result<u32>> = input
        .discretize(&engine, Duration::from_secs(3600))
        .continuize()
        .collect()
        .await;
    let last = results
        .last()
        .expect("an item")
        .as_ref()
        .expect_err("the panic surfaces");
    assert!(last.report().to_string().contains("source broke"), "{last}");
}
