use std::fmt::Debug;
use std::io::Write;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Writes each element as one line (its `Debug` form, so tuples print as `(1, 2)`), optionally
/// stamped with the time like the seed's `stdOutLines`: ` ----> [1392418478569989000] *** 4`.
///
/// # Examples
///
/// ```
/// use futures::SinkExt;
/// # futures::executor::block_on(async {
/// let mut sink = zpark::sink::lines_to(Vec::new(), "memory");
/// sink.send((1, 2)).await?;
/// sink.send((3, 4)).await?;
/// assert_eq!(String::from_utf8(sink.into_inner()).unwrap(), "(1, 2)\n(3, 4)\n");
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct LinesSink<W, T> {
    writer: W,
    name: String,
    timestamped: bool,
    written: u64,
    marker: PhantomData<fn(T)>,
}

/// A sink of plain lines to `writer`; `name` appears in write errors.
///
/// # Examples
///
/// ```
/// let sink = zpark::sink::lines_to::<_, u8>(std::io::sink(), "nowhere");
/// assert_eq!(sink.written(), 0);
/// ```
pub fn lines_to<W: Write, T: Debug>(writer: W, name: &str) -> LinesSink<W, T> {
    LinesSink {
        writer,
        name: name.to_string(),
        timestamped: false,
        written: 0,
        marker: PhantomData,
    }
}

/// The seed's `stdOutLines`: each element on standard output with a nanosecond timestamp.
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// # futures::executor::block_on(async {
/// futures::stream::iter([Ok(4u64), Ok(4)]).forward(zpark::sink::stdout_lines()).await?;
/// # Ok::<_, zpark::Error>(()) }).unwrap();
/// ```
pub fn stdout_lines<T: Debug>() -> LinesSink<std::io::Stdout, T> {
    lines_to(std::io::stdout(), "standard output").timestamped(true)
}

impl<W: Write, T: Debug> LinesSink<W, T> {
    /// Stamps each line with the time in nanoseconds since the Unix epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::SinkExt;
    /// # futures::executor::block_on(async {
    /// let mut sink = zpark::sink::lines_to(Vec::new(), "memory").timestamped(true);
    /// sink.send(7).await?;
    /// let text = String::from_utf8(sink.into_inner()).unwrap();
    /// assert!(text.starts_with(" ----> [") && text.ends_with("] *** 7\n"));
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn timestamped(mut self, on: bool) -> Self {
        self.timestamped = on;
        self
    }

    /// How many lines were written.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::sink::lines_to::<_, u8>(Vec::new(), "m").written(), 0);
    /// ```
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The writer back.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(zpark::sink::lines_to::<_, u8>(Vec::new(), "m").into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> W {
        self.writer
    }

    /// Writes one element now.
    ///
    /// # Errors
    ///
    /// [`Error::Sink`] naming the sink when the writer fails (a closed pipe, a full disk).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut sink = zpark::sink::lines_to(Vec::new(), "memory");
    /// sink.write("x")?;
    /// assert_eq!(sink.into_inner(), b"\"x\"\n");
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn write(&mut self, element: T) -> Result<()> {
        let outcome = if self.timestamped {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            writeln!(self.writer, " ----> [{nanos}] *** {element:?}")
        } else {
            writeln!(self.writer, "{element:?}")
        };
        outcome.map_err(|source| Error::Sink {
            sink: self.name.clone(),
            source: Arc::new(source),
        })?;
        self.written += 1;
        Ok(())
    }

    fn flush_writer(&mut self) -> Result<()> {
        self.writer.flush().map_err(|source| Error::Sink {
            sink: self.name.clone(),
            source: Arc::new(source),
        })
    }
}

impl<W: Write + Unpin, T: Debug> futures::Sink<T> for LinesSink<W, T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, element: T) -> Result<()> {
        self.get_mut().write(element)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(self.get_mut().flush_writer())
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(self.get_mut().flush_writer())
    }
}
