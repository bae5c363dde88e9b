//! The windowed reductions in constant time per slide (two stacks per key, no inverse)
//! against a plain model of DESIGN.md's window rule, with functions that have no inverse:
//! the maximum, and string concatenation (associative, not commutative: the order counts).

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use futures::executor::block_on;
use futures::StreamExt;
use proptest::prelude::*;
use zpark::prelude::*;
use zpark::window::SliceReduceWindow;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::local(2))
}

const D: Duration = Duration::from_millis(100);

/// Slices of `(key, value)` pairs, at most one pair per key in a slice (so that the order
/// within a slice does not matter and the window's order is what is tested).
fn slices_of_pairs() -> impl Strategy<Value = Vec<BTreeMap<u8, String>>> {
    prop::collection::vec(prop::collection::btree_map(0u8..6, "[a-z]{1,3}", 0..5), 0..14)
}

/// DESIGN.md's rule, in slices: the windows over `n` slices, each its end and the slices
/// (from 1) it holds.
fn model_windows(n: u64, window: u64, slide: u64) -> Vec<(u64, Vec<u64>)> {
    let mut windows = Vec::new();
    let mut end = slide;
    while end <= n || (n > 0 && end.saturating_sub(window) < n) {
        windows.push((end, (end.saturating_sub(window) + 1..=end.min(n)).collect()));
        end += slide;
    }
    windows
}

/// Per window, each key's values in slice order combined with `f`.
fn model<V: Clone>(
    slices: &[BTreeMap<u8, V>],
    window: u64,
    slide: u64,
    f: impl Fn(V, V) -> V,
) -> Vec<(u64, BTreeMap<u8, V>)> {
    model_windows(slices.len() as u64, window, slide)
        .into_iter()
        .map(|(end, inside)| {
            let mut result: BTreeMap<u8, V> = BTreeMap::new();
            for k in inside {
                for (key, value) in &slices[k as usize - 1] {
                    let merged = match result.remove(key) {
                        Some(older) => f(older, value.clone()),
                        None => value.clone(),
                    };
                    result.insert(*key, merged);
                }
            }
            (end, result)
        })
        .collect()
}

fn timed<V: Clone + Send + Sync + 'static>(
    slices: &[BTreeMap<u8, V>],
) -> impl futures::Stream<Item = (SliceTime, Rdd<(u8, V)>)> {
    let items: Vec<_> = slices
        .iter()
        .enumerate()
        .map(|(k, pairs)| {
            let pairs: Vec<(u8, V)> = pairs.iter().map(|(key, v)| (*key, v.clone())).collect();
            (
                SliceTime::with_interval(D * (k as u32 + 1), D),
                engine().parallelize(pairs, 2),
            )
        })
        .collect();
    futures::stream::iter(items)
}

fn concat(a: String, b: String) -> String {
    a + &b
}

async fn keyed_windows<V: Clone + Send + Sync + 'static>(
    slices: &[BTreeMap<u8, V>],
    window: u32,
    slide: u32,
    f: fn(V, V) -> V,
) -> Vec<(u64, BTreeMap<u8, V>)> {
    timed(slices)
        .reduce_by_key_and_window(f, D * window, D * slide)
        .then(|(time, rdd)| async move {
            let end = (time.as_duration().as_millis() / D.as_millis()) as u64;
            (end, rdd.collect().await.expect("window").into_iter().collect())
        })
        .collect()
        .await
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reduce_by_key_and_window_without_an_inverse_matches_the_model(
        slices in slices_of_pairs(),
        window in 1u32..6,
        slide in 1u32..4,
    ) {
        let got = block_on(keyed_windows(&slices, window, slide, concat));
        prop_assert_eq!(got, model(&slices, u64::from(window), u64::from(slide), concat));

        let lengths: Vec<BTreeMap<u8, usize>> = slices
            .iter()
            .map(|pairs| pairs.iter().map(|(k, v)| (*k, v.len() * 7 % 5)).collect())
            .collect();
        let got = block_on(keyed_windows(&lengths, window, slide, std::cmp::max));
        prop_assert_eq!(got, model(&lengths, u64::from(window), u64::from(slide), std::cmp::max));
    }

    #[test]
    fn reduce_by_window_and_the_counting_windows_match_the_model(
        slices in slices_of_pairs(),
        window in 1u32..6,
        slide in 1u32..4,
    ) {
        // One string per slice at most: the window concatenates them in slice order.
        let firsts: Vec<BTreeMap<u8, String>> = slices
            .iter()
            .map(|pairs| pairs.iter().take(1).map(|(_, v)| (0, v.clone())).collect())
            .collect();
        let got: Vec<(u64, BTreeMap<u8, String>)> = block_on(
            timed(&firsts)
                .map(|(time, rdd)| (time, rdd.map(|(_, v)| v)))
                .reduce_by_window(concat, D * window, D * slide)
                .then(|(time, rdd)| async move {
                    let end = (time.as_duration().as_millis() / D.as_millis()) as u64;
                    (end, rdd.collect().await.expect("window").into_iter().map(|v| (0, v)).collect())
                })
                .collect(),
        );
        prop_assert_eq!(got, model(&firsts, u64::from(window), u64::from(slide), concat));

        let counts: Vec<u64> = block_on(
            timed(&slices)
                .count_by_window(D * window, D * slide)
                .then(|(_, rdd)| async move { rdd.collect().await.expect("window")[0] })
                .collect(),
        );
        let ones: Vec<BTreeMap<u8, u64>> = slices
            .iter()
            .map(|pairs| std::iter::once((0, pairs.len() as u64)).collect())
            .collect();
        let want: Vec<u64> = model(&ones, u64::from(window), u64::from(slide), |a, b| a + b)
            .into_iter()
            .map(|(_, counts)| counts.get(&0).copied().unwrap_or(0))
            .collect();
        prop_assert_eq!(counts, want);

        let by_key: Vec<(u64, BTreeMap<u8, u64>)> = block_on(
            timed(&slices)
                .map(|(time, rdd)| (time, rdd.map(|(key, _)| key)))
                .count_by_value_and_window(D * window, D * slide)
                .then(|(time, rdd)| async move {
                    let end = (time.as_duration().as_millis() / D.as_millis()) as u64;
                    (end, rdd.collect().await.expect("window").into_iter().collect())
                })
                .collect(),
        );
        let present: Vec<BTreeMap<u8, u64>> = slices
            .iter()
            .map(|pairs| pairs.keys().map(|k| (*k, 1)).collect())
            .collect();
        prop_assert_eq!(by_key, model(&present, u64::from(window), u64::from(slide), |a, b| a + b));
    }

    #[test]
    fn a_slice_reduce_window_saved_and_restored_anywhere_matches_the_model(
        slices in slices_of_pairs(),
        window in 1u64..6,
        slide in 1u64..4,
        save_after in 0usize..14,
    ) {
        let mut reducer = SliceReduceWindow::new(window, slide, concat);
        let mut got = Vec::new();
        for (k, pairs) in slices.iter().enumerate() {
            if k == save_after {
                let saved = reducer.save();
                reducer = SliceReduceWindow::new(window, slide, concat);
                reducer.restore(saved);
            }
            let pairs: Vec<(u8, String)> = pairs.iter().map(|(key, v)| (*key, v.clone())).collect();
            got.extend(reducer.push(k as u64 + 1, pairs));
        }
        got.extend(reducer.finish());
        let got: Vec<(u64, BTreeMap<u8, String>)> =
            got.into_iter().map(|(end, pairs)| (end, pairs.into_iter().collect())).collect();
        prop_assert_eq!(got, model(&slices, window, slide, concat));
    }
}

#[test]
fn a_failed_slice_fails_the_windows_that_hold_it_and_no_other() {
    let engine = engine();
    let slices = (1..=4u32).map(|k| {
        let rdd = engine.parallelize(vec![(0u8, u64::from(k))], 1);
        let rdd = if k == 2 {
            rdd.map(|pair| {
                if pair.1 == 2 {
                    panic!("bad record in slice 2");
                }
                pair
            })
        } else {
            rdd
        };
        (SliceTime::with_interval(D * k, D), rdd)
    });
    let outcomes: Vec<Result<Vec<(u8, u64)>, String>> = block_on(
        futures::stream::iter(slices)
            .reduce_by_key_and_window(|a, b| a + b, D * 2, D)
            .then(|(_, rdd)| async move { rdd.collect().await.map_err(|e| e.to_string()) })
            .collect(),
    );
    // Windows end at slices 1 to 5; those ending at 2 and 3 hold slice 2.
    assert_eq!(outcomes.len(), 5);
    assert_eq!(outcomes[0], Ok(vec![(0, 1)]));
    assert!(
        outcomes[1].as_ref().is_err_and(|e| e.contains("bad record in slice 2")),
        "{:?}",
        outcomes[1]
    );
    assert!(outcomes[2].is_err());
    assert_eq!(outcomes[3], Ok(vec![(0, 7)]));
    assert_eq!(outcomes[4], Ok(vec![(0, 4)]));
}
