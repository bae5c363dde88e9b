//! Incremental windows, state across slices, event time, and combining slice streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::executor::block_on;
use futures::{Stream, StreamExt};
use proptest::prelude::*;
use zpark::prelude::*;
use zpark::source::naturals_every;
use zpark::state::{State, StateSpec};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::local(2))
}

/// Timed slices made by hand: slice k (from 1) at k·500 ms holds `data[k-1]`.
fn timed_slices<T: Data>(data: Vec<Vec<T>>) -> impl Stream<Item = (SliceTime, Rdd<T>)> {
    let slices: Vec<_> = data
        .into_iter()
        .enumerate()
        .map(|(k, elements)| {
            let time = SliceTime::with_interval(ms(500 * (k as u64 + 1)), ms(500));
            (time, engine().parallelize(elements, 2))
        })
        .collect();
    futures::stream::iter(slices)
}

async fn sorted_items<T: Data + Ord, S: Stream<Item = (SliceTime, Rdd<T>)>>(windows: S) -> Vec<(u64, Vec<T>)> {
    windows
        .then(|(time, rdd)| async move {
            let mut v = rdd.collect().await.expect("window");
            v.sort();
            (time.as_duration().as_millis() as u64, v)
        })
        .collect()
        .await
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_incremental_window_equals_the_plain_one(
        data in prop::collection::vec(prop::collection::vec((0u8..6, 1i64..100), 0..20), 1..16),
        window_slices in 1u64..6,
        slide_slices in 1u64..4,
    ) {
        let (window, slide) = (ms(500 * window_slices), ms(500 * slide_slices));
        let plain = block_on(sorted_items(timed_slices(data.clone()).reduce_by_key_and_window(|a, b| a + b, window, slide)));
        let incremental = block_on(sorted_items(
            timed_slices(data).reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, window, slide).keep_keys(|(_, v)| *v != 0),
        ));
        prop_assert_eq!(incremental, plain);
    }

    #[test]
    fn event_time_slicing_of_input_out_of_order_within_the_lateness_equals_sorted_input(
        mut times in prop::collection::vec(0u64..10_000, 1..200),
        jitter_seed in prop::collection::vec(0u64..1000, 200),
    ) {
        let lateness = 1000u64;
        times.sort();
        let sorted_slices = block_on(event_slices(times.clone(), lateness));
        // Each element moves by less than the lateness: sort by time + jitter, jitter < lateness.
        let mut shuffled: Vec<(u64, u64)> = times.iter().zip(&jitter_seed).map(|(t, j)| (t + j, *t)).collect();
        shuffled.sort();
        let shuffled: Vec<u64> = shuffled.into_iter().map(|(_, t)| t).collect();
        let (slices, late) = block_on(event_slices_with_late(shuffled, lateness));
        prop_assert_eq!(late, 0);
        prop_assert_eq!(slices, sorted_slices);
    }
}

async fn event_slices(times: Vec<u64>, lateness: u64) -> Vec<(u64, Vec<u64>)> {
    event_slices_with_late(times, lateness).await.0
}

async fn event_slices_with_late(times: Vec<u64>, lateness: u64) -> (Vec<(u64, Vec<u64>)>, u64) {
    let slices = futures::stream::iter(times).discretize_by_event_time(engine(), |t| ms(*t), ms(500), ms(lateness));
    let late = slices.late_count();
    let out = sorted_items(slices).await;
    (out, late.get())
}

#[tokio::test(start_paused = true)]
async fn late_elements_go_to_the_side_stream_and_are_counted() {
    // Times in ms; lateness 100 ms. 50 comes after [0, 500) closed (watermark 520), and 990
    // after [500, 1000) closed (1300 moved the watermark to 1200).
    let times = vec![10u64, 480, 620, 50, 1300, 990];
    let mut slices = futures::stream::iter(times).discretize_by_event_time(engine(), |t| ms(*t), ms(500), ms(100));
    let late = slices.late_elements();
    let count = slices.late_count();
    let out = sorted_items(slices).await;
    assert_eq!(out, vec![(500, vec![10, 480]), (1000, vec![620]), (1500, vec![1300])]);
    assert_eq!(late.collect::<Vec<_>>().await, vec![50, 990]);
    assert_eq!(count.get(), 2);
}

#[tokio::test(start_paused = true)]
async fn event_time_slices_feed_windows_without_a_run_of_empty_windows_before_the_data() {
    // Times near one hour after the epoch: windows start at the data, not at zero.
    let base = 3_600_000u64;
    let times: Vec<u64> = (0..20).map(|i| base + i * 100).collect();
    let windows = futures::stream::iter(times)
        .discretize_by_event_time(engine(), |t| ms(*t), ms(500), ms(0))
        .count_by_window(ms(1000), ms(1000))
        .continuize()
        .map(|r| r.expect("window"))
        .collect::<Vec<u64>>()
        .await;
    assert_eq!(windows, vec![10, 10]);
}

#[tokio::test(start_paused = true)]
async fn slices_shared_by_several_windows_are_computed_once() {
    let calls = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&calls);
    let windows: Vec<u64> = naturals_every(ms(100))
        .take(30)
        .discretize_keep_time(engine(), ms(500))
        .map_rdd(move |x| {
            seen.fetch_add(1, Ordering::Relaxed);
            x
        })
        .window_rdd(ms(1500), ms(500))
        .then(|(_, rdd)| async move { rdd.count().await.expect("window") })
        .collect()
        .await;
    assert_eq!(windows, vec![5, 10, 15, 15, 15, 15, 10, 5]);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        30,
        "each element mapped once though it is in 3 windows"
    );
}

#[tokio::test(start_paused = true)]
async fn update_state_by_key_keeps_a_running_total_and_removes_keys() {
    // Slices: [a, b], [a], [] ; a key's state is its count; b is removed when it sees no values.
    let totals = sorted_items(
        timed_slices(vec![vec![("a", 1), ("b", 1)], vec![("a", 1)], vec![]]).update_state_by_key(
            |new: Vec<i32>, old: Option<i32>| {
                if new.is_empty() && old.is_some() && old != Some(2) {
                    None
                } else {
                    Some(old.unwrap_or(0) + new.len() as i32)
                }
            },
        ),
    )
    .await;
    assert_eq!(
        totals,
        vec![
            (500, vec![("a", 1), ("b", 1)]),
            (1000, vec![("a", 2)]),
            (1500, vec![("a", 2)])
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_slice_leaves_the_state_as_it_was() {
    let slices = timed_slices(vec![vec![1u8], vec![2], vec![3]])
        .map_rdd(|x| if x == 2 { panic!("bad record") } else { (x % 2, 1u32) })
        .update_state_by_key(|new: Vec<u32>, old: Option<u32>| Some(old.unwrap_or(0) + new.len() as u32));
    let results: Vec<zpark::Result<Vec<(u8, u32)>>> = slices
        .then(|(_, rdd)| async move { rdd.collect().await })
        .collect()
        .await;
    assert_eq!(results[0].as_ref().ok(), Some(&vec![(1, 1)]));
    assert!(results[1]
        .as_ref()
        .expect_err("slice 2 fails")
        .to_string()
        .contains("bad record"));
    assert_eq!(
        results[2].as_ref().ok(),
        Some(&vec![(1, 2)]),
        "slice 3 builds on slice 1's state"
    );
}

#[tokio::test(start_paused = true)]
async fn map_with_state_emits_per_record_and_times_out_idle_keys() {
    let spec = StateSpec::new(|key: &&str, value: Option<u32>, state: &mut State<u32>| {
        if state.is_timing_out() {
            return Some(format!("{key} idle after {}", state.get().copied().unwrap_or(0)));
        }
        let total = state.get().copied().unwrap_or(0) + value.unwrap_or(0);
        state.update(total);
        Some(format!("{key}={total}"))
    })
    .timeout(ms(1000));
    // a at 0.5 s and 1.0 s; b at 0.5 s only; then quiet slices until 2.5 s.
    let data = vec![vec![("a", 1), ("b", 5)], vec![("a", 2)], vec![], vec![], vec![]];
    let outputs = sorted_items(timed_slices(data).map_with_state(spec)).await;
    assert_eq!(
        outputs,
        vec![
            (500, vec!["a=1".to_string(), "b=5".to_string()]),
            (1000, vec!["a=3".to_string()]),
            (1500, vec!["b idle after 5".to_string()]),
            (2000, vec!["a idle after 3".to_string()]),
            (2500, vec![]),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn merge_rdd_yields_every_slice_of_both() {
    let a = naturals_every(ms(100)).take(10).discretize(engine(), ms(500));
    let b = naturals_every(ms(300))
        .take(4)
        .map(|x| x + 100)
        .discretize(engine(), ms(500));
    let mut all: Vec<u64> = a.merge_rdd(b).continuize().map(|r| r.expect("slice")).collect().await;
    all.sort();
    let mut expected: Vec<u64> = (0..10).chain(100..104).collect();
    expected.sort();
    assert_eq!(all, expected);
}

#[tokio::test(start_paused = true)]
async fn union_rdd_joins_slices_of_the_same_time() {
    let streams: Vec<_> = (0..3u64)
        .map(|i| {
            naturals_every(ms(100))
                .take(10 + i as usize * 5)
                .map(move |x| x * 10 + i)
                .discretize_keep_time(engine(), ms(500))
        })
        .collect();
    let counts: Vec<(u64, u64)> = zpark::slice_ops::union_rdd(streams)
        .then(|(t, rdd)| async move { (t.as_duration().as_millis() as u64, rdd.count().await.expect("slice")) })
        .collect()
        .await;
    // Three streams of 10, 15 and 20 elements, 5 per slice per stream.
    assert_eq!(counts, vec![(500, 15), (1000, 15), (1500, 10), (2000, 5)]);
}
