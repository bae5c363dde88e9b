//! Slicing blocks of lines: `parallelize_lines` (slices of exactly `n` lines, blocks cut where a
//! slice ends) and `discretize_lines` (slices of time, whole blocks).

use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::timed::{one_partition_each, DiscretizeLines};
use crate::engine::Engine;
use crate::line_block::LineBlock;
use crate::rdd::Rdd;

/// Slicing for streams of [`LineBlock`]s (made by
/// [`LineStream::blocks`](crate::source::LineStream::blocks) and
/// [`PositionedLines::blocks`](crate::source::PositionedLines::blocks)): the records of a
/// slice are reached without a poll per line, and each block is a partition of the slice, so
/// the lines are parsed and counted on the engine's workers.
pub trait LineBlockExt: Stream<Item = LineBlock> + Sized {
    /// Slices of exactly `n` lines (the last may be shorter, none is empty): slice k holds
    /// lines `(k-1)·n + 1 ..= k·n` of the input. A block that holds a slice boundary is cut
    /// there (without copying); the rest starts the next slice.
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::discretize::LineBlockExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let path = std::env::temp_dir().join("zpark-doc-parallelize-lines.txt");
    /// std::fs::write(&path, "a x\nb y\na z\nc w\na v\n")?;
    /// let engine = Engine::local(2);
    /// let per_slice: Vec<Vec<(Vec<u8>, u64)>> = zpark::source::lines(&path)
    ///     .blocks()
    ///     .map(|block| block.expect("readable"))
    ///     .parallelize_lines(&engine, 2)
    ///     .then(|slice| async move {
    ///         let mut counts = slice.count_lines_by(|line| zpark::nth_field(line, 1)).collect().await?;
    ///         counts.sort();
    ///         Ok::<_, zpark::Error>(counts)
    ///     })
    ///     .map(|counts| counts.expect("slice"))
    ///     .collect()
    ///     .await;
    /// assert_eq!(per_slice, vec![
    ///     vec![(b"a".to_vec(), 1), (b"b".to_vec(), 1)],
    ///     vec![(b"a".to_vec(), 1), (b"c".to_vec(), 1)],
    ///     vec![(b"a".to_vec(), 1)],
    /// ]);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    fn parallelize_lines(self, engine: &Engine, n: u64) -> ParallelizeLines<Self> {
        ParallelizeLines::new(self, engine.clone(), n)
    }

    /// Each block with the number of the slice of `n` lines it belongs to (from 1), cut where
    /// a slice ends, without grouping them: what [`parallelize_lines`](Self::parallelize_lines)
    /// does before it gathers a slice's blocks. For pipelines that start work on each block as
    /// it comes and gather the results per slice (`discretize_by` on the number), so that a
    /// slice of any size never waits in memory whole.
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::checkpoint::SourcePosition;
    /// use zpark::discretize::LineBlockExt;
    /// use zpark::LineBlock;
    /// # futures::executor::block_on(async {
    /// let block = LineBlock::new("a\nb\nc\n", 1, SourcePosition::at(6, 3));
    /// let pieces: Vec<(u64, u64)> = futures::stream::iter([block])
    ///     .number_lines(2)
    ///     .map(|(slice, piece)| (slice, piece.line_count()))
    ///     .collect()
    ///     .await;
    /// assert_eq!(pieces, vec![(1, 2), (2, 1)]);
    /// # });
    /// ```
    #[track_caller]
    fn number_lines(self, n: u64) -> NumberLines<Self> {
        NumberLines::new(self, n)
    }

    /// One slice per interval of tokio's clock, with its time, as
    /// [`discretize_keep_time`](super::DiscretizeExt::discretize_keep_time) cuts elements: a
    /// block is in the slice open when it arrived (its lines were read together), and each
    /// block is a partition.
    ///
    /// # Panics
    ///
    /// When `dur` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zpark::discretize::LineBlockExt;
    /// use zpark::prelude::*;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let path = std::env::temp_dir().join("zpark-doc-discretize-lines.txt");
    /// std::fs::write(&path, "1\n2\n3\n")?;
    /// let engine = Engine::local(2);
    /// let slices: Vec<(SliceTime, Rdd<zpark::LineBlock>)> = zpark::source::lines(&path)
    ///     .blocks()
    ///     .map(|block| block.expect("readable"))
    ///     .discretize_lines(&engine, Duration::from_secs(1))
    ///     .collect()
    ///     .await;
    /// let lines: u64 = slices[0].1.collect().await?.iter().map(|b| b.line_count()).sum();
    /// assert_eq!((slices.len(), lines), (1, 3));
    /// # Ok(()) }
    /// ```
    #[track_caller]
    fn discretize_lines(self, engine: &Engine, dur: Duration) -> DiscretizeLines<Self>
    where
        Self: Send + 'static,
    {
        DiscretizeLines::new(self, engine.clone(), dur)
    }
}

impl<S: Stream<Item = LineBlock>> LineBlockExt for S {}

pin_project! {
    /// Slices of exactly `n` lines from a stream of blocks. Made by
    /// [`parallelize_lines`](LineBlockExt::parallelize_lines).
    #[must_use = "streams do nothing unless polled"]
    pub struct ParallelizeLines<S> {
        #[pin]
        input: S,
        engine: Engine,
        size: u64,
        // The blocks of the slice being filled, and how many lines they hold.
        blocks: Vec<LineBlock>,
        lines: u64,
        // What is left of a block cut at a slice boundary: the next slice starts with it.
        carry: Option<LineBlock>,
        done: bool,
    }
}

impl<S: Stream<Item = LineBlock>> ParallelizeLines<S> {
    #[track_caller]
    fn new(input: S, engine: Engine, size: u64) -> Self {
        assert!(
            size > 0,
            "parallelize_lines: a slice needs at least 1 line (n = 0 given); use n >= 1"
        );
        ParallelizeLines {
            input,
            engine,
            size,
            blocks: Vec::new(),
            lines: 0,
            carry: None,
            done: false,
        }
    }
}

impl<S: Stream<Item = LineBlock>> Stream for ParallelizeLines<S> {
    type Item = Rdd<LineBlock>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            // The slice is full: hand it over.
            if *this.lines == *this.size {
                *this.lines = 0;
                let blocks = std::mem::take(this.blocks);
                return Poll::Ready(Some(one_partition_each(this.engine, blocks)));
            }
            // A block (or the rest of one) to put in: whole, or cut where the slice ends.
            if let Some(block) = this.carry.take() {
                let room = *this.size - *this.lines;
                let (head, tail) = block.split_at_line(room);
                *this.lines += head.line_count();
                if head.line_count() > 0 {
                    this.blocks.push(head);
                }
                *this.carry = (tail.line_count() > 0).then_some(tail);
                continue;
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.input.as_mut().poll_next(cx)) {
                Some(block) => *this.carry = Some(block),
                // End of input: the short last slice, if any.
                None => {
                    *this.done = true;
                    *this.lines = 0;
                    let blocks = std::mem::take(this.blocks);
                    if !blocks.is_empty() {
                        return Poll::Ready(Some(one_partition_each(this.engine, blocks)));
                    }
                }
            }
        }
    }
}

impl<S: Stream<Item = LineBlock>> FusedStream for ParallelizeLines<S> {
    fn is_terminated(&self) -> bool {
        self.done && self.carry.is_none() && self.blocks.is_empty()
    }
}

impl<S> std::fmt::Debug for ParallelizeLines<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelizeLines")
            .field("size", &self.size)
            .field("lines", &self.lines)
            .field("done", &self.done)
            .finish()
    }
}

pin_project! {
    /// Blocks cut at every `n` lines, each with its slice's number. Made by
    /// [`number_lines`](LineBlockExt::number_lines).
    #[must_use = "streams do nothing unless polled"]
    pub struct NumberLines<S> {
        #[pin]
        input: S,
        size: u64,
        // The slice being filled, and the lines it holds so far.
        slice: u64,
        lines: u64,
        // What is left of a block cut at a slice boundary.
        carry: Option<LineBlock>,
    }
}

impl<S: Stream<Item = LineBlock>> NumberLines<S> {
    #[track_caller]
    fn new(input: S, size: u64) -> Self {
        assert!(
            size > 0,
            "number_lines: a slice needs at least 1 line (n = 0 given); use n >= 1"
        );
        NumberLines {
            input,
            size,
            slice: 1,
            lines: 0,
            carry: None,
        }
    }
}

impl<S: Stream<Item = LineBlock>> Stream for NumberLines<S> {
    type Item = (u64, LineBlock);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(block) = this.carry.take() {
                if *this.lines == *this.size {
                    *this.slice += 1;
                    *this.lines = 0;
                }
                let (head, tail) = block.split_at_line(*this.size - *this.lines);
                *this.lines += head.line_count();
                *this.carry = (tail.line_count() > 0).then_some(tail);
                if head.line_count() > 0 {
                    return Poll::Ready(Some((*this.slice, head)));
                }
                continue;
            }
            match ready!(this.input.as_mut().poll_next(cx)) {
                Some(block) => *this.carry = Some(block),
                None => return Poll::Ready(None),
            }
        }
    }
}

impl<S> std::fmt::Debug for NumberLines<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberLines")
            .field("size", &self.size)
            .field("slice", &self.slice)
            .finish()
    }
}
