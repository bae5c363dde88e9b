//! The fast pipeline of `zpark run` for slices of lines (`--count N`) or of time (`--every`):
//! the input in blocks of lines, sliced without a poll per line, each block parsed and reduced
//! on the engine's workers ([`LineParser`]), the slices' partial results through the operation
//! (and its windows) on the driver, in order.

use std::sync::{Arc, OnceLock};

use futures::future::{BoxFuture, FutureExt, Shared};
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::Semaphore;
use zpark::checkpoint::SourcePosition;
use zpark::prelude::*;
use zpark::source::{follow, follow_from, lines, lines_from, stdin_lines, tcp_lines, LineBlocks};
use zpark::LineBlock;

use super::blocks::{BlockOutcome, LineParser};
use super::context::{Counters, Slicing};
use super::partial::{merge, merge_keyed, Partial};
use super::record::{csv_row, Format, Value};
use super::{Operation, RunArgs};

/// Whether `zpark run` takes the block path: slices of lines or of time (with or without a
/// checkpoint; the others cannot be checkpointed).
pub(super) fn takes_blocks(slicing: &Slicing) -> bool {
    matches!(slicing, Slicing::Every(_) | Slicing::Count(_))
}

/// The input in blocks of lines, from `from` on for a file when a checkpoint gives a position.
pub(super) fn input_blocks(args: &RunArgs, from: Option<SourcePosition>) -> LineBlocks {
    let file = |path: &str, follows: bool, from: Option<SourcePosition>| {
        let from = from.unwrap_or_default();
        match follows {
            false if from == SourcePosition::default() => lines(path).blocks(),
            false => lines_from(path, from).blocks(),
            true => follow_from(path, from).blocks(),
        }
    };
    if let Some(path) = &args.follow {
        return match from {
            None => follow(path).blocks(),
            Some(from) => file(path, true, Some(from)),
        };
    }
    match args.input.as_deref() {
        None | Some("-") => stdin_lines().blocks(),
        Some(url) if url.starts_with("tcp://") => tcp_lines(url.trim_start_matches("tcp://")).blocks(),
        Some(path) => file(path, false, from),
    }
}

/// The parser the workers use, sharing the CSV header that [`readable_blocks`] sets.
pub(super) fn line_parser(args: &RunArgs, name: &str) -> LineParser {
    LineParser {
        input: name.into(),
        format: args.format,
        field: args.field.clone(),
        parse: args.parse,
        operation: args.operation.clone(),
        key: args.by_key.clone(),
        policy: args.on_error,
        header: Arc::new(OnceLock::new()),
    }
}

/// The blocks that can be read: an I/O error ends them (the run fails with it), Ctrl-C ends
/// them (the slice in progress is flushed), and line 1 of a CSV input becomes the header and
/// is taken out of its block: the header is no record, so that `--count N` slices hold N lines
/// of data each (`split -l` on the rows), and positions stay those of the file.
pub(super) fn readable_blocks(
    blocks: LineBlocks,
    parser: &LineParser,
    counters: &Counters,
) -> BoxStream<'static, LineBlock> {
    let failure = counters.input_failure();
    let header = (parser.format == Format::Csv).then(|| Arc::clone(&parser.header));
    blocks
        .take_until(counters.stop_signal())
        .take_while(move |block| {
            if let Err(error) = block {
                *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.clone());
            }
            futures::future::ready(block.is_ok())
        })
        .filter_map(move |block| {
            let block = block.ok().and_then(|block| match (&header, block.first_line()) {
                (Some(header), 1) if block.line_count() > 0 => {
                    let (first, rest) = block.split_at_line(1);
                    if let Some(line) = first.lines().next() {
                        let _ = header.set(csv_row(line).unwrap_or_default());
                    }
                    (rest.line_count() > 0).then_some(rest)
                }
                _ => Some(block),
            });
            futures::future::ready(block)
        })
        .boxed()
}

/// A block's outcome, being computed on the workers since the block was read.
type Pending = Shared<BoxFuture<'static, Arc<zpark::Result<BlockOutcome>>>>;

/// A block being parsed: the handle of its outcome, and where it lies in the input.
#[derive(Clone)]
pub(super) struct PendingBlock {
    outcome: Pending,
    /// Its lines, and the position just after the last.
    pub(super) lines: u64,
    pub(super) end: SourcePosition,
}

impl std::fmt::Debug for PendingBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingBlock")
            .field("lines", &self.lines)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

/// Starts parsing each block on the engine's workers as it is read: at most `in_flight`
/// blocks at once (the reading waits for a free one: back-pressure), so that memory holds a
/// few blocks and the slices' partial results, never a whole slice of lines. The future a
/// block gets resolves once the block is admitted, to the handle of its running parse.
#[allow(clippy::async_yields_async)]
fn start_parsing(
    parser: LineParser,
    engine: Engine,
    in_flight: usize,
) -> impl FnMut(LineBlock) -> BoxFuture<'static, PendingBlock> {
    let permits = Arc::new(Semaphore::new(in_flight));
    move |block| {
        let (parser, engine, permits) = (parser.clone(), engine.clone(), Arc::clone(&permits));
        let (lines, end) = (block.line_count(), block.end());
        async move {
            let permit = permits.acquire_owned().await;
            let work = engine
                .parallelize(vec![block], 1)
                .map(move |block| parser.outcome(&block));
            let task = tokio::spawn(async move {
                let outcome = work
                    .collect()
                    .await
                    .map(|mut outcomes| outcomes.pop().unwrap_or_default());
                drop(permit);
                outcome
            });
            let joined = task.map(|joined| {
                Arc::new(
                    joined.unwrap_or_else(|error| Err(zpark::Error::Internal(format!("a block's parse: {error}")))),
                )
            });
            PendingBlock {
                outcome: joined.boxed().shared(),
                lines,
                end,
            }
        }
        .boxed()
    }
}

/// A slice gathered: its blocks' outcomes in order, its partial result and the first and last
/// line it holds.
pub(super) struct ComputedSlice {
    pub(super) outcomes: Vec<BlockOutcome>,
    pub(super) partial: Rdd<Partial>,
    /// With `--by-key`: each key's partial result in the slice.
    pub(super) keyed: Vec<(Value, Vec<Partial>)>,
    pub(super) lines: Option<(u64, u64)>,
}

/// Waits for a slice's blocks and merges their partial results (on the workers).
pub(super) async fn gather(operation: Operation, slice: Rdd<PendingBlock>) -> zpark::Result<ComputedSlice> {
    let engine = slice.engine().clone();
    let pending = slice.collect().await?;
    let mut outcomes = Vec::with_capacity(pending.len());
    for outcome in futures::future::join_all(pending.into_iter().map(|block| block.outcome)).await {
        outcomes.push(outcome.as_ref().clone()?);
    }
    let lines = match (outcomes.first(), outcomes.last()) {
        (Some(first), Some(last)) => Some((first.lines.0, last.lines.1)),
        _ => None,
    };
    let partials: Vec<Partial> = outcomes.iter().flat_map(|o| o.partial.iter().cloned()).collect();
    let partitions = engine.parallelism().min(partials.len() / MERGE_PARTITION + 1);
    let partial = merge(&operation, engine.parallelize(partials, partitions));
    let keyed = merge_keyed(&operation, outcomes.iter().flat_map(|o| o.keyed.iter().cloned()));
    Ok(ComputedSlice {
        outcomes,
        partial,
        keyed,
        lines,
    })
}

/// The fewest partial results worth a partition of their own when a slice's are merged.
const MERGE_PARTITION: usize = 4096;

/// Blocks parsed at once per worker thread.
const BLOCKS_PER_WORKER: usize = 4;

/// The slices of blocks being parsed: of `--count` lines (blocks cut at slice boundaries) or
/// of `--every` on the clock.
pub(super) fn slices_of_blocks(
    blocks: BoxStream<'static, LineBlock>,
    slicing: &Slicing,
    engine: &Engine,
    parser: LineParser,
) -> anyhow::Result<BoxStream<'static, Rdd<PendingBlock>>> {
    let mut start = start_parsing(parser, engine.clone(), BLOCKS_PER_WORKER * engine.parallelism());
    Ok(match slicing {
        Slicing::Every(every) => blocks
            .then(start)
            .discretize_keep_time(engine, *every)
            .map(|(_, rdd)| rdd)
            .boxed(),
        Slicing::Count(n) => {
            let pieces = blocks
                .number_lines(*n as u64)
                .then(move |(slice, block)| start(block).map(move |pending| (slice, pending)));
            let engine = engine.clone();
            whole_slices(pieces.boxed(), *n as u64)
                .map(move |blocks| engine.parallelize(blocks, 1))
                .boxed()
        }
        _ => anyhow::bail!("blocks are sliced by --count or --every"),
    })
}

/// The pieces of each slice of `n` lines gathered, a slice handed over as soon as its last
/// line is in (a live input does not hold it back until the next slice starts), the last one
/// when the input ends.
fn whole_slices(
    pieces: BoxStream<'static, (u64, PendingBlock)>,
    n: u64,
) -> impl futures::Stream<Item = Vec<PendingBlock>> + Send + 'static {
    futures::stream::unfold(Some((pieces, None::<(u64, PendingBlock)>)), move |state| async move {
        let (mut pieces, mut carry) = state?;
        let mut slice: Vec<PendingBlock> = Vec::new();
        let (mut number, mut lines) = (None, 0);
        loop {
            let next = match carry.take() {
                Some(piece) => Some(piece),
                None => pieces.next().await,
            };
            match next {
                // A piece of the next slice: this one is done (the input had a short slice).
                Some((k, piece)) if number.is_some_and(|number| number != k) => {
                    return Some((slice, Some((pieces, Some((k, piece))))));
                }
                Some((k, piece)) => {
                    number = Some(k);
                    lines += piece.lines;
                    slice.push(piece);
                    if lines >= n {
                        return Some((slice, Some((pieces, None))));
                    }
                }
                None if slice.is_empty() => return None,
                None => return Some((slice, None)),
            }
        }
    })
}
