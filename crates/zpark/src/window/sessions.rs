//! Session windows: a key's activity until a gap of inactivity, per key, on the driver.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::two_stacks::Combine;
use super::SliceTime;

/// One key's session: from the start of the first slice that held the key to the end of the
/// last one, and its values combined (or gathered, for
/// [`session_window_by_key`](super::PairWindowExt::session_window_by_key)). Times are on the
/// slices' clock: since the stream started, or since the epoch for slices in event time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let s = zpark::window::Session { key: "ada", start: Duration::ZERO, end: Duration::from_secs(3), value: 7 };
/// assert_eq!(s.end - s.start, Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session<K, V> {
    /// The key.
    pub key: K,
    /// The start of the first slice that held the key.
    pub start: Duration,
    /// The end of the last slice that held the key (its `SliceTime`).
    pub end: Duration,
    /// The values of the session, combined oldest first.
    pub value: V,
}

/// The sessions still open, as a checkpoint saves them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionState<K, V> {
    /// Each open session so far (its `end` is the last slice that held the key).
    pub open: Vec<Session<K, V>>,
}

/// The sessions of every key, driven slice by slice with each slice's values reduced per key
/// (collected from the engine): a key's session closes when no slice has held it for `gap`,
/// that is at the first slice whose time is at least `gap` after the session's last slice;
/// a slice exactly `gap` later starts a new session (a session is `[first, last + gap)`, and
/// sessions that do not overlap are apart, as Flink's session windows merge them). Each
/// closed session is given once; [`finish`](SessionWindows::finish) gives those still open
/// at the end of input. The open sessions save and restore for checkpoints.
///
/// Each slice costs the keys it holds plus the sessions it closes: the open sessions are
/// indexed by their last slice.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zpark::SliceTime;
/// use zpark::window::SessionWindows;
/// let s = Duration::from_secs;
/// let mut sessions = SessionWindows::new(s(2), |a: u32, b: u32| a + b);
/// let slice = |k: u64| SliceTime::with_interval(s(k), s(1));
/// assert!(sessions.push(slice(1), vec![("ada", 1)]).is_empty());
/// assert!(sessions.push(slice(2), vec![("ada", 1)]).is_empty());
/// assert!(sessions.push(slice(3), vec![]).is_empty()); // 1 s without "ada": still open
/// let closed = sessions.push(slice(4), vec![]); // 2 s without: closed
/// assert_eq!((closed[0].start, closed[0].end, closed[0].value), (s(0), s(2), 2));
/// ```
pub struct SessionWindows<K, V> {
    gap: Duration,
    f: Combine<V>,
    open: HashMap<K, Session<K, V>>,
    /// The open sessions' keys by the time of their last slice (a key may stay listed under
    /// an older time after it moved on: checked when that time comes).
    by_last: BTreeMap<Duration, Vec<K>>,
}

impl<K: Eq + Hash + Clone, V: Clone> SessionWindows<K, V> {
    /// Sessions that close after `gap` of inactivity, their values combined with `f`.
    ///
    /// # Panics
    ///
    /// When `gap` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let sessions = zpark::window::SessionWindows::<&str, u8>::new(std::time::Duration::from_secs(30), |a, b| a + b);
    /// assert_eq!(sessions.describe(), "sessions closed after 30s without a record");
    /// ```
    #[track_caller]
    pub fn new(gap: Duration, f: impl Fn(V, V) -> V + Send + Sync + 'static) -> Self {
        Self::with(gap, Arc::new(f))
    }

    #[track_caller]
    pub(super) fn with(gap: Duration, f: Combine<V>) -> Self {
        assert!(!gap.is_zero(), "sessions: the gap must be longer than zero (0 given)");
        SessionWindows {
            gap,
            f,
            open: HashMap::new(),
            by_last: BTreeMap::new(),
        }
    }

    /// What the sessions are, for a checkpoint's shape.
    ///
    /// # Examples
    ///
    /// ```
    /// let sessions = zpark::window::SessionWindows::<u8, u8>::new(std::time::Duration::from_millis(1500), u8::max);
    /// assert_eq!(sessions.describe(), "sessions closed after 1.5s without a record");
    /// ```
    pub fn describe(&self) -> String {
        format!("sessions closed after {:?} without a record", self.gap)
    }

    /// How many sessions are open (the state's size).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut sessions = zpark::window::SessionWindows::new(Duration::from_secs(5), |a: u8, b: u8| a + b);
    /// sessions.push(zpark::SliceTime::from_millis(1000), vec![("a", 1), ("b", 1)]);
    /// assert_eq!(sessions.open_count(), 2);
    /// ```
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Slice `time` came with its values reduced per key: returns the sessions it closes (those
    /// whose last slice is `gap` or more before it), oldest first, then takes its values in.
    pub fn push(&mut self, time: SliceTime, pairs: Vec<(K, V)>) -> Vec<Session<K, V>> {
        let end = time.as_duration();
        let closed = self.close_idle(end);
        let start = end.saturating_sub(time.interval());
        for (key, value) in pairs {
            let session = match self.open.remove(&key) {
                Some(mut session) => {
                    session.value = (self.f)(session.value, value);
                    session.end = end;
                    session
                }
                None => Session {
                    key: key.clone(),
                    start,
                    end,
                    value,
                },
            };
            self.by_last.entry(end).or_default().push(key.clone());
            self.open.insert(key, session);
        }
        closed
    }

    /// The sessions whose last slice is `gap` or more before `now`, oldest first.
    fn close_idle(&mut self, now: Duration) -> Vec<Session<K, V>> {
        let mut closed = Vec::new();
        let Some(deadline) = now.checked_sub(self.gap) else {
            return closed;
        };
        while let Some(entry) = self.by_last.first_entry() {
            if *entry.key() > deadline {
                break;
            }
            let (last, keys) = entry.remove_entry();
            for key in keys {
                // Listed under an older time, the key may have moved on since.
                if self.open.get(&key).is_some_and(|s| s.end == last) {
                    closed.extend(self.open.remove(&key));
                }
            }
        }
        closed
    }

    /// Ends the input: every session still open, oldest first. The sessions are then empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut sessions = zpark::window::SessionWindows::new(Duration::from_secs(5), |a: u8, b: u8| a + b);
    /// sessions.push(zpark::SliceTime::from_millis(1000), vec![("a", 1)]);
    /// assert_eq!(sessions.finish()[0].value, 1);
    /// assert_eq!(sessions.open_count(), 0);
    /// ```
    pub fn finish(&mut self) -> Vec<Session<K, V>> {
        self.by_last.clear();
        let mut open: Vec<Session<K, V>> = self.open.drain().map(|(_, s)| s).collect();
        open.sort_by_key(|s| (s.start, s.end));
        open
    }

    /// The open sessions, for a checkpoint.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zpark::window::SessionWindows;
    /// let mut sessions = SessionWindows::new(Duration::from_secs(5), |a: u8, b: u8| a + b);
    /// sessions.push(zpark::SliceTime::from_millis(1000), vec![("a", 1)]);
    /// let mut again = SessionWindows::new(Duration::from_secs(5), |a: u8, b: u8| a + b);
    /// again.restore(sessions.save());
    /// assert_eq!(again.finish(), sessions.finish());
    /// ```
    pub fn save(&self) -> SessionState<K, V> {
        let mut open: Vec<Session<K, V>> = self.open.values().cloned().collect();
        open.sort_by_key(|s| (s.start, s.end));
        SessionState { open }
    }

    /// Puts back the open sessions of a [`save`](SessionWindows::save), replacing these.
    pub fn restore(&mut self, state: SessionState<K, V>) {
        self.open.clear();
        self.by_last.clear();
        for session in state.open {
            self.by_last.entry(session.end).or_default().push(session.key.clone());
            self.open.insert(session.key.clone(), session);
        }
    }
}

impl<K, V> std::fmt::Debug for SessionWindows<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionWindows")
            .field("gap", &self.gap)
            .field("open", &self.open.len())
            .finish_non_exhaustive()
    }
}
