//! The windows at the end of input (DESIGN.md, Semantics, Windows): when the input ends, the
//! windows that still hold one of its slices are emitted, at each further slide boundary `T`
//! while `T - window` is earlier than the last slice's time. Checked against a plain model of
//! that rule, for every window operation.

use std::sync::OnceLock;
use std::time::Duration;

use futures::executor::block_on;
use futures::StreamExt;
use proptest::prelude::*;
use zpark::prelude::*;
use zpark::window::SliceWindow;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::local(2))
}

const D: Duration = Duration::from_millis(100);

/// Slices every 100 ms, slice k (from 1) holding `sizes[k - 1]` elements, numbered in order.
fn timed_slices(sizes: &[usize]) -> Vec<(SliceTime, Vec<u64>)> {
    let mut next = 0u64;
    sizes
        .iter()
        .enumerate()
        .map(|(k, &size)| {
            let elements: Vec<u64> = (next..next + size as u64).collect();
            next += size as u64;
            (SliceTime::with_interval(D * (k as u32 + 1), D), elements)
        })
        .collect()
}

fn stream_of(slices: &[(SliceTime, Vec<u64>)]) -> impl futures::Stream<Item = (SliceTime, Rdd<u64>)> + Send + 'static {
    let items: Vec<_> = slices
        .iter()
        .map(|(time, elements)| (*time, engine().parallelize(elements.clone(), 2)))
        .collect();
    futures::stream::iter(items)
}

/// DESIGN.md's rule, in slices: windows of `window` slices every `slide` slices over `n`
/// slices; each window is its end and the slices (from 1) it holds.
fn model(n: u64, window: u64, slide: u64) -> Vec<(u64, Vec<u64>)> {
    let mut windows = Vec::new();
    let mut end = slide;
    // While the input runs: every boundary up to the last slice; at its end: those whose
    // window still holds a slice.
    while end <= n || (n > 0 && end.saturating_sub(window) < n) {
        let slices: Vec<u64> = (end.saturating_sub(window) + 1..=end.min(n)).collect();
        windows.push((end, slices));
        end += slide;
    }
    windows
}

async fn windows_of(sizes: &[usize], window: u32, slide: u32) -> Vec<(SliceTime, Vec<u64>)> {
    let mut out = Vec::new();
    let mut windows = std::pin::pin!(stream_of(&timed_slices(sizes)).window_rdd(D * window, D * slide));
    while let Some((time, rdd)) = windows.next().await {
        let mut elements = rdd.collect().await.expect("window");
        elements.sort();
        out.push((time, elements));
    }
    out
}

fn expected(sizes: &[usize], window: u64, slide: u64) -> Vec<(SliceTime, Vec<u64>)> {
    let slices = timed_slices(sizes);
    model(sizes.len() as u64, window, slide)
        .into_iter()
        .map(|(end, inside)| {
            let mut elements: Vec<u64> = inside.iter().flat_map(|k| slices[*k as usize - 1].1.clone()).collect();
            elements.sort();
            (SliceTime::new(D * end as u32), elements)
        })
        .collect()
}

#[test]
fn the_last_tumbling_window_is_emitted_partial() {
    // 5 slices of 2, windows of 2 slices every 2: the window at slice 6 holds slice 5 alone.
    let counts: Vec<usize> = block_on(windows_of(&[2; 5], 2, 2))
        .into_iter()
        .map(|(_, w)| w.len())
        .collect();
    assert_eq!(counts, vec![4, 4, 2]);
}

#[test]
fn three_slices_in_windows_of_three_sliding_by_one_give_five_windows() {
    let windows = block_on(windows_of(&[1, 1, 1], 3, 1));
    let contents: Vec<Vec<u64>> = windows.iter().map(|(_, w)| w.clone()).collect();
    assert_eq!(contents, vec![vec![0], vec![0, 1], vec![0, 1, 2], vec![1, 2], vec![2]]);
    let ends: Vec<u128> = windows.iter().map(|(t, _)| t.as_duration().as_millis()).collect();
    assert_eq!(ends, vec![100, 200, 300, 400, 500]);
}

#[test]
fn no_input_gives_no_window() {
    assert!(block_on(windows_of(&[], 3, 1)).is_empty());
}

#[test]
fn the_counting_windows_end_as_the_plain_window() {
    let counts: Vec<u64> = block_on(
        stream_of(&timed_slices(&[3, 0, 4]))
            .count_by_window(D * 2, D)
            .continuize()
            .map(|r| r.expect("window"))
            .collect(),
    );
    assert_eq!(counts, vec![3, 3, 4, 4]);
}

#[test]
fn a_slice_window_finishes_as_the_stream_window() {
    let mut window = SliceWindow::new(3, 2);
    let mut ends = Vec::new();
    for k in 1..=5u64 {
        let pushed = window.push(k, engine().parallelize(vec![k], 1)).expect("push");
        ends.extend(pushed.into_iter().map(|(end, _)| end));
    }
    let finished: Vec<(u64, Vec<u64>)> = block_on(async {
        let mut out = Vec::new();
        for (end, rdd) in window.finish() {
            let mut v = rdd.collect().await.expect("window");
            v.sort();
            out.push((end, v));
        }
        out
    });
    assert_eq!(ends, vec![2, 4]);
    // Windows at slices 6 (slices 4, 5) and none at 8 (slices 6 to 8 are past the input).
    assert_eq!(finished, vec![(6, vec![4, 5])]);
    assert!(window.finish().is_empty(), "finished once");
}

proptest! {
    #[test]
    fn every_window_matches_the_model_and_every_element_is_in_window_over_slide_windows(
        sizes in prop::collection::vec(0usize..5, 0..25),
        slide in 1u32..5,
        times in 1u32..5,
    ) {
        let window = slide * times;
        let got = block_on(windows_of(&sizes, window, slide));
        prop_assert_eq!(&got, &expected(&sizes, u64::from(window), u64::from(slide)));
        let total: usize = sizes.iter().sum();
        for element in 0..total as u64 {
            let seen = got.iter().filter(|(_, w)| w.contains(&element)).count();
            prop_assert_eq!(seen, times as usize, "element {} in {} windows", element, seen);
        }
    }

    #[test]
    fn any_window_and_slide_match_the_model(
        sizes in prop::collection::vec(0usize..4, 0..20),
        window in 1u32..6,
        slide in 1u32..6,
    ) {
        let got = block_on(windows_of(&sizes, window, slide));
        prop_assert_eq!(got, expected(&sizes, u64::from(window), u64::from(slide)));
    }

    #[test]
    fn the_incremental_window_equals_the_plain_one_at_the_end_too(
        sizes in prop::collection::vec(0usize..6, 0..20),
        slide in 1u32..4,
        times in 1u32..4,
    ) {
        let window = D * (slide * times);
        let slices = timed_slices(&sizes);
        let pairs = |slices: &[(SliceTime, Vec<u64>)]| {
            let items: Vec<_> = slices
                .iter()
                .map(|(time, elements)| {
                    let pairs: Vec<(u64, i64)> = elements.iter().map(|e| (e % 3, *e as i64)).collect();
                    (*time, engine().parallelize(pairs, 2))
                })
                .collect();
            futures::stream::iter(items)
        };
        let sorted = |(_, rdd): (SliceTime, Rdd<(u64, i64)>)| async move {
            let mut v = rdd.collect().await.expect("window");
            v.sort();
            v
        };
        let plain: Vec<Vec<(u64, i64)>> = block_on(
            pairs(&slices).reduce_by_key_and_window(|a, b| a + b, window, D * slide).then(sorted).collect(),
        );
        let incremental: Vec<Vec<(u64, i64)>> = block_on(
            pairs(&slices)
                .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, window, D * slide)
                .keep_keys(|(_, sum)| *sum != 0)
                .then(sorted)
                .collect(),
        );
        // Keys whose values all left the window stay with 0 in the incremental form; element
        // 0 sums to 0 too, so compare without zero sums on both sides.
        let nonzero = |w: Vec<Vec<(u64, i64)>>| -> Vec<Vec<(u64, i64)>> {
            w.into_iter().map(|v| v.into_iter().filter(|(_, s)| *s != 0).collect()).collect()
        };
        prop_assert_eq!(nonzero(incremental), nonzero(plain));
    }
}

#[test]
fn event_time_windows_longer_than_the_data_hold_all_of_it() {
    // 7 records over 1.2 s of event time an hour after the epoch, in windows of 2 s: the only
    // window ends after the last slice, so only the end-of-input rule emits it.
    let hour = 3_600_000u64;
    let times: Vec<u64> = (0..7).map(|i| hour + i * 200).collect();
    let counts: Vec<u64> = block_on(
        futures::stream::iter(times)
            .discretize_by_event_time(engine(), |t| Duration::from_millis(*t), D * 5, Duration::ZERO)
            .count_by_window(D * 20, D * 20)
            .continuize()
            .map(|r| r.expect("window"))
            .collect(),
    );
    assert_eq!(counts, vec![7]);
}
