//! Session windows: a key's session closes once no slice has held it for the gap; each closed
//! session comes once, the open ones at the end of input; on a paused clock, in event time
//! with late records, and saved and restored anywhere (against a plain model).

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use futures::executor::block_on;
use futures::StreamExt;
use proptest::prelude::*;
use zpark::prelude::*;
use zpark::window::{Session, SessionWindows};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::local(2))
}

const S: Duration = Duration::from_secs(1);

/// Slices every second, slice k (from 1) holding the given keys once each with value k.
fn slices(keys: &[&[&'static str]]) -> impl futures::Stream<Item = (SliceTime, Rdd<(&'static str, u32)>)> {
    let items: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, keys)| {
            let k = i as u32 + 1;
            let pairs: Vec<_> = keys.iter().map(|key| (*key, k)).collect();
            (SliceTime::with_interval(S * k, S), engine().parallelize(pairs, 2))
        })
        .collect();
    futures::stream::iter(items)
}

/// A session as `(key, start, end, value)`, times in seconds.
type Row = (&'static str, u64, u64, u32);

/// Each item's time (in seconds) and its sessions, sorted.
async fn items<St>(sessions: St) -> Vec<(u64, Vec<Row>)>
where
    St: futures::Stream<Item = (SliceTime, Rdd<Session<&'static str, u32>>)>,
{
    sessions
        .then(|(time, rdd)| async move {
            let mut closed: Vec<_> = rdd
                .collect()
                .await
                .expect("sessions")
                .into_iter()
                .map(|s| (s.key, s.start.as_secs(), s.end.as_secs(), s.value))
                .collect();
            closed.sort();
            (time.as_duration().as_secs(), closed)
        })
        .collect()
        .await
}

#[test]
fn a_gap_exactly_at_a_slice_boundary_closes_the_session_and_a_returning_key_starts_another() {
    // Gap 2 s: "a" in slices 1 and 2 (1 s apart: one session), then in slice 4 (2 s after
    // slice 2: exactly the gap, so a new session); "b" in slice 1 only.
    let got = block_on(items(
        slices(&[&["a", "b"], &["a"], &[], &["a"], &[]]).reduce_by_key_and_session(|x, y| x * 10 + y, 2 * S),
    ));
    assert_eq!(
        got,
        vec![
            (1, vec![]),
            (2, vec![]),
            (3, vec![("b", 0, 1, 1)]),
            (4, vec![("a", 0, 2, 12)]),
            (5, vec![]),
            // The end of input: the session still open, one interval after the last slice.
            (6, vec![("a", 3, 4, 4)]),
        ]
    );
}

#[test]
fn on_a_paused_clock_sessions_follow_the_time_slices() {
    let got: Vec<(u64, Vec<Row>)> = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
        .block_on(async {
            // (waits) "ada" at 0.1 s and 1.1 s, then at 3.6 s (a new session: 2 s after its
            // slice ending at 2 s); "bob" at 0.6 s.
            let clicks = futures::stream::iter([(100u64, "ada"), (500, "bob"), (500, "ada"), (2500, "ada")]).then(
                |(wait, who)| async move {
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    (who, 1u32)
                },
            );
            let sessions = clicks
                .discretize_keep_time(engine(), S)
                .reduce_by_key_and_session(|a, b| a + b, 2 * S);
            items(sessions).await
        });
    let closed: Vec<_> = got.iter().flat_map(|(_, sessions)| sessions.clone()).collect();
    assert_eq!(closed, vec![("bob", 0, 1, 1), ("ada", 0, 2, 2), ("ada", 3, 4, 1)]);
    // Each closes at the slice 2 s after its last one; the last at the end of input.
    let when: Vec<u64> = got.iter().filter(|(_, s)| !s.is_empty()).map(|(t, _)| *t).collect();
    assert_eq!(when, vec![3, 4, 5]);
}

#[test]
fn in_event_time_late_records_are_in_no_session_and_the_late_stream_has_them() {
    // (second, user): slices of 10 s, 5 s of lateness allowed, sessions closed after 20 s.
    let events = [
        (1u64, "ada"),
        (12, "ada"),
        (14, "bob"),
        (45, "ada"),
        (3, "bob"),
        (70, "bob"),
    ];
    let mut slices = futures::stream::iter(events).discretize_by_event_time(
        engine(),
        |(t, _)| Duration::from_secs(*t),
        10 * S,
        5 * S,
    );
    let late = slices.late_elements();
    let got = block_on(items(
        slices
            .map(|(time, rdd)| (time, rdd.map(|(_, who)| (who, 1u32))))
            .reduce_by_key_and_session(|a, b| a + b, 20 * S),
    ));
    let closed: Vec<_> = got.iter().flat_map(|(_, s)| s.clone()).collect();
    assert_eq!(
        closed,
        vec![
            // ada: slices [0,10) and [10,20), then nothing until 45: closed at the slice ending 40.
            ("ada", 0, 20, 2),
            ("bob", 10, 20, 1),
            ("ada", 40, 50, 1),
            ("bob", 70, 80, 1),
        ]
    );
    assert_eq!(block_on(late.collect::<Vec<_>>()), vec![(3, "bob")]);
}

#[test]
fn session_window_by_key_gathers_the_values_oldest_slice_first() {
    let got = block_on(
        slices(&[&["a"], &["a"], &["a"]])
            .session_window_by_key(5 * S)
            .then(|(_, rdd)| async move { rdd.collect().await.expect("sessions") })
            .collect::<Vec<_>>(),
    );
    let values: Vec<Vec<u32>> = got.concat().into_iter().map(|s| s.value).collect();
    assert_eq!(values, vec![vec![1, 2, 3]]);
}

/// The model: per key, the slices (from 1) that hold it, split where two are `gap` or more
/// apart; each session `(key, first - 1, last, sum of its slice numbers)`.
fn model(presence: &[BTreeSet<u8>], gap: u64) -> BTreeSet<(u8, u64, u64, u64)> {
    let mut sessions = BTreeSet::new();
    for key in 0..4u8 {
        let times: Vec<u64> = (1..=presence.len() as u64)
            .filter(|k| presence[*k as usize - 1].contains(&key))
            .collect();
        let mut start = 0;
        for i in 1..=times.len() {
            if i == times.len() || times[i] - times[i - 1] >= gap {
                let run = &times[start..i];
                sessions.insert((key, run[0] - 1, run[run.len() - 1], run.iter().sum()));
                start = i;
            }
        }
    }
    sessions
}

proptest! {
    #[test]
    fn saved_and_restored_anywhere_the_sessions_match_the_model(
        presence in prop::collection::vec(prop::collection::btree_set(0u8..4, 0..4), 0..20),
        gap in 1u64..5,
        save_after in 0usize..20,
    ) {
        let mut sessions = SessionWindows::new(S * gap as u32, |a: u64, b: u64| a + b);
        let mut closed = Vec::new();
        for (i, keys) in presence.iter().enumerate() {
            if i == save_after {
                let saved = sessions.save();
                sessions = SessionWindows::new(S * gap as u32, |a: u64, b: u64| a + b);
                sessions.restore(saved);
            }
            let k = i as u64 + 1;
            let pairs: Vec<(u8, u64)> = keys.iter().map(|key| (*key, k)).collect();
            closed.extend(sessions.push(SliceTime::with_interval(S * k as u32, S), pairs));
        }
        closed.extend(sessions.finish());
        let got: Vec<(u8, u64, u64, u64)> = closed
            .into_iter()
            .map(|s| (s.key, s.start.as_secs(), s.end.as_secs(), s.value))
            .collect();
        let unique: BTreeSet<_> = got.iter().copied().collect();
        prop_assert_eq!(unique.len(), got.len(), "each session once");
        prop_assert_eq!(unique, model(&presence, gap));
    }
}
