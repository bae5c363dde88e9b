use std::future::Future;
use std::path::Path;
use std::time::Duration;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures::stream::{self, BoxStream, Stream, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::resumable::{follow_from, Positioned};
use crate::checkpoint::SourcePosition;
use crate::error::{Error, Result};

/// How often [`follow`] looks for new lines once it has read to the end of the file.
pub const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The lines of a file, a socket or standard input: `Ok(line)` without its line ending. Made by
/// [`lines`], [`follow`], [`stdin_lines`] and [`tcp_lines`].
///
/// An I/O error is one `Err` naming the input ([`Error::Io`]), after which the stream ends. A
/// line that is not UTF-8 is one `Err` ([`Error::Parse`], with the input, the line number and
/// the byte that is wrong) and the stream goes on: with
/// [`on_error(OnError::Skip, ..)`](super::TryStreamZparkExt::on_error) it is skipped and
/// counted. [`bytes`](LineStream::bytes) gives every line as it is, as bytes, with its
/// position, as `awk`, `sort` and `uniq` take them.
#[must_use = "streams do nothing unless polled"]
pub struct LineStream {
    input: Arc<str>,
    lines: ByteLines,
}

/// Lines as bytes, each with the position just after it; an I/O error is one `Err` naming the
/// input, then the end. Made by [`LineStream::bytes`] and
/// [`PositionedLines::bytes`](super::PositionedLines::bytes).
pub type ByteLines = BoxStream<'static, Result<Positioned<Vec<u8>>>>;

impl LineStream {
    pub(super) fn new(input: impl Into<Arc<str>>, lines: ByteLines) -> LineStream {
        LineStream {
            input: input.into(),
            lines,
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
        self.lines
    }
}

impl Stream for LineStream {
    type Item = Result<String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let line = ready!(self.lines.poll_next_unpin(cx));
        Poll::Ready(line.map(|line| text_of(&self.input, line?).map(|line| line.item)))
    }
}

impl std::fmt::Debug for LineStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineStream")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

/// A line as text: an [`Error::Parse`] naming `input`, the line and the first byte that is
/// not UTF-8 when it is not.
pub(super) fn text_of(input: &str, line: Positioned<Vec<u8>>) -> Result<Positioned<String>> {
    let end = line.end;
    match String::from_utf8(line.item) {
        Ok(text) => Ok(Positioned { item: text, end }),
        Err(error) => {
            let column = error.utf8_error().valid_up_to() + 1;
            let bytes = error.into_bytes();
            Err(Error::Parse {
                input: input.to_string(),
                line: end.line,
                record: String::from_utf8_lossy(&bytes).chars().take(120).collect(),
                reason: format!("not UTF-8 (byte {column} of the line)"),
            })
        }
    }
}

enum Reader<F, R> {
    Opening(F),
    Reading(BufReader<R>, SourcePosition),
    Done,
}

/// The lines of whatever `open` opens, as bytes with their positions, each `Err` naming
/// `input`. Ends after an error.
fn lines_of<F, R>(input: String, open: F) -> ByteLines
where
    F: Future<Output = std::io::Result<R>> + Send + 'static,
    R: AsyncRead + Unpin + Send + 'static,
{
    stream::unfold((Reader::Opening(open), input), |(state, input)| async move {
        let (mut reader, mut position) = match state {
            Reader::Opening(open) => match open.await {
                Ok(reader) => (BufReader::with_capacity(READ_BUFFER, reader), SourcePosition::default()),
                Err(error) => return Some((Err(Error::io(&input, error)), (Reader::Done, input))),
            },
            Reader::Reading(reader, position) => (reader, position),
            Reader::Done => return None,
        };
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) => None,
            Ok(read) => {
                position.offset += read as u64;
                position.line += 1;
                let item = Positioned {
                    item: without_ending(line),
                    end: position,
                };
                Some((Ok(item), (Reader::Reading(reader, position), input)))
            }
            Err(error) => Some((Err(Error::io(&input, error)), (Reader::Done, input))),
        }
    })
    .boxed()
}

/// How much of an input is read at once.
const READ_BUFFER: usize = 1 << 16;

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
    let path = path.as_ref().to_path_buf();
    let input = path.display().to_string();
    LineStream::new(input.clone(), lines_of(input, tokio::fs::File::open(path)))
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
    LineStream::new(input, lines_of(input.to_string(), async { Ok(tokio::io::stdin()) }))
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
        lines_of(input, async move { tokio::net::TcpStream::connect(target).await }),
    )
}

/// The lines of a file that keeps growing, like `tail -f`: reads from the start of the file,
/// then waits for more (looking every [`FOLLOW_POLL`]). A line is yielded once its line ending
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
    LineStream::new(input, follow_from(path, SourcePosition::default()).bytes())
}

/// A line read with its ending (`\n` or `\r\n`, or none at the end of a file), without it.
pub(super) fn without_ending(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}
