//! `--session GAP --by-key FIELD`: the output of sessions, and sessions in event time (the
//! record path: `--event-time`); on the clock, sessions go through the block path's
//! [`OperationStage`](super::stage::OperationStage).

use std::time::Duration;

use futures::{Stream, StreamExt};
use zpark::prelude::*;
use zpark::source::Positioned;
use zpark::window::Session;

use super::context::{status, Counters};
use super::output::{Formatter, Span, Writer};
use super::partial::{merge_partials, rows, Partial};
use super::record::{Record, Value};
use super::{Operation, RunArgs};

/// What writes a session's lines: the operation's rows of its partial results.
pub(super) struct SessionLines {
    pub(super) operation: Operation,
    pub(super) engine: Engine,
    pub(super) formatter: Formatter,
    pub(super) skip_empty: bool,
    /// Whether times are event times (RFC 3339 in the output) or on the clock.
    pub(super) event_time: bool,
}

impl SessionLines {
    /// The lines of `sessions`, ordered by their end, start and key.
    pub(super) async fn lines(&self, mut sessions: Vec<Session<Value, Vec<Partial>>>) -> zpark::Result<Vec<String>> {
        sessions.sort_by(|a, b| (a.end, a.start, &a.key).cmp(&(b.end, b.start, &b.key)));
        let mut lines = Vec::new();
        for session in sessions {
            let partial = self.engine.parallelize(session.value, 1);
            let rows = rows(&self.operation, partial, self.skip_empty).await?;
            let (start, end) = (session.start, session.end);
            let span = match self.event_time {
                true => Span::EventTime { start, end },
                false => Span::Clock { start, end },
            };
            lines.extend(self.formatter.session_lines(&session.key, span, &rows));
        }
        Ok(lines)
    }
}

/// A record's partial result on its own: what a slice's records of a key merge into.
fn partial_of_one(operation: &Operation, value: Value) -> Vec<Partial> {
    match operation {
        Operation::Count => vec![(Value::Int(0), 1)],
        _ => vec![(value, 1)],
    }
}

/// Runs the sessions of records sliced by their time (`--event-time`), to the end of input.
pub(super) async fn run_in_event_time(
    args: &RunArgs,
    records: impl Stream<Item = Positioned<Record>> + Send + 'static,
    (every, lateness, gap): (Duration, Duration, Duration),
    engine: &Engine,
    counters: &mut Counters,
) -> anyhow::Result<()> {
    let operation = args.operation.clone();
    let keyed = records.map(move |r| {
        let key = r.item.key.unwrap_or(Value::Str(super::text::Text::new(Vec::new())));
        (
            r.item.time.unwrap_or_default(),
            (key, partial_of_one(&operation, r.item.value)),
        )
    });
    let sliced = keyed.discretize_by_event_time(engine, |(time, _)| *time, every, lateness);
    counters.set_late(sliced.late_count());
    let operation = args.operation.clone();
    let sessions = sliced
        .map_rdd(|(_, pair)| pair)
        .reduce_by_key_and_session(move |older, newer| merge_partials(&operation, older, newer), gap);
    let writer_lines = SessionLines {
        operation: args.operation.clone(),
        engine: engine.clone(),
        formatter: Formatter::new(args.output),
        skip_empty: args.skip_empty,
        event_time: true,
    };
    let mut sessions = std::pin::pin!(sessions);
    let mut writer = Writer::new(args.output);
    while let Some((_, closed)) = sessions.next().await {
        if counters.failed() {
            break;
        }
        counters.slices += 1;
        let lines = match closed.collect().await {
            Ok(closed) => writer_lines.lines(closed).await,
            Err(error) => Err(error),
        };
        match lines {
            Ok(lines) => writer.write_lines(&lines)?,
            Err(error) => {
                counters.failed_slices += 1;
                counters.progress.suspend(|| eprintln!("zpark: {}", error.report()));
            }
        }
        counters.progress.set_message(status(counters));
    }
    writer.flush()
}
