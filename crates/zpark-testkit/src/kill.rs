//! What the kill tests share (the library's in this crate, the CLI's in `zpark-cli`): seeded
//! kill delays, where a checkpoint stands, and a kill at a chosen moment of a run.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The variable that sets the seed of the kill delays, to run a failed case again.
pub const SEED_VARIABLE: &str = "ZPARK_KILL_SEED";

/// A small xorshift generator of kill delays: they only need to be spread, and the seed is
/// printed so that a run can be repeated.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let mut delays = zpark_testkit::kill::Delays::from_seed(42);
/// assert!(delays.next(Duration::from_millis(10)) < Duration::from_millis(10));
/// ```
#[derive(Debug, Clone)]
pub struct Delays(u64);

impl Delays {
    /// Seeded from `ZPARK_KILL_SEED` when it is set, else from the clock; the seed is printed.
    ///
    /// # Panics
    ///
    /// When `ZPARK_KILL_SEED` is set to something that is not a whole number.
    pub fn seeded() -> Delays {
        let seed = match std::env::var(SEED_VARIABLE) {
            Ok(value) => value
                .trim()
                .parse::<u64>()
                .unwrap_or_else(|e| panic!("{SEED_VARIABLE}={value:?} is not a seed (a whole number): {e}")),
            Err(_) => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64),
        };
        eprintln!("kill delays seeded with {seed} (run again with {SEED_VARIABLE}={seed})");
        Delays::from_seed(seed)
    }

    /// The delays of `seed`.
    pub fn from_seed(seed: u64) -> Delays {
        Delays(seed | 1)
    }

    /// A delay shorter than `max` (to the microsecond).
    pub fn next(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
        Duration::from_micros(self.0 % micros)
    }
}

/// Where the checkpoint in `dir` stands: its last committed slice, and whether the run had
/// finished (0 and false while there is none). Read by file, so that it works mid-run.
pub fn checkpoint_state(dir: &Path) -> (u64, bool) {
    let text = std::fs::read_to_string(dir.join(zpark::checkpoint::CHECKPOINT_FILE)).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    (json["slice"].as_u64().unwrap_or(0), !json["finished"].is_null())
}

/// When a run is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// At a random moment shorter than this.
    Within(Duration),
    /// Right after its first commit is seen (a few random milliseconds later).
    AfterFirstCommit,
    /// Right after it is seen finished: only its exit is left.
    AfterTheEnd,
}

/// Waits until the moment to kill `child`, whose checkpoint is in `checkpoint`: at most
/// `limit` for a commit to be seen, and not past the child's own end.
///
/// # Panics
///
/// When the child's status cannot be read.
pub fn wait_for(child: &mut Child, checkpoint: &Path, moment: Moment, delays: &mut Delays, limit: Duration) {
    let seen = |(slice, finished): (u64, bool)| match moment {
        Moment::AfterTheEnd => finished,
        _ => slice >= 1,
    };
    if let Moment::Within(longest) = moment {
        std::thread::sleep(delays.next(longest));
        return;
    }
    let began = Instant::now();
    while !seen(checkpoint_state(checkpoint)) && began.elapsed() < limit {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    std::thread::sleep(delays.next(Duration::from_millis(2)));
}
