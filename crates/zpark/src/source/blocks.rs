//! Reading inputs in blocks of whole lines ([`LineBlock`]), and the lines of those blocks: one
//! read and one line-end search per block, no poll of the async machinery per line.

use std::future::Future;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::buffer_pool::BufferPool;
use crate::durable::Positioned;
use crate::durable::SourcePosition;
use crate::error::{Error, Result};
use crate::line_block::LineBlock;

/// Blocks of whole lines of an input; an I/O error is one `Err` naming the input, then the end.
/// Made by [`LineStream::blocks`](super::LineStream::blocks) and
/// [`PositionedLines::blocks`](super::PositionedLines::blocks).
pub type LineBlocks = BoxStream<'static, Result<LineBlock>>;

/// Lines as bytes, each with the position just after it; an I/O error is one `Err` naming the
/// input, then the end. Made by [`LineStream::bytes`](super::LineStream::bytes) and
/// [`PositionedLines::bytes`](super::PositionedLines::bytes).
pub type ByteLines = BoxStream<'static, Result<Positioned<Vec<u8>>>>;

/// How many bytes a block read asks for: a block holds about this much. Row 10 (10 M lines,
/// 634 MB) measured 2 MiB against 1 MiB: 0.23 against 0.24 s, and 0.25 against 0.27 s with
/// `--count 100000` (half the blocks to hand over, count and parse); 512 KiB was slower.
pub(super) const BLOCK_BYTES: usize = 1 << 21;

/// The capacity of a block buffer: a block's read, and room for the part of a line carried
/// over from the read before it.
pub(super) const BUFFER_BYTES: usize = BLOCK_BYTES + BLOCK_BYTES / 16;

/// The lines of `bytes` (whole lines, read after `position`) as a block; moves `position` past
/// them.
pub(super) fn take_block(bytes: Bytes, position: &mut SourcePosition) -> LineBlock {
    let block = LineBlock::following(bytes, position.clone());
    *position = block.end();
    block
}

/// The whole lines at the front of `pending` (up to its last `\n`) as bytes shared with the
/// block, without copying them (their buffer goes back to `buffers` when the block is
/// dropped); the rest (part of a line) stays in `pending`, now a buffer of the pool. None when
/// it holds no line end.
pub(super) fn whole_lines(pending: &mut Vec<u8>, buffers: &BufferPool) -> Option<Bytes> {
    let last = memchr::memrchr(b'\n', pending)?;
    let mut rest = buffers.take(BUFFER_BYTES);
    rest.extend_from_slice(&pending[last + 1..]);
    let mut lines = std::mem::replace(pending, rest);
    lines.truncate(last + 1);
    Some(buffers.share(lines))
}

enum Reader<F, R> {
    Opening(F),
    Reading(R, Vec<u8>, SourcePosition),
    Done,
}

/// The blocks of whatever `open` opens (standard input, a socket), each `Err` naming `input`;
/// ends after an error or at the end of the input, where a last line without its ending is a
/// block too. A block is handed over as soon as a read brings a line end: a live source is not
/// held back until 2 MiB have come.
pub(super) fn blocks_of<F, R>(input: String, open: F) -> LineBlocks
where
    F: Future<Output = std::io::Result<R>> + Send + 'static,
    R: AsyncRead + Unpin + Send + 'static,
{
    let buffers = BufferPool::default();
    stream::unfold((Reader::Opening(open), input), move |(state, input)| {
        let buffers = buffers.clone();
        async move {
            let (mut reader, mut pending, mut position) = match state {
                Reader::Opening(open) => match open.await {
                    Ok(reader) => (reader, Vec::new(), SourcePosition::default()),
                    Err(error) => return Some((Err(Error::io(&input, error)), (Reader::Done, input))),
                },
                Reader::Reading(reader, pending, position) => (reader, pending, position),
                Reader::Done => return None,
            };
            loop {
                if let Some(lines) = whole_lines(&mut pending, &buffers) {
                    let block = take_block(lines, &mut position);
                    return Some((Ok(block), (Reader::Reading(reader, pending, position), input)));
                }
                pending.reserve(BLOCK_BYTES);
                match reader.read_buf(&mut pending).await {
                    Ok(0) if pending.is_empty() => return None,
                    // The end: the last line has no line ending.
                    Ok(0) => {
                        let block = take_block(buffers.share(std::mem::take(&mut pending)), &mut position);
                        return Some((Ok(block), (Reader::Done, input)));
                    }
                    Ok(_) => {}
                    Err(error) => return Some((Err(Error::io(&input, error)), (Reader::Done, input))),
                }
            }
        }
    })
    .boxed()
}

/// The lines of `blocks`, each as bytes without its ending, with the position just after it:
/// what [`LineStream::bytes`](super::LineStream::bytes) gives, for blocks taken with
/// [`blocks`](super::LineStream::blocks).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use zpark::checkpoint::SourcePosition;
/// use zpark::LineBlock;
/// # futures::executor::block_on(async {
/// let blocks = futures::stream::iter([Ok(LineBlock::new("a\nb\n", 1, SourcePosition::at(4, 2)))]).boxed();
/// let lines: Vec<_> = zpark::source::lines_of_blocks(blocks).map(|l| l.unwrap()).collect().await;
/// assert_eq!((lines[1].item.as_slice(), lines[1].end.offset, lines[1].end.line), (&b"b"[..], 4, 2));
/// # });
/// ```
pub fn lines_of_blocks(blocks: LineBlocks) -> ByteLines {
    blocks
        .flat_map(|block| match block {
            Ok(block) => {
                let mut cursor = BlockCursor::new(block);
                let lines = std::iter::from_fn(move || cursor.next_line().map(|(line, end)| (line.to_vec(), end)));
                stream::iter(lines.map(|(item, end)| Ok(Positioned { item, end }))).left_stream()
            }
            Err(error) => stream::once(futures::future::ready(Err(error))).right_stream(),
        })
        .boxed()
}

/// A block whose lines are handed out one by one.
#[derive(Debug)]
pub(super) struct BlockCursor {
    block: LineBlock,
    /// The bytes and lines handed out.
    bytes: usize,
    lines: u64,
}

impl BlockCursor {
    pub(super) fn new(block: LineBlock) -> BlockCursor {
        BlockCursor {
            block,
            bytes: 0,
            lines: 0,
        }
    }

    /// The next line (without its ending) and the position just after it.
    pub(super) fn next_line(&mut self) -> Option<(&[u8], SourcePosition)> {
        let bytes = self.block.as_bytes();
        let rest = bytes.get(self.bytes..).filter(|rest| !rest.is_empty())?;
        let length = memchr::memchr(b'\n', rest).map_or(rest.len(), |at| at + 1);
        self.bytes += length;
        self.lines += 1;
        let mut end = self.block.end();
        end.offset -= (bytes.len() - self.bytes) as u64;
        end.line = self.block.first_line() + self.lines - 1;
        Some((without_ending(&rest[..length]), end))
    }

    /// The lines not handed out yet, as a block; none when all were.
    pub(super) fn rest(self) -> Option<LineBlock> {
        let (_, rest) = self.block.split_at_line(self.lines);
        (rest.line_count() > 0).then_some(rest)
    }
}

/// The lines of `blocks` one by one, with what a cursor has left of the current block.
pub(super) fn remaining_blocks(cursor: Option<BlockCursor>, blocks: LineBlocks) -> LineBlocks {
    match cursor.and_then(BlockCursor::rest) {
        Some(rest) => stream::once(futures::future::ready(Ok(rest))).chain(blocks).boxed(),
        None => blocks,
    }
}

/// A line read with its ending (`\n` or `\r\n`, or none at the end of a file), without it.
pub(super) fn without_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// How often [`follow`](super::follow) looks for new lines once it has read to the end of the file.
pub const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Line `number` as text: an [`Error::Parse`] naming `input`, the line and the first byte
/// that is not UTF-8 when it is not.
pub(super) fn text_of(input: &str, line: Vec<u8>, number: u64) -> Result<String> {
    String::from_utf8(line).map_err(|error| {
        let column = error.utf8_error().valid_up_to() + 1;
        let bytes = error.into_bytes();
        Error::Parse {
            input: input.to_string(),
            line: number,
            record: String::from_utf8_lossy(&bytes).chars().take(120).collect(),
            reason: format!("not UTF-8 (byte {column} of the line)"),
        }
    })
}
