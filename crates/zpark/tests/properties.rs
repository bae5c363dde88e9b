//! Properties that hold for any input: slicing then continuizing is the identity, and the
//! shuffles agree with a sequential `HashMap` fold.

use std::collections::HashMap;
use std::sync::OnceLock;

use futures::executor::block_on;
use futures::StreamExt;
use proptest::prelude::*;
use zpark::prelude::*;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::local(2))
}

/// A future that answers `Pending` once (waking itself), then `Ready`.
async fn pending_once() {
    let mut waited = false;
    futures::future::poll_fn(|cx| {
        if waited {
            std::task::Poll::Ready(())
        } else {
            waited = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

proptest! {
    #[test]
    fn parallelize_then_continuize_gives_back_the_input(input in prop::collection::vec(any::<i32>(), 0..300), n in 1usize..50, in_flight in 1usize..6) {
        let out: Vec<i32> = block_on(
            futures::stream::iter(input.clone())
                .parallelize(engine(), n)
                .continuize_buffered(in_flight)
                .map(|r| r.expect("slice"))
                .collect(),
        );
        prop_assert_eq!(out, input);
    }

    #[test]
    fn parallelize_round_trips_elements_with_a_destructor(input in prop::collection::vec(".{0,4}", 0..300), n in 1usize..50) {
        // Recycled buffers come back empty for such types, and are pushed into.
        let out: Vec<String> = block_on(
            futures::stream::iter(input.clone()).parallelize(engine(), n).continuize().map(|r| r.expect("slice")).collect(),
        );
        prop_assert_eq!(out, input);
    }

    #[test]
    fn parallelize_keeps_what_it_read_when_the_input_waits(input in prop::collection::vec(any::<u64>(), 0..300), n in 1usize..50, every in 1usize..7) {
        // The input answers `Pending` before every `every`-th element; recycled buffers keep
        // old elements as slots, which must never show in a slice.
        let input_len = input.len();
        let waiting = futures::stream::iter(input.clone().into_iter().enumerate()).then(|(i, x)| async move {
            if i % every == 0 {
                pending_once().await;
            }
            x
        });
        let out: Vec<u64> = block_on(waiting.parallelize(engine(), n).continuize().map(|r| r.expect("slice")).collect());
        prop_assert_eq!(out.len(), input_len);
        prop_assert_eq!(out, input);
    }

    #[test]
    fn parallelize_slices_are_full_but_the_last(len in 0usize..300, n in 1usize..50) {
        let sizes: Vec<u64> = block_on(
            futures::stream::iter(0..len).parallelize(engine(), n).count_rdd().continuize().map(|r| r.expect("slice")).collect(),
        );
        let mut expected = vec![n as u64; len / n];
        if len % n != 0 {
            expected.push((len % n) as u64);
        }
        prop_assert_eq!(sizes, expected);
    }

    #[test]
    fn count_by_value_matches_a_hashmap_fold(input in prop::collection::vec(0u8..20, 0..400), partitions in 1usize..9) {
        let out = block_on(engine().parallelize(input.clone(), partitions).count_by_value().collect()).expect("count_by_value");
        let mut expected: HashMap<u8, u64> = HashMap::new();
        for x in input {
            *expected.entry(x).or_default() += 1;
        }
        prop_assert_eq!(sorted(out), sorted(expected.into_iter().collect()));
    }

    #[test]
    fn reduce_by_key_matches_a_hashmap_fold(input in prop::collection::vec((0u8..15, -1000i64..1000), 0..400), partitions in 1usize..9) {
        let out = block_on(engine().parallelize(input.clone(), partitions).reduce_by_key(|a, b| a + b).collect()).expect("reduce_by_key");
        let mut expected: HashMap<u8, i64> = HashMap::new();
        for (k, v) in input {
            *expected.entry(k).or_default() += v;
        }
        prop_assert_eq!(sorted(out), sorted(expected.into_iter().collect()));
    }

    #[test]
    fn group_by_key_matches_a_hashmap_fold(input in prop::collection::vec((0u8..15, any::<u16>()), 0..400), partitions in 1usize..9) {
        let out = block_on(engine().parallelize(input.clone(), partitions).group_by_key().collect()).expect("group_by_key");
        let mut expected: HashMap<u8, Vec<u16>> = HashMap::new();
        for (k, v) in input {
            expected.entry(k).or_default().push(v);
        }
        let normalize = |groups: Vec<(u8, Vec<u16>)>| sorted(groups.into_iter().map(|(k, v)| (k, sorted(v))).collect());
        prop_assert_eq!(normalize(out), normalize(expected.into_iter().collect()));
    }

    #[test]
    fn discretize_by_cuts_at_every_key_change(input in prop::collection::vec(0u8..3, 0..200)) {
        let slices: Vec<Vec<u8>> = block_on(async {
            let mut slices = Vec::new();
            let mut stream = std::pin::pin!(futures::stream::iter(input.clone()).discretize_by(engine(), |x| *x));
            while let Some(rdd) = stream.next().await {
                slices.push(rdd.collect().await.expect("slice"));
            }
            slices
        });
        let expected: Vec<Vec<u8>> = input.chunk_by(|a, b| a == b).map(<[u8]>::to_vec).collect();
        prop_assert_eq!(slices, expected);
    }
}

/// `len` keys in `0..distinct`, in an order that depends on `seed` (a xorshift walk).
fn keys(seed: u64, len: usize, distinct: u64) -> Vec<u64> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % distinct
        })
        .collect()
}

proptest! {
    // Partitions long enough for `count_by_value`'s counting cache (16 384 elements and more),
    // from keys that always hit it to keys that make it give way to the map.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn count_by_value_through_the_cache_matches_a_hashmap_fold(
        seed in any::<u64>(),
        len in 16_384usize..150_000,
        distinct in prop_oneof![1u64..50, 50u64..5_000, 5_000u64..1_000_000],
        partitions in 1usize..4,
    ) {
        let input = keys(seed, len, distinct);
        let out = block_on(engine().parallelize(input.clone(), partitions).count_by_value().collect()).expect("count_by_value");
        let mut expected: HashMap<u64, u64> = HashMap::new();
        for x in input {
            *expected.entry(x).or_default() += 1;
        }
        prop_assert_eq!(sorted(out), sorted(expected.into_iter().collect()));
    }
}
