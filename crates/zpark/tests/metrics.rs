//! The metrics side stream of `continuize`, on tokio's paused clock: exact records and times,
//! the delay of a consumer slower than the slices, and the late elements of event time.

use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;
use zpark::slice_ops::{Measured, SliceMetrics};

const MS: fn(u64) -> Duration = Duration::from_millis;

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn records_and_times_of_each_slice_exactly() {
    let engine = Engine::local(2);
    let mut elements = zpark::source::naturals_every(MS(100))
        .take(20)
        .discretize_keep_time(&engine, MS(500))
        .continuize();
    let metrics = elements.metrics();
    assert_eq!(elements.count().await, 20);
    let metrics: Vec<SliceMetrics> = metrics.collect().await;
    let slices: Vec<(u64, Option<SliceTime>, u64)> = metrics.iter().map(|m| (m.slice, m.time, m.records)).collect();
    assert_eq!(
        slices,
        (1..=4u64)
            .map(|k| (k, Some(SliceTime::with_interval(MS(500 * k), MS(500))), 5))
            .collect::<Vec<_>>()
    );
    // Each slice reached its consumer at its end: no delay.
    assert!(metrics.iter().all(|m| m.scheduling_delay.is_zero()), "{metrics:?}");
    assert!(metrics.iter().all(|m| m.late == 0));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_consumer_slower_than_the_slices_falls_behind_and_it_shows() {
    let engine = Engine::local(2);
    let mut elements = zpark::source::naturals_every(MS(100))
        .take(30)
        .discretize_keep_time(&engine, MS(500))
        .continuize_buffered(1);
    let metrics = elements.metrics();
    // 200 ms per element: a slice of 5 takes 1 s to consume, twice its length.
    let consumed = elements
        .then(|element| async move {
            tokio::time::sleep(MS(200)).await;
            element
        })
        .count()
        .await;
    assert_eq!(consumed, 30);
    let delays: Vec<Duration> = metrics.map(|m| m.scheduling_delay).collect().await;
    assert_eq!(delays.len(), 6);
    assert!(delays[0].is_zero(), "{delays:?}");
    assert!(
        delays.windows(2).all(|pair| pair[1] > pair[0]),
        "each slice later than the one before: {delays:?}"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_late_elements_of_event_time_by_slice() {
    let engine = Engine::local(1);
    // Seconds; slices of 10 s, no lateness: 3 comes after [0, 10) closed, 14 after [10, 20).
    let slices = futures::stream::iter([1u64, 12, 3, 25, 14, 31]).discretize_by_event_time(
        &engine,
        |t| Duration::from_secs(*t),
        Duration::from_secs(10),
        Duration::ZERO,
    );
    let late = slices.late_count();
    let mut elements = slices.continuize();
    let metrics = elements.metrics_with_late(late);
    assert_eq!(elements.count().await, 4);
    let by_slice: Vec<(u64, u64)> = metrics.map(|m| (m.records, m.late)).collect().await;
    assert_eq!(by_slice.iter().map(|(_, late)| late).sum::<u64>(), 2, "{by_slice:?}");
    assert_eq!(
        by_slice.iter().map(|(records, _)| records).sum::<u64>(),
        4,
        "{by_slice:?}"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_state_size_of_a_window_and_of_sessions() {
    let engine = Engine::local(2);
    // Keys 0..4 in the first second, 10..12 after: a window of 1 s holds 4 keys, then 2.
    let pairs = || {
        zpark::source::naturals_every(MS(100))
            .take(20)
            .map(|n| (if n < 10 { n % 4 } else { 10 + n % 2 }, 1u64))
    };
    let windows =
        pairs()
            .discretize_keep_time(&engine, MS(500))
            .reduce_by_key_and_window(|a, b| a + b, MS(1000), MS(1000));
    let state = windows.state_size();
    let mut sums = windows.continuize();
    let metrics = sums.metrics_with(Measured::default().state(state));
    let _ = sums.count().await;
    let keys: Vec<Option<u64>> = metrics.map(|m| m.state_keys).collect().await;
    assert_eq!(keys, vec![Some(4), Some(2)]);

    let sessions = pairs()
        .discretize_keep_time(&engine, MS(500))
        .reduce_by_key_and_session(|a, b| a + b, MS(1000));
    let state = sessions.state_size();
    let mut closed = sessions.continuize();
    let metrics = closed.metrics_with(Measured::default().state(state));
    let _ = closed.count().await;
    let open: Vec<u64> = metrics.filter_map(|m| async move { m.state_keys }).collect().await;
    // 4 keys open after the first second; keys 0..4 closed 1 s after it, while 10 and 11 run.
    assert_eq!(open.first(), Some(&4));
    assert!(open.contains(&2), "{open:?}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn records_rejected_by_the_source_by_slice() {
    let engine = Engine::local(1);
    let report = zpark::source::InputReport::new();
    let lines = futures::stream::iter(["1", "x", "2", "y", "z", "3"]).map(|line| {
        line.parse::<u64>().map_err(|e| zpark::Error::Parse {
            input: "test".into(),
            line: 0,
            record: line.into(),
            reason: e.to_string(),
        })
    });
    let mut elements = lines
        .on_error(OnError::Skip, &report)
        .parallelize(&engine, 1)
        .continuize();
    let metrics = elements.metrics_with(Measured::default().rejected(report.clone()));
    assert_eq!(elements.count().await, 3);
    let rejected: u64 = metrics.map(|m| m.rejected).collect::<Vec<_>>().await.iter().sum();
    assert_eq!(rejected, 3);
}
