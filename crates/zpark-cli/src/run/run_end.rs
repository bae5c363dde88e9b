//! How a run of slices through `zpark::checkpoint::Run` ends, for every input: what it says
//! when a finished checkpointed run is run again, how it refuses to read on after windows it
//! wrote at the end of its input, and a reader of standard output that went away (`| head`),
//! which ends the run quietly, as ripgrep does.

use std::path::Path;

use zpark::checkpoint::{Finished, Run, RunEnd, RunSummary};

use super::context::Counters;

/// What a checkpointed run knew when it started, for what it says at its end.
pub(super) struct Start<'a> {
    /// The checkpoint directory; `None` without `--checkpoint`.
    pub(super) dir: Option<&'a Path>,
    /// Whether the checkpoint said the run had finished.
    pub(super) finished: Option<Finished>,
    /// The last slice committed before this run.
    pub(super) resumed_after: u64,
    /// How far the input was read: `input line 100000`, `3 files read`.
    pub(super) read: String,
    /// How to read only what was added after a finished run, as a run of its own.
    pub(super) go_on: String,
}

impl<'a> Start<'a> {
    /// What `run` knows before it reads, with the words of this input.
    pub(super) fn of(run: &Run, dir: Option<&'a Path>, read: String, go_on: String) -> Start<'a> {
        Start {
            dir,
            finished: run.finished(),
            resumed_after: run.resumed_after(),
            read,
            go_on,
        }
    }
}

/// Settles the result of a run: the slices it wrote, what a finished run says, and the errors
/// of a slice (printed and counted, exit 1), of a bad record under `--on-error fail` (exit 3,
/// said by the run's verdict), of a closed standard output (quiet, exit 0) and of a finished
/// run whose input grew (returned, exit 6).
pub(super) fn settle(
    result: zpark::Result<RunSummary>,
    start: &Start<'_>,
    counters: &mut Counters,
) -> anyhow::Result<Option<RunSummary>> {
    let error = match result {
        Ok(summary) => {
            counters.slices = summary.slices;
            say_how_it_ended(start, &summary, counters);
            return Ok(Some(summary));
        }
        Err(error) => error,
    };
    match error.root() {
        zpark::Error::InputGrewAfterEnd { .. } => {
            return Err(GoOn {
                error,
                how: start.go_on.clone(),
            }
            .into());
        }
        // A bad record under --on-error fail: the run's verdict says it (exit 3).
        _ if counters.failed() => {}
        _ if output_closed(&error) => counters.output_closed = true,
        // The checkpoint stays at the slice before: a restart resumes with the failed slice.
        _ => {
            counters.failed_slices += 1;
            counters.progress.suspend(|| eprintln!("zpark: {}", error.report()));
        }
    }
    Ok(None)
}

/// Whether `error` is a write to a reader that went away (`zpark run ... | head`).
pub fn output_closed(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        // zpark's errors share their I/O cause behind an `Arc`.
        let io = error.downcast_ref::<std::io::Error>().or_else(|| {
            error
                .downcast_ref::<std::sync::Arc<std::io::Error>>()
                .map(AsRef::as_ref)
        });
        if io.is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Says on standard error how a checkpointed run that had finished ended this time: with
/// nothing new (complete, nothing written), or having read what its input gained.
fn say_how_it_ended(start: &Start<'_>, summary: &RunSummary, counters: &Counters) {
    let (Some(dir), Some(_)) = (start.dir, start.finished) else {
        return;
    };
    let dir = dir.display();
    let at = start.resumed_after;
    let read = &start.read;
    counters.progress.suspend(|| match (summary.end, summary.slices) {
        (RunEnd::AlreadyFinished, _) | (_, 0) => eprintln!(
            "zpark: the run of checkpoint {dir} is complete: it finished after slice {at} at the end of its input ({read}), and nothing was added since; nothing written (--reset computes it again)"
        ),
        _ => eprintln!(
            "zpark: the run of checkpoint {dir} had finished after slice {at} ({read}) with no windows of its own at the end; its input has grown, and this run resumed from there: {}",
            match summary.slices {
                1 => format!("slice {} holds what was added", at + 1),
                n => format!("slices {} to {} hold what was added", at + 1, at + n),
            }
        ),
    });
}

/// The refusal to read on after a finished run's end-of-input windows
/// ([`zpark::Error::InputGrewAfterEnd`], exit 6), followed by the commands that go on.
#[derive(Debug)]
pub struct GoOn {
    /// The library's refusal.
    pub error: zpark::Error,
    /// How to go on with `zpark run`.
    pub how: String,
}

impl std::fmt::Display for GoOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.error.report(), self.how)
    }
}

impl std::error::Error for GoOn {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_found_under_the_sink_error() {
        let error = zpark::Error::Sink {
            sink: "standard output".into(),
            source: std::sync::Arc::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        assert!(output_closed(&error));
        let full = zpark::Error::Sink {
            sink: "standard output".into(),
            source: std::sync::Arc::new(std::io::Error::other("no space left")),
        };
        assert!(!output_closed(&full));
    }
}
