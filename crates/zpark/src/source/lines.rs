use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures::stream::{Stream, StreamExt};

use super::blocks::{blocks_of, lines_of_blocks, remaining_blocks, text_of, BlockCursor, ByteLines, LineBlocks};
use super::resumable::{follow_from, lines_from};
use crate::durable::SourcePosition;
use crate::error::Result;

/// The lines of a file, a socket or standard input: `Ok(line)` without its line ending. Made by
/// [`lines`], [`follow`], [`stdin_lines`] and [`tcp_lines`].
///
/// The input is read in blocks of whole lines ([`blocks`](LineStream::blocks) gives them
/// as they are, the fast way in). An I/O error is one `Err` naming the input ([`Error::Io`](crate::Error::Io)),
/// after which the stream ends. A line that is not UTF-8 is one `Err` ([`Error::Parse`](crate::Error::Parse), with
/// the input, the line number and the byte that is wrong) and the stream goes on: with
/// [`on_error(OnError::Skip, ..)`](super::TryStreamZparkExt::on_error) it is skipped and
/// counted. [`bytes`](LineStream::bytes) gives every line as it is, as bytes, with its
/// position, as `awk`, `sort` and `uniq` take them.
#[must_use = "streams do nothing unless polled"]
pub struct LineStream {
    input: Arc<str>,
    blocks: LineBlocks,
    /// The block whose lines are being handed out.
    current: Option<BlockCursor>,
}

impl LineStream {
    pub(super) fn new(input: impl Into<Arc<str>>, blocks: LineBlocks) -> LineStream {
        LineStream {
            input: input.into(),
            blocks,
            current: None,
        }
    }

    /// Every line as it is (bytes, without its line ending), with the position just after it:
    /// lines that are not UTF-8 included.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let path = std::env::temp_dir().join("zpark-doc-bytes.txt");
    /// std::fs::write(&path, b"caf\xe9\r\n\nok\n")?;
    /// let lines: Vec<_> = zpark::source::lines(&path).bytes().map(|l| l.unwrap()).collect().await;
    /// assert_eq!(lines[0].item, b"caf\xe9");
    /// assert_eq!(lines[1].item, b"");
    /// assert_eq!((lines[2].end.offset, lines[2].end.line), (10, 3)); // bytes read, lines
    /// # Ok(()) }
    /// ```
    pub fn bytes(self) -> ByteLines {
        lines_of_blocks(self.blocks())
    }

    /// The input in blocks of whole lines (about 2 MiB each from a file; what has arrived
    /// from standard input or a socket), each knowing its first line and where the input
    /// stands after it: the fast way in, with no poll per line. Slice them with
    /// [`parallelize_lines`](crate::discretize::LineBlockExt::parallelize_lines) or
    /// [`discretize_lines`](crate::discretize::LineBlockExt::discretize_lines). Lines already
    /// taken from this stream one by one are not given again.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let path = std::env::temp_dir().join("zpark-doc-blocks.txt");
    /// std::fs::write(&path, "a\nb\nc\n")?;
    /// let blocks: Vec<_> = zpark::source::lines(&path).blocks().map(|b| b.unwrap()).collect().await;
    /// let lines: u64 = blocks.iter().map(|b| b.line_count()).sum();
    /// assert_eq!(lines, 3);
    /// # Ok(()) }
    /// ```
    pub fn blocks(self) -> LineBlocks {
        remaining_blocks(self.current, self.blocks)
    }
}

impl Stream for LineStream {
    type Item = Result<String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(cursor) = &mut this.current {
                if let Some((line, end)) = cursor.next_line() {
                    return Poll::Ready(Some(text_of(&this.input, line.to_vec(), end.line)));
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

impl std::fmt::Debug for LineStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineStream")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

/// The lines of the file at `path`, without their line endings.
///
/// The file is opened when the stream is first polled; a missing or unreadable file gives one
/// `Err` naming the path, then the stream ends.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join("zpark-doc-lines.txt");
/// std::fs::write(&path, "a\nb\n")?;
/// let lines: Vec<_> = zpark::source::lines(&path).collect().await;
/// assert_eq!(lines.into_iter().collect::<Result<Vec<_>, _>>()?, vec!["a", "b"]);
/// let missing: Vec<_> = zpark::source::lines("/no/such/file").collect().await;
/// assert!(missing[0].as_ref().unwrap_err().to_string().contains("/no/such/file"));
/// # Ok(()) }
/// ```
pub fn lines(path: impl AsRef<Path>) -> LineStream {
    let input = path.as_ref().display().to_string();
    LineStream::new(input, lines_from(path, SourcePosition::default()).blocks())
}

/// The lines of standard input.
///
/// # Examples
///
/// ```no_run
/// use futures::StreamExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let count = zpark::source::stdin_lines().count().await;
/// println!("{count} lines");
/// # }
/// ```
pub fn stdin_lines() -> LineStream {
    let input = "standard input";
    LineStream::new(input, blocks_of(input.to_string(), async { Ok(tokio::io::stdin()) }))
}

/// The lines a TCP server at `address` (`host:port`) sends; the stream connects when first
/// polled and ends when the server closes the connection.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use tokio::io::AsyncWriteExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let address = server.local_addr()?.to_string();
/// tokio::spawn(async move {
///     let (mut socket, _) = server.accept().await.unwrap();
///     socket.write_all(b"hello\nworld\n").await.unwrap();
/// });
/// let lines: Vec<_> = zpark::source::tcp_lines(&address).collect().await;
/// assert_eq!(lines.into_iter().collect::<Result<Vec<_>, _>>()?, vec!["hello", "world"]);
/// # Ok(()) }
/// ```
pub fn tcp_lines(address: &str) -> LineStream {
    let target = address.to_string();
    let input = format!("tcp://{address}");
    LineStream::new(
        input.clone(),
        blocks_of(input, async move { tokio::net::TcpStream::connect(target).await }),
    )
}

/// The lines of a file that keeps growing, like `tail -f`: reads from the start of the file,
/// then waits for more (looking every [`FOLLOW_POLL`](super::FOLLOW_POLL)). A line is yielded once its line ending
/// has been written. Like `tail -F`, it survives log rotation: when the file shrinks (truncated
/// in place), reading starts again from its beginning; when the path comes to name another file
/// (the log was renamed and a new one created, on Unix), the rest of the old file is read, then
/// the new file from its start, so no line is lost. The stream never ends by itself; an I/O
/// error gives one `Err` naming the path and ends it.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join("zpark-doc-follow.txt");
/// std::fs::write(&path, "first\n")?;
/// let mut lines = Box::pin(zpark::source::follow(&path));
/// assert_eq!(lines.next().await.unwrap()?, "first");
/// std::fs::write(&path, "first\nsecond\n")?;
/// assert_eq!(lines.next().await.unwrap()?, "second");
/// # Ok(()) }
/// ```
pub fn follow(path: impl AsRef<Path>) -> LineStream {
    let input = path.as_ref().display().to_string();
    LineStream::new(input, follow_from(path, SourcePosition::default()).blocks())
}
