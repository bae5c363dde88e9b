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

use futures::{Stream, StreamExt};
use zpark::prelude::*;

/// Collects each slice's elements, sorted, slice by slice (the multiset of each slice).
///
/// # Panics
///
/// When a slice fails.
pub async fn sorted_slices<T, S>(slices: S) -> Vec<Vec<T>>
where
    T: Data + Ord,
    S: Stream,
    S::Item: Slice<Elem = T>,
{
    let mut out = Vec::new();
    let mut slices = std::pin::pin!(slices);
    while let Some(slice) = slices.next().await {
        let mut elements = slice
            .rdd()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("slice {} failed: {e}", out.len()));
        elements.sort();
        out.push(elements);
    }
    out
}

/// Runs every case of [`cases`] as its own `#[tokio::test]` on the engine that `$engine` makes.
#[macro_export]
macro_rules! conformance_tests {
    ($engine:expr) => {
        $crate::conformance_tests!(@cases $engine;
            seed_count_rdd, seed_count_rdd_by_value, seed_map_reduce, seed_fahrenheit_group_by_key,
            seed_zip_rdd_count_by_value, rdd_narrow_operations, rdd_union, rdd_count_by_value,
            rdd_reduce_by_key, rdd_group_by_key, rdd_combine_by_key, rdd_reduce_and_count,
            rdd_persist_is_stable, empty_slices, time_slices_by_interval, time_windows_count);
    };
    (@cases $engine:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(start_paused = true)]
            async fn $case() {
                let engine: zpark::Engine = $engine;
                $crate::cases::$case(&engine).await;
            }
        )*
    };
}
