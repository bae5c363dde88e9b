use std::future::Future;
use std::path::Path;
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::resumable::follow_from;
use crate::checkpoint::SourcePosition;
use crate::error::{Error, Result};

/// How often [`follow`] looks for new lines once it has read to the end of the file.
pub const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The lines of a file, a socket or standard input: `Ok(line)` without its line ending, or one
/// `Err` naming the input, after which the stream ends. Made by [`lines`], [`follow`],
/// [`stdin_lines`] and [`tcp_lines`].
#[must_use = "streams do nothing unless polled"]
pub struct LineStream(BoxStream<'static, Result<String>>);

impl Stream for LineStream {
    type Item = Result<String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_next_unpin(cx)
    }
}

impl std::fmt::Debug for LineStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineStream").finish_non_exhaustive()
    }
}

enum Reader<F, R> {
    Opening(F),
    Reading(tokio::io::Lines<BufReader<R>>),
    Done,
}

/// The lines of whatever `open` opens, each `Err` naming `input`. Ends after an error.
fn lines_of<F, R>(input: String, open: F) -> impl Stream<Item = Result<String>> + Send + 'static
where
    F: Future<Output = std::io::Result<R>> + Send + 'static,
    R: AsyncRead + Unpin + Send + 'static,
{
    stream::unfold((Reader::Opening(open), input), |(state, input)| async move {
        let mut lines = match state {
            Reader::Opening(open) => match open.await {
                Ok(reader) => BufReader::new(reader).lines(),
                Err(error) => return Some((Err(Error::io(&input, error)), (Reader::Done, input))),
            },
            Reader::Reading(lines) => lines,
            Reader::Done => return None,
        };
        match lines.next_line().await {
            Ok(Some(line)) => Some((Ok(line), (Reader::Reading(lines), input))),
            Ok(None) => None,
            Err(error) => Some((Err(Error::io(&input, error)), (Reader::Done, input))),
        }
    })
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
    let path = path.as_ref().to_path_buf();
    LineStream(lines_of(path.display().to_string(), tokio::fs::File::open(path)).boxed())
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
    LineStream(lines_of("standard input".to_string(), async { Ok(tokio::io::stdin()) }).boxed())
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
    LineStream(
        lines_of(format!("tcp://{address}"), async move {
            tokio::net::TcpStream::connect(target).await
        })
        .boxed(),
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
    LineStream(
        follow_from(path, SourcePosition::default())
            .map(|line| line.map(|positioned| positioned.item))
            .boxed(),
    )
}

/// The text of a line read with its ending (`\n` or `\r\n`, or none at the end of a file).
pub(super) fn line_of(mut line: Vec<u8>) -> std::io::Result<String> {
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))
}
