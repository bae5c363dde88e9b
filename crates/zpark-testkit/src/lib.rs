//! The conformance suite: the same cases and the same expectations for every zpark engine.
//!
//! Each case is an `async fn(&Engine)` that panics (through `assert!`) when the engine gets it
//! wrong. Results are compared per slice as multisets: inside a slice, order follows the engine
//! (as in Spark), across slices it must follow the stream. An engine's test file runs them all
//! with one line:
//!
//! ```text
//! zpark_testkit::conformance_tests!(zpark::Engine::local(2));
//! ```

pub mod cases;
pub mod checkpointed;
pub mod fake_cluster;
pub mod kill;

use futures::{Stream, StreamExt};
use zpark::prelude::*;

/// Collects each slice's elements, sorted, slice by slice (the multiset of each slice).
///
/// # Panics
///
/// When a slice fails.
///
/// # Examples
///
/// ```
/// use zpark::prelude::*;
/// # futures::executor::block_on(async {
/// let slices = futures::stream::iter([3u64, 1, 2]).parallelize(&Engine::local(1), 2);
/// assert_eq!(zpark_testkit::sorted_slices(slices).await, vec![vec![1, 3], vec![2]]);
/// # });
/// ```
pub async fn sorted_slices<T, S>(slices: S) -> Vec<Vec<T>>
where
    T: Data + Ord,
    S: Stream,
    S::Item: Slice<Elem = T>,
{
    try_sorted_slices(slices)
        .await
        .unwrap_or_else(|e| panic!("a slice failed: {}", e.report()))
}

/// Each slice's elements, sorted, slice by slice; the first slice that fails is the `Err`.
///
/// # Errors
///
/// The first failed slice's error.
///
/// # Examples
///
/// ```
/// use zpark::prelude::*;
/// # futures::executor::block_on(async {
/// let engine = Engine::local(1);
/// let slices = futures::stream::iter([3u64, 1, 2]).parallelize(&engine, 2);
/// assert_eq!(zpark_testkit::try_sorted_slices(slices).await?, vec![vec![1, 3], vec![2]]);
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
pub async fn try_sorted_slices<T, S>(slices: S) -> zpark::Result<Vec<Vec<T>>>
where
    T: Data + Ord,
    S: Stream,
    S::Item: Slice<Elem = T>,
{
    let mut out = Vec::new();
    let mut slices = std::pin::pin!(slices);
    while let Some(slice) = slices.next().await {
        let mut elements = slice.rdd().collect().await?;
        elements.sort();
        out.push(elements);
    }
    Ok(out)
}

/// The expectation of a stage whose work is a Rust closure: `expected` on an engine that runs
/// stages itself, the typed refusal ([`zpark::Error::NotOnCluster`]) on a cluster engine.
///
/// # Panics
///
/// When `result` is neither.
///
/// # Examples
///
/// ```
/// let engine = zpark::Engine::local(1);
/// zpark_testkit::closure_stage(&engine, Ok(3), 3); // stages run on the engine itself
/// ```
pub fn closure_stage<T: PartialEq + std::fmt::Debug>(engine: &Engine, result: zpark::Result<T>, expected: T) {
    if engine.is_cluster() {
        match result {
            Err(zpark::Error::NotOnCluster { .. }) => {}
            other => panic!(
                "a closure stage on {}: expected the NotOnCluster refusal, got {other:?}",
                engine.url()
            ),
        }
    } else {
        assert_eq!(result.unwrap_or_else(|e| panic!("{}", e.report())), expected);
    }
}

/// Runs every case of [`cases`] as its own `#[tokio::test]` on the engine that `$engine` makes;
/// attributes after the engine (`#[ignore = "needs a server"]`) go on every test.
#[macro_export]
macro_rules! conformance_tests {
    ($engine:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::conformance_tests!(@cases $engine; [$(#[$attr])*];
            seed_count_rdd, seed_count_rdd_by_value, seed_map_reduce, seed_fahrenheit_group_by_key,
            seed_zip_rdd_count_by_value, rdd_narrow_operations, rdd_union, rdd_count_by_value,
            rdd_reduce_by_key, rdd_group_by_key, rdd_combine_by_key, rdd_reduce_and_count,
            rdd_persist_is_stable, empty_slices, time_slices_by_interval, time_windows_count);
    };
    (@cases $engine:expr; $attrs:tt; $($case:ident),* $(,)?) => {
        $( $crate::conformance_tests!(@case $engine; $attrs; $case); )*
    };
    (@case $engine:expr; [$(#[$attr:meta])*]; $case:ident) => {
        #[tokio::test(start_paused = true)]
        $(#[$attr])*
        async fn $case() {
            let engine: zpark::Engine = $engine;
            $crate::cases::$case(&engine).await;
        }
    };
}
