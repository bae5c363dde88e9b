//! Replayable file sources: lines with their position, read from a given position on.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures::stream::{self, Stream, StreamExt};
use std::io::{Read, Seek};

use super::blocks::{
    lines_of_blocks, remaining_blocks, text_of, whole_lines, BlockCursor, ByteLines, LineBlocks, BLOCK_BYTES,
    BUFFER_BYTES, FOLLOW_POLL,
};
use super::buffer_pool::BufferPool;
use super::split_reads::SplitReads;
use crate::durable::{FileIdentity, Positioned, SourcePosition};
use crate::error::{Error, Result};
use crate::line_block::LineBlock;

/// The lines of a file with their positions, from a given position on. Made by
/// [`lines_from`] and [`follow_from`]; an I/O error is one `Err` naming the file, then the end.
/// A line that is not UTF-8 is one `Err` ([`Error::Parse`], naming the file, the line and the
/// byte) and the stream goes on; [`bytes`](PositionedLines::bytes) gives every line as it is.
#[must_use = "streams do nothing unless polled"]
pub struct PositionedLines {
    input: Arc<str>,
    blocks: LineBlocks,
    /// The block whose lines are being handed out.
    current: Option<BlockCursor>,
}

impl PositionedLines {
    /// Every line as it is (bytes, without its line ending), with the position just after it.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::checkpoint::SourcePosition;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let path = std::env::temp_dir().join("zpark-doc-positioned-bytes.txt");
    /// std::fs::write(&path, b"a\n\xff\n")?;
    /// let lines: Vec<_> = zpark::source::lines_from(&path, SourcePosition::default())
    ///     .bytes()
    ///     .map(|line| line.unwrap().item)
    ///     .collect()
    ///     .await;
    /// assert_eq!(lines, vec![b"a".to_vec(), vec![0xff]]);
    /// # Ok(()) }
    /// ```
    pub fn bytes(self) -> ByteLines {
        lines_of_blocks(self.blocks())
    }

    /// The file in blocks of whole lines (about 2 MiB each), each knowing its first line and
    /// where the file stands after it (what a checkpoint records); lines already taken one by
    /// one are not given again.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::checkpoint::SourcePosition;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let path = std::env::temp_dir().join("zpark-doc-positioned-blocks.txt");
    /// std::fs::write(&path, "a\nb\nc")?;
    /// let blocks: Vec<_> = zpark::source::lines_from(&path, SourcePosition::at(2, 1))
    ///     .blocks()
    ///     .map(|block| block.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!((blocks[0].first_line(), blocks[0].line_count(), blocks[0].end().offset), (2, 2, 5));
    /// # Ok(()) }
    /// ```
    pub fn blocks(self) -> LineBlocks {
        remaining_blocks(self.current, self.blocks)
    }
}

impl Stream for PositionedLines {
    type Item = Result<Positioned<String>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(cursor) = &mut this.current {
                if let Some((line, end)) = cursor.next_line() {
                    let text = text_of(&this.input, line.to_vec(), end.line);
                    return Poll::Ready(Some(text.map(|item| Positioned { item, end })));
                }
                this.current = None;
            }
            match ready!(this.blocks.poll_next_unpin(cx)) {
                Some(Ok(block)) => this.current = Some(BlockCursor::new(block)),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => return Poll::Ready(None),
            }
        }
    }
}

impl std::fmt::Debug for PositionedLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PositionedLines")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

/// The lines of the file at `path` from `from` on (a position recorded by a checkpoint), each
/// with the position just after it; ends at the end of the file. A last line without its line
/// ending is yielded too.
///
/// This is the replayable form of [`lines`](super::lines): a pipeline that resumes from a
/// checkpoint reads exactly the lines that its committed slices had not taken.
///
/// # Errors
///
/// One `Err` naming the path when the file cannot be opened or read, when it is shorter than
/// `from`, or when `from` names another file (it was truncated or replaced since the
/// checkpoint).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use zpark::checkpoint::SourcePosition;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join("zpark-doc-lines-from.txt");
/// std::fs::write(&path, "ab\ncd\nef")?;
/// let all: Vec<_> = zpark::source::lines_from(&path, SourcePosition::default()).collect().await;
/// let second = all[0].as_ref().unwrap().end.clone();
/// assert_eq!((second.offset, second.line), (3, 1));
/// let rest: Vec<String> = zpark::source::lines_from(&path, second)
///     .map(|line| line.unwrap().item)
///     .collect()
///     .await;
/// assert_eq!(rest, vec!["cd", "ef"]);
/// # Ok(()) }
/// ```
pub fn lines_from(path: impl AsRef<Path>, from: SourcePosition) -> PositionedLines {
    positioned(path.as_ref(), from, false)
}

/// The lines of a growing file from `from` on, like [`follow`](super::follow) (which is this
/// stream without the positions): waits for more at the end, looking every [`FOLLOW_POLL`]; a
/// line is yielded once its line ending is written. Like `tail -F` it survives log rotation:
/// when the path comes to name another file, the rest of the old file is read, then the new
/// file from its start (positions then count in the new file, lines go on counting); a file
/// truncated in place is read again from its start.
///
/// Resumed from a checkpoint taken before a rotation, the old file is found again beside the
/// path by its identity (device and inode, whatever its new name: `app.log.1`,
/// `app.log-20250624`), read on from the checkpoint's offset, then the new file from its start.
/// The first commit after the old file's last line names the new file, so the old one is
/// needed only until then. Like `tail -F`, a file that came and went while the pipeline was
/// stopped (two rotations before a resume) is not read: the path is read after the old file.
///
/// # Errors
///
/// One `Err` naming the path when it cannot be opened or read, or when a checkpoint's position
/// names a file that is no longer at the path (rotated or replaced while the pipeline was
/// stopped: the rest of that file cannot be found, so the error says to reset instead of
/// reading the new file from a wrong offset).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use zpark::checkpoint::SourcePosition;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join("zpark-doc-follow-from.txt");
/// std::fs::write(&path, "old\nnew\n")?;
/// let mut lines = zpark::source::follow_from(&path, SourcePosition::at(4, 1));
/// let line = lines.next().await.unwrap()?;
/// assert_eq!((line.item.as_str(), line.end.line), ("new", 2));
/// # Ok(()) }
/// ```
pub fn follow_from(path: impl AsRef<Path>, from: SourcePosition) -> PositionedLines {
    positioned(path.as_ref(), from, true)
}

fn positioned(path: &Path, from: SourcePosition, follow: bool) -> PositionedLines {
    let reader = Resumable {
        path: path.to_path_buf(),
        file: None,
        position: from,
        pending: Vec::new(),
        pending_ends: 0,
        buffers: BufferPool::default(),
        split: None,
        follow,
        rotated: false,
    };
    let blocks = stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        match reader.next_block().await {
            Ok(Some(block)) => Some((Ok(block), Some(reader))),
            Ok(None) => None,
            Err(error) => {
                let input = reader.path.display().to_string();
                let lost = error.get_ref().and_then(|inner| inner.downcast_ref::<PositionLost>());
                let error = match lost {
                    Some(PositionLost(problem)) => Error::PositionLost {
                        input,
                        problem: problem.clone(),
                    },
                    None => Error::io(input, error),
                };
                Some((Err(error), None))
            }
        }
    })
    .boxed();
    PositionedLines {
        input: path.display().to_string().into(),
        blocks,
        current: None,
    }
}

struct Resumable {
    path: PathBuf,
    /// The open file: read on tokio's blocking threads, straight into the block's buffer.
    file: Option<Arc<std::fs::File>>,
    /// Just after the last complete line handed out, in the open file (whose identity it
    /// holds once the file is open).
    position: SourcePosition,
    /// Bytes read after `position`: lines whose end has not been read yet.
    pending: Vec<u8>,
    /// How many `\n`s `pending` holds: counted on the blocking thread that read them, while
    /// they are in its cache, not on the driver.
    pending_ends: u64,
    /// The buffers of blocks the workers are done with, read into again.
    buffers: BufferPool,
    /// A plain file (not followed): its ranges, read in parallel.
    split: Option<SplitReads>,
    follow: bool,
    /// Set when the path was found to name a new file: finish the old one, then switch.
    rotated: bool,
}

impl Resumable {
    async fn open(&mut self) -> std::io::Result<Arc<std::fs::File>> {
        let path = self.path.clone();
        let mut file = tokio::task::spawn_blocking(move || std::fs::File::open(path)).await??;
        let mut metadata = file.metadata()?;
        let mut identity = FileIdentity::of(&metadata);
        if let (Some(expected), Some(found)) = (self.position.file, identity) {
            if expected != found {
                // Rotated while the pipeline was stopped: the rest of the old file first, if it
                // is still beside the path (`app.log.1`, `app.log-20250624`), then the new one.
                let path = self.path.clone();
                let old = tokio::task::spawn_blocking(move || find_file(&path, expected)).await?;
                let Some(old) = old else {
                    return Err(replaced(expected, self.position.offset));
                };
                file = old;
                metadata = file.metadata()?;
                identity = Some(expected);
                self.rotated = true;
            }
        }
        if metadata.len() < self.position.offset {
            return Err(shrunk(metadata.len(), self.position.offset));
        }
        // A file opened now stands at its start: seek only to resume, so that a pipe or a
        // device (`/dev/stdin`), which cannot seek, is read from its start too.
        if self.position.offset > 0 {
            (&file).seek(std::io::SeekFrom::Start(self.position.offset))?;
        }
        self.position.file = identity;
        Ok(Arc::new(file))
    }

    /// The next block of whole lines: about [`BLOCK_BYTES`] from a file that has them, what has
    /// been written when following; `None` at the end of a file that is not followed.
    async fn next_block(&mut self) -> std::io::Result<Option<LineBlock>> {
        if !self.follow && self.file.is_none() {
            let file = self.open().await?;
            // A regular file is read in ranges; a pipe or a device (`/dev/stdin`) cannot be
            // read at an offset, and is read in turn as a followed file is.
            if file.metadata()?.is_file() {
                let depth = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
                let buffers = self.buffers.clone();
                self.split = Some(SplitReads::new(
                    Arc::clone(&file),
                    self.position.offset,
                    BLOCK_BYTES,
                    depth,
                    buffers,
                ));
            }
            self.file = Some(file);
        }
        if self.split.is_some() {
            return self.next_split_block().await;
        }
        loop {
            let file = match &self.file {
                Some(file) => Arc::clone(file),
                None => {
                    let opened = self.open().await?;
                    Arc::clone(self.file.insert(opened))
                }
            };
            let pending = std::mem::take(&mut self.pending);
            let (read, pending, ends) = read_more(Arc::clone(&file), pending, self.buffers.clone()).await??;
            self.pending = pending;
            self.pending_ends += ends;
            // The end of a file that will not grow: a plain file, or the old file after rotation.
            let file_done = read == 0 && (!self.follow || self.rotated);
            if read > 0 && self.pending.len() < BLOCK_BYTES {
                // Fill a whole block from a file that has more; a short read is what there is.
                continue;
            }
            if file_done && !self.pending.is_empty() {
                // The rest of the file, its last line without an ending included.
                let rest = self.buffers.share(std::mem::take(&mut self.pending));
                return Ok(Some(self.take_block(rest)));
            }
            if let Some(lines) = whole_lines(&mut self.pending, &self.buffers) {
                return Ok(Some(self.take_block(lines)));
            }
            if file_done && !self.rotated {
                return Ok(None);
            }
            if file_done {
                // The old file is read to its end: on to the new one, from its start.
                self.file = None;
                self.rotated = false;
                self.position.offset = 0;
                self.position.file = None;
                continue;
            }
            if read > 0 {
                continue;
            }
            // At the end of what has been written: wait, then look at what the path names.
            tokio::time::sleep(FOLLOW_POLL).await;
            let metadata = match tokio::fs::metadata(&self.path).await {
                Ok(metadata) => metadata,
                // Renamed away and not created again yet: keep reading the old file.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            if FileIdentity::of(&metadata).is_some_and(|now| Some(now) != self.position.file) {
                self.rotated = true;
            } else if metadata.len() < self.position.offset + self.pending.len() as u64 {
                // Truncated in place: read it again from its start.
                (&*file).seek(std::io::SeekFrom::Start(0))?;
                self.position.offset = 0;
                self.pending.clear();
                self.pending_ends = 0;
            }
        }
    }
}

impl Resumable {
    /// The next block of a regular file that is not followed: its line-aligned ranges are
    /// read several at once, on blocking threads (`split_reads.rs`), and handed on in order;
    /// after a file that was rotated while the pipeline was stopped, the new one from its
    /// start.
    async fn next_split_block(&mut self) -> std::io::Result<Option<LineBlock>> {
        let Some(split) = &mut self.split else {
            return Ok(None);
        };
        match split.next().await? {
            Some((lines, ends)) => {
                self.pending_ends = ends;
                Ok(Some(self.take_block(lines)))
            }
            None if self.rotated => {
                self.split = None;
                self.file = None;
                self.rotated = false;
                self.position.offset = 0;
                self.position.file = None;
                Box::pin(self.next_block()).await
            }
            None => Ok(None),
        }
    }

    /// `bytes` (all the `\n`s of `pending`) as the next block; moves the position past them.
    fn take_block(&mut self, bytes: Bytes) -> LineBlock {
        let block = LineBlock::following_counted(bytes, self.position.clone(), std::mem::take(&mut self.pending_ends));
        self.position = block.end();
        block
    }
}

/// Reads up to [`BLOCK_BYTES`] more of `file` after `pending` (on a blocking thread, straight
/// into the buffer the block will share): the bytes read (0 at its end), the buffer, and how
/// many `\n`s the bytes read hold (counted there, while they are in the thread's cache).
fn read_more(file: Arc<std::fs::File>, pending: Vec<u8>, buffers: BufferPool) -> ReadMore {
    tokio::task::spawn_blocking(move || {
        let mut buffer = if pending.capacity() == 0 {
            buffers.take(BUFFER_BYTES)
        } else {
            pending
        };
        let before = buffer.len();
        buffer.reserve(BLOCK_BYTES);
        let read = (&*file).take(BLOCK_BYTES as u64).read_to_end(&mut buffer)?;
        let ends = memchr::memchr_iter(b'\n', &buffer[before..]).count() as u64;
        Ok((read, buffer, ends))
    })
}

/// A read on a blocking thread: the bytes read, the buffer and its new line ends.
type ReadMore = tokio::task::JoinHandle<std::io::Result<(usize, Vec<u8>, u64)>>;

/// The file with identity `wanted` in the directory of `path` (a rotated log keeps its
/// identity under its new name), opened; none when no file there has it.
fn find_file(path: &Path, wanted: FileIdentity) -> Option<std::fs::File> {
    std::fs::File::open(find_rotated(path, wanted)?).ok()
}

/// Where the file with identity `wanted` is, among `path` and the files beside it: a log
/// rotated to `app.log.1` or `app.log-20250624` keeps its identity under its new name. `None`
/// when it is gone.
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::FileIdentity;
/// let dir = std::env::temp_dir().join("zpark-doc-find-rotated");
/// std::fs::create_dir_all(&dir)?;
/// let log = dir.join("app.log");
/// std::fs::write(&log, "old\n")?;
/// let old = FileIdentity::of_path(&log).expect("an identity");
/// let _ = std::fs::remove_file(dir.join("app.log.1"));
/// std::fs::rename(&log, dir.join("app.log.1"))?;
/// std::fs::write(&log, "new\n")?;
/// assert_eq!(zpark::source::find_rotated(&log, old), Some(dir.join("app.log.1")));
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn find_rotated(path: &Path, wanted: FileIdentity) -> Option<PathBuf> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .map(|entry| entry.path())
        .find(|candidate| FileIdentity::of_path(candidate) == Some(wanted))
}

/// Why the position a checkpoint recorded cannot be read again (carried inside an I/O error
/// from the reader to the stream, which makes it an [`Error::PositionLost`]).
#[derive(Debug)]
struct PositionLost(String);

impl std::fmt::Display for PositionLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PositionLost {}

fn shrunk(length: u64, position: u64) -> std::io::Error {
    std::io::Error::other(PositionLost(format!(
        "the file has {length} bytes, fewer than the {position} already read: it was truncated or replaced since; reset the checkpoint to read it from the start"
    )))
}

fn replaced(old: FileIdentity, offset: u64) -> std::io::Error {
    std::io::Error::other(PositionLost(format!(
        "the path names another file than the one the checkpoint was reading (device {}, inode {}), and no file beside it is that one (it was rotated away or replaced while the pipeline was stopped): its bytes after offset {offset} cannot be read; reset the checkpoint to read the new file from its start",
        old.device, old.inode
    )))
}
