//! What every path of `zpark run` shares: how the input is sliced, the input's name, the
//! counters of the run (records, slices, the input's report, Ctrl-C) and the status line.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::ProgressBar;
use zpark::checkpoint::Replay;
use zpark::discretize::LateCount;
use zpark::source::{ByteLines, InputReport};
use zpark::Error;

use super::record::Field;
use super::RunArgs;

/// How slices are cut.
pub(super) enum Slicing {
    Every(Duration),
    Count(usize),
    Within(usize, Duration),
    By(Field),
    EventTime(Field, Duration, Duration),
}

/// The end of slice `slice` (from 1) of `--every` slices, since the run started.
pub(super) fn slice_end(every: Duration, slice: u64) -> Duration {
    every.saturating_mul(u32::try_from(slice).unwrap_or(u32::MAX))
}

/// The lines of an input as bytes, each with the position just after it.
pub(super) type Lines = ByteLines;

/// The input's name for messages, and whether it can be replayed from a position.
pub(super) fn input(args: &RunArgs) -> (String, Replay) {
    match (&args.follow, args.input.as_deref()) {
        (Some(path), _) => (path.clone(), Replay::FromPosition),
        (None, None | Some("-")) => ("standard input".to_string(), Replay::No),
        (None, Some(url)) if url.starts_with("tcp://") => (url.to_string(), Replay::No),
        (None, Some(path)) => (path.to_string(), Replay::FromPosition),
    }
}

/// SIGINT or SIGTERM, whichever comes first (SIGINT alone where there is no SIGTERM).
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// What the run counts, for the progress line and the summary.
pub(super) struct Counters {
    pub(super) progress: ProgressBar,
    pub(super) report: InputReport,
    pub(super) input_failure: Arc<Mutex<Option<Error>>>,
    pub(super) late: Option<LateCount>,
    /// Set when SIGINT (Ctrl-C) or SIGTERM stopped the reading.
    pub(super) stopped: Arc<AtomicBool>,
    /// What `--skip-lost` skipped, for the summary.
    pub(super) lost: Option<String>,
    pub(super) slices: u64,
    pub(super) failed_slices: u64,
    /// Set when the reader of standard output went away (`| head`): the run ends quietly.
    pub(super) output_closed: bool,
    /// How far behind the last slice's results came: from its end to their writing.
    pub(super) behind: Behind,
}

/// How far behind its end the last slice's results were written (shared: the stage that
/// writes them sets it, the progress line reads it).
#[derive(Debug, Clone, Default)]
pub(super) struct Behind(Arc<Mutex<Option<Duration>>>);

impl Behind {
    pub(super) fn set(&self, delay: Duration) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(delay);
    }

    pub(super) fn get(&self) -> Option<Duration> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Counters {
    /// Resolves when SIGINT (Ctrl-C) or SIGTERM comes, and records that it came: the input
    /// then ends, so that the slice in progress is flushed.
    pub(super) fn stop_signal(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let stopped = Arc::clone(&self.stopped);
        async move {
            stop_requested().await;
            stopped.store(true, Ordering::SeqCst);
        }
    }

    /// Counts the late records of slices in event time.
    pub(super) fn set_late(&mut self, late: LateCount) {
        self.late = Some(late);
    }

    /// Whether a signal stopped the reading.
    pub(super) fn stopped(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stopped)
    }

    /// The report of the input's records (shared).
    pub(super) fn report(&self) -> InputReport {
        self.report.clone()
    }

    /// Where the input's failure is recorded.
    pub(super) fn input_failure(&self) -> Arc<Mutex<Option<Error>>> {
        Arc::clone(&self.input_failure)
    }

    /// Whether the run has failed: its input could not be read, or a record did not parse
    /// under `--on-error fail`. Nothing is written after that: the slice in progress when the
    /// input stopped is not a whole slice.
    pub(super) fn failed(&self) -> bool {
        self.input_failure.lock().unwrap_or_else(|p| p.into_inner()).is_some() || self.report.finish().is_err()
    }
}

pub(super) const DEFAULT_IN_FLIGHT: usize = zpark::slice_ops::DEFAULT_SLICES_IN_FLIGHT;

pub(super) fn status(counters: &Counters) -> String {
    let late = counters
        .late
        .as_ref()
        .map_or(String::new(), |late| format!(" · {} late", late.get()));
    let line = slices_status(
        &counters.progress,
        counters.slices,
        counters.report.rejected(),
        &counters.behind,
    );
    format!("{line}{late}")
}

/// Records and slices per second so far, how far behind the last slice came, and the records
/// rejected.
pub(super) fn slices_status(progress: &ProgressBar, slices: u64, rejected: u64, behind: &Behind) -> String {
    let seconds = progress.elapsed().as_secs_f64().max(1e-3);
    let rate = progress.position() as f64 / seconds;
    let delay = behind
        .get()
        .map_or(String::new(), |d| format!(" · {:.0} ms behind", d.as_secs_f64() * 1e3));
    format!(
        "{rate:.0} records/s · {slices} slices ({:.1}/s){delay} · {rejected} rejected",
        slices as f64 / seconds
    )
}

/// `1 slice`, `2 slices`.
pub(super) fn plural(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}
