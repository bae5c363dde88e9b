//! Work that nobody waits for any more stops: dropping a slice stream, or the future of an
//! action, while a slow slice runs stops the engine work it started (before the next partition).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;

const PARTITIONS: usize = 200;
const PER_ELEMENT: Duration = Duration::from_millis(10);

/// One slice of `PARTITIONS` one-element partitions, each taking `PER_ELEMENT` (2 s in all on
/// one thread), counting the elements computed in `computed`.
fn slow_slice(engine: &Engine, computed: &Arc<AtomicUsize>) -> Rdd<u64> {
    let computed = Arc::clone(computed);
    engine
        .parallelize((0..PARTITIONS as u64).collect(), PARTITIONS)
        .map(move |n| {
            std::thread::sleep(PER_ELEMENT);
            computed.fetch_add(1, Ordering::SeqCst);
            n
        })
}

/// How many elements were computed once the work stopped: the count, read until it stays put
/// for half a second.
async fn settled(computed: &AtomicUsize) -> usize {
    let mut last = computed.load(Ordering::SeqCst);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = computed.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn dropping_a_slice_stream_stops_the_work_of_its_slices() {
    let engine = Engine::local(1);
    let computed = Arc::new(AtomicUsize::new(0));
    let mut counts = futures::stream::iter(vec![slow_slice(&engine, &computed)])
        .count_rdd()
        .continuize();
    let first = tokio::time::timeout(Duration::from_millis(200), counts.next()).await;
    assert!(first.is_err(), "the slice takes 2 s, not 200 ms");
    assert!(computed.load(Ordering::SeqCst) > 0, "the slice is being computed");
    drop(counts);
    let done = settled(&computed).await;
    assert!(
        done < PARTITIONS / 2,
        "the work went on after the stream was dropped: {done} of {PARTITIONS} partitions"
    );
}

#[tokio::test]
async fn dropping_the_future_of_an_action_stops_its_work() {
    let engine = Engine::local(1);
    let computed = Arc::new(AtomicUsize::new(0));
    let rdd = slow_slice(&engine, &computed);
    let counting = tokio::time::timeout(Duration::from_millis(200), rdd.count()).await;
    assert!(counting.is_err(), "the count takes 2 s, not 200 ms");
    let done = settled(&computed).await;
    assert!(
        done < PARTITIONS / 2,
        "the work went on after the action was dropped: {done} of {PARTITIONS} partitions"
    );
    // The engine is not harmed: the same dataset counts whole when asked again.
    assert_eq!(rdd.count().await.expect("count"), PARTITIONS as u64);
}

#[tokio::test]
async fn a_shuffle_whose_action_is_dropped_stops_too() {
    let engine = Engine::local(1);
    let computed = Arc::new(AtomicUsize::new(0));
    let by_value = slow_slice(&engine, &computed).count_by_value();
    let counting = tokio::time::timeout(Duration::from_millis(200), by_value.collect()).await;
    assert!(counting.is_err(), "the shuffle takes 2 s, not 200 ms");
    let done = settled(&computed).await;
    assert!(done < PARTITIONS / 2, "{done} of {PARTITIONS} partitions");
}
