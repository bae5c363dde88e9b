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
