//! Time-based slicing and windows on tokio's paused clock: exact, repeatable slices.

use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::time::{sleep, Instant};
use zpark::prelude::*;
use zpark::source::naturals_every;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn contents<S: Stream<Item = Rdd<u64>>>(slices: S) -> Vec<Vec<u64>> {
    let mut out = Vec::new();
    let mut slices = std::pin::pin!(slices);
    while let Some(rdd) = slices.next().await {
        out.push(rdd.collect().await.expect("slice"));
    }
    out
}

/// Elements every `gaps[i]` after the previous one (the first after `gaps[0]`).
fn arriving_after(gaps: Vec<u64>) -> impl Stream<Item = u64> + Send + 'static {
    futures::stream::iter(gaps.into_iter().enumerate()).then(|(i, gap)| async move {
        sleep(ms(gap)).await;
        i as u64
    })
}

#[tokio::test(start_paused = true)]
async fn ticks_every_10ms_give_exactly_50_per_500ms_slice_and_nothing_lost() {
    let engine = Engine::local(2);
    let slices = contents(naturals_every(ms(10)).take(5000).discretize(&engine, ms(500))).await;
    assert_eq!(slices.len(), 100);
    assert!(
        slices.iter().all(|s| s.len() == 50),
        "{:?}",
        slices.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let all: Vec<u64> = slices.into_iter().flatten().collect();
    assert_eq!(all, (0..5000).collect::<Vec<_>>(), "every element once, in order");
}

#[tokio::test(start_paused = true)]
async fn an_element_at_a_slice_boundary_belongs_to_the_next_slice() {
    let engine = Engine::local(1);
    // Elements at t = 500, 1000 (both boundaries) and 1200.
    let slices = contents(arriving_after(vec![500, 500, 200]).discretize(&engine, ms(500))).await;
    assert_eq!(slices, vec![vec![], vec![0], vec![1, 2]]);
}

#[tokio::test(start_paused = true)]
async fn idle_intervals_give_empty_slices() {
    let engine = Engine::local(1);
    let slices = contents(arriving_after(vec![100, 2000]).discretize(&engine, ms(500))).await;
    assert_eq!(slices, vec![vec![0], vec![], vec![], vec![], vec![1]]);
}

#[tokio::test(start_paused = true)]
async fn the_last_partial_slice_is_emitted_when_the_input_ends() {
    let engine = Engine::local(1);
    let start = Instant::now();
    let slices: Vec<(SliceTime, Rdd<u64>)> = naturals_every(ms(100))
        .take(7)
        .discretize_keep_time(&engine, ms(500))
        .collect()
        .await;
    assert_eq!(slices.len(), 2);
    assert_eq!(slices[1].0, SliceTime::from_millis(1000));
    assert_eq!(slices[1].1.collect().await.expect("slice"), vec![5, 6]);
    assert!(
        start.elapsed() < ms(1000),
        "the last slice does not wait for the end of its interval"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_consumer_does_not_distort_the_slices() {
    let engine = Engine::local(2);
    let mut slices = std::pin::pin!(naturals_every(ms(10)).take(1000).discretize(&engine, ms(500)));
    let mut sizes = Vec::new();
    while let Some(rdd) = slices.next().await {
        // Awaited as any consumer would: the paused clock stays while the engine counts, so
        // only the sleep below is the consumer's slowness.
        sizes.push(rdd.count().await.expect("slice"));
        // The first 8 slices take three intervals each: a backlog within the slicer's buffer.
        if sizes.len() <= 8 {
            sleep(ms(1500)).await;
        }
    }
    assert_eq!(sizes, vec![50; 20]);
}

#[tokio::test(start_paused = true)]
async fn a_consumer_slower_than_the_clock_for_ever_still_gets_every_element_once() {
    let engine = Engine::local(2);
    let mut slices = std::pin::pin!(naturals_every(ms(10)).take(3000).discretize(&engine, ms(500)));
    let mut seen = Vec::new();
    while let Some(rdd) = slices.next().await {
        seen.extend(rdd.collect().await.expect("slice"));
        sleep(ms(1500)).await; // three intervals per slice, for the whole run
    }
    assert_eq!(
        seen,
        (0..3000).collect::<Vec<_>>(),
        "back-pressure: slower, but nothing lost or doubled"
    );
}

// On the real clock: a paused clock only moves when the runtime is idle, and it never is here.
#[tokio::test]
async fn an_always_ready_input_does_not_hide_the_clock() {
    let engine = Engine::local(1);
    // `naturals()` is always ready: the slicer must still close slices on time and let the
    // consumer run on this one-thread runtime.
    let mut slices = std::pin::pin!(zpark::source::naturals().discretize(&engine, ms(1)));
    let first = slices.next().await.expect("a first slice");
    let second = slices.next().await.expect("a second slice");
    assert!(first.count().await.expect("slice") > 0);
    let _ = second.count().await.expect("slice");
}

#[tokio::test(start_paused = true)]
async fn discretize_within_closes_on_size_or_time() {
    let engine = Engine::local(1);
    // 5 quick elements, then one after a pause longer than the interval.
    let slices = contents(arriving_after(vec![1, 1, 1, 1, 1, 900]).discretize_within(&engine, 3, ms(500))).await;
    assert_eq!(slices, vec![vec![0, 1, 2], vec![3, 4], vec![5]]);
}

#[test]
#[should_panic(expected = "parallelize: a slice needs at least 1 element (n = 0 given); use n >= 1")]
fn parallelize_of_zero_is_refused_at_the_call() {
    let _ = futures::stream::iter(0..3).parallelize(&Engine::local(1), 0);
}

#[test]
#[should_panic(expected = "discretize: the slice interval must be longer than zero")]
fn discretize_of_zero_is_refused_at_the_call() {
    let _ = futures::stream::iter(0..3).discretize(&Engine::local(1), Duration::ZERO);
}

#[test]
#[should_panic(expected = "discretize_keep_time: the slice interval must be longer than zero")]
fn discretize_keep_time_of_zero_is_refused_at_the_call() {
    let _ = futures::stream::iter(0..3).discretize_keep_time(&Engine::local(1), Duration::ZERO);
}

#[test]
#[should_panic(expected = "discretize_within: a slice needs room for at least 1 element")]
fn discretize_within_of_zero_elements_is_refused_at_the_call() {
    let _ = futures::stream::iter(0..3).discretize_within(&Engine::local(1), 0, ms(5));
}

#[test]
#[should_panic(expected = "window_rdd: the window must be longer than zero")]
fn a_zero_window_is_refused_at_the_call() {
    let engine = Engine::local(1);
    let _ = futures::stream::iter(0..3)
        .discretize_keep_time(&engine, ms(5))
        .window_rdd(Duration::ZERO, ms(5));
}

async fn window_counts(ticks: usize, window: u64, slide: u64) -> Vec<(u64, u64)> {
    let engine = Engine::local(2);
    naturals_every(ms(100))
        .take(ticks)
        .discretize_keep_time(&engine, ms(500))
        .window_rdd(ms(window), ms(slide))
        .then(|(t, rdd)| async move { (t.as_duration().as_millis() as u64, rdd.count().await.expect("window")) })
        .collect()
        .await
}

#[tokio::test(start_paused = true)]
async fn sliding_window_larger_than_its_slide_has_partial_first_windows() {
    // 5 per slice, slices at 0.5 .. 3.0 s; window 1.5 s every 0.5 s; at the end of input,
    // the windows at 3.5 and 4.0 s still hold the last slices.
    let windows = window_counts(30, 1500, 500).await;
    assert_eq!(
        windows,
        vec![
            (500, 5),
            (1000, 10),
            (1500, 15),
            (2000, 15),
            (2500, 15),
            (3000, 15),
            (3500, 10),
            (4000, 5)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn tumbling_window() {
    assert_eq!(
        window_counts(30, 1000, 1000).await,
        vec![(1000, 10), (2000, 10), (3000, 10)]
    );
}

#[tokio::test(start_paused = true)]
async fn slide_larger_than_window_skips_slices() {
    // Windows at 1.0, 2.0, 3.0 s of 0.5 s: only the slice ending at each boundary.
    assert_eq!(
        window_counts(30, 500, 1000).await,
        vec![(1000, 5), (2000, 5), (3000, 5)]
    );
}

#[tokio::test(start_paused = true)]
async fn windows_of_empty_slices_are_emitted_with_count_zero() {
    let engine = Engine::local(1);
    let counts: Vec<u64> = arriving_after(vec![100, 2800])
        .discretize_keep_time(&engine, ms(500))
        .count_by_window(ms(1000), ms(500))
        .continuize()
        .map(|r| r.expect("window"))
        .collect()
        .await;
    // Slices: 0.5 [0], 1.0 .. 2.5 empty, 3.0 [1]; windows at every 0.5 s, the one at 3.5 s
    // at the end of input.
    assert_eq!(counts, vec![1, 1, 0, 0, 0, 1, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_key_leaves_the_window() {
    let engine = Engine::local(2);
    // Key "a" only in the first second, key "b" throughout.
    let pairs = naturals_every(ms(100))
        .take(30)
        .map(|n| (if n < 10 { "a" } else { "b" }, 1u64));
    let windows: Vec<Vec<(&str, u64)>> = pairs
        .discretize_keep_time(&engine, ms(500))
        .reduce_by_key_and_window(|a, b| a + b, ms(1000), ms(1000))
        .then(|(_, rdd)| async move {
            let mut v = rdd.collect().await.expect("window");
            v.sort();
            v
        })
        .collect()
        .await;
    assert_eq!(windows, vec![vec![("a", 10)], vec![("b", 10)], vec![("b", 10)]]);
}

#[tokio::test(start_paused = true)]
async fn a_window_that_is_not_a_multiple_of_the_slice_is_the_first_error() {
    let engine = Engine::local(1);
    let results: Vec<zpark::Result<u64>> = naturals_every(ms(100))
        .take(30)
        .discretize_keep_time(&engine, ms(500))
        .count_by_window(ms(1200), ms(500))
        .continuize()
        .collect()
        .await;
    assert_eq!(results.len(), 1, "nothing after the error");
    let error = results[0].as_ref().expect_err("the first item is the error");
    assert!(matches!(error.root(), Error::InvalidArgument { .. }), "{error}");
    assert!(
        error
            .report()
            .to_string()
            .contains("whole multiples of the slice interval"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn windowed_reductions_agree_with_reducing_the_window() {
    let engine = Engine::local(2);
    let values = || naturals_every(ms(100)).take(40).map(|n| n % 7);
    let by_value: Vec<Vec<(u64, u64)>> = values()
        .discretize_keep_time(&engine, ms(500))
        .count_by_value_and_window(ms(1500), ms(500))
        .then(|(_, rdd)| async move {
            let mut v = rdd.collect().await.expect("window");
            v.sort();
            v
        })
        .collect()
        .await;
    let plain: Vec<Vec<(u64, u64)>> = values()
        .discretize_keep_time(&engine, ms(500))
        .window_rdd(ms(1500), ms(500))
        .then(|(_, rdd)| async move {
            let mut v = rdd.count_by_value().collect().await.expect("window");
            v.sort();
            v
        })
        .collect()
        .await;
    assert_eq!(by_value, plain);
    let sums: Vec<u64> = values()
        .discretize_keep_time(&engine, ms(500))
        .reduce_by_window(|a, b| a + b, ms(1500), ms(500))
        .continuize()
        .map(|r| r.expect("window"))
        .collect()
        .await;
    let expected: Vec<u64> = plain.iter().map(|w| w.iter().map(|(v, n)| v * n).sum()).collect();
    assert_eq!(sums, expected);
}

#[tokio::test(start_paused = true)]
async fn windows_over_empty_slices_at_the_end_count_zero() {
    let engine = Engine::local(1);
    // Two elements early, then the input stays open and idle until 2.2 s.
    let input = arriving_after(vec![100, 100]).chain(futures::stream::pending().take_until(sleep(ms(2200))));
    let counts: Vec<u64> = input
        .discretize_keep_time(&engine, ms(500))
        .count_by_window(ms(1000), ms(500))
        .continuize()
        .map(|r| r.expect("window"))
        .collect()
        .await;
    // Slices 0.5 [0, 1], 1.0 .. 2.5 empty; windows at 0.5 .. 2.5, and at 3.0 s at the end of
    // input (it holds the slice of 2.5 s).
    assert_eq!(counts, vec![2, 2, 0, 0, 0, 0]);
}

#[tokio::test(start_paused = true)]
async fn group_by_key_and_window_gathers_each_key_of_the_window() {
    let engine = Engine::local(2);
    let groups: Vec<Vec<(u64, Vec<u64>)>> = naturals_every(ms(100))
        .take(20)
        .map(|n| (n % 2, n))
        .discretize_keep_time(&engine, ms(500))
        .group_by_key_and_window(ms(1000), ms(1000))
        .then(|(_, rdd)| async move {
            let mut v = rdd.collect().await.expect("window");
            v.sort();
            v.iter_mut().for_each(|(_, values)| values.sort());
            v
        })
        .collect()
        .await;
    assert_eq!(
        groups,
        vec![
            vec![(0, vec![0, 2, 4, 6, 8]), (1, vec![1, 3, 5, 7, 9])],
            vec![(0, vec![10, 12, 14, 16, 18]), (1, vec![11, 13, 15, 17, 19])],
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_incremental_window_on_the_clock_matches_the_plain_one() {
    let engine = Engine::local(2);
    let pairs = || naturals_every(ms(100)).take(45).map(|n| (n % 3, n as i64));
    let collect_sorted = |(_, rdd): (SliceTime, Rdd<(u64, i64)>)| async move {
        let mut v = rdd.collect().await.expect("window");
        v.sort();
        v
    };
    let plain: Vec<_> = pairs()
        .discretize_keep_time(&engine, ms(500))
        .reduce_by_key_and_window(|a, b| a + b, ms(1500), ms(500))
        .then(collect_sorted)
        .collect()
        .await;
    let incremental: Vec<_> = pairs()
        .discretize_keep_time(&engine, ms(500))
        .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, ms(1500), ms(500))
        .then(collect_sorted)
        .collect()
        .await;
    assert_eq!(plain.len(), 11, "9 windows, then 2 at the end of input");
    assert_eq!(incremental, plain);
}

/// Batch sizes with runs of empty seconds (the case): batch i comes in the middle of
/// second i.
const BATCHES: [usize; 27] = [
    3, 0, 2, 0, 0, 4, 1, 0, 0, 0, 5, 2, 20, 0, 0, 24, 0, 0, 0, 0, 3, 24, 24, 0, 0, 0, 1,
];

/// A slice's elements, or its error.
type Collected = zpark::Result<Vec<(usize, usize)>>;

/// Batch i as `(i, j)` elements, sent by a producer task of its own at `start + i s + 500 ms`
/// (a producer that does not wait for the slicer, as a socket or a file writer does not: its
/// timers keep the paused clock moving whenever the runtime is idle).
fn batches_in_the_middle_of_their_second(start: Instant) -> impl Stream<Item = (usize, usize)> + Send + 'static {
    let (sender, batches) = futures::channel::mpsc::unbounded();
    tokio::spawn(async move {
        for (i, size) in BATCHES.iter().copied().enumerate() {
            tokio::time::sleep_until(start + Duration::from_secs(i as u64) + ms(500)).await;
            for j in 0..size {
                let _ = sender.unbounded_send((i, j));
            }
        }
    });
    batches
}

/// Without the engine's hold on the paused clock, the clock ran on from timer to timer while
/// the consumer awaited `collect`, the slicer's buffer filled, and batches landed in later
/// slices (seen in about 1 run of 10 here: 23 slices instead of 27).
#[tokio::test(start_paused = true)]
async fn engine_work_awaited_in_the_consume_loop_does_not_shift_the_slices() {
    let engine = Engine::local(2);
    for run in 0..200 {
        let start = Instant::now();
        let slices: Vec<(SliceTime, Collected)> = batches_in_the_middle_of_their_second(start)
            .discretize_keep_time(&engine, Duration::from_secs(1))
            // The engine's work awaited where a test naturally awaits it: in the consume loop.
            .then(|(t, rdd)| async move { (t, rdd.collect().await) })
            .collect()
            .await;
        assert_eq!(slices.len(), 27, "run {run}: one slice per second");
        for (i, (time, batch)) in slices.into_iter().enumerate() {
            assert_eq!(time, SliceTime::from_millis(1000 * (i as u64 + 1)), "run {run}");
            let mut batch = batch.expect("slice");
            batch.sort();
            let want: Vec<(usize, usize)> = (0..BATCHES[i]).map(|j| (i, j)).collect();
            assert_eq!(batch, want, "run {run}: slice {} holds batch {i}", i + 1);
        }
    }
}
