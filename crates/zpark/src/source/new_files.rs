//! [`new_files`]: the files that appear in a directory, each once, as Spark Streaming's
//! `textFileStream` and Structured Streaming's file source see them.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream, StreamExt};

use crate::error::{Error, Result};

/// The files of a directory, each once, as they appear: a stream of their paths, looked for
/// every `poll`.
///
/// The rules of Spark's file sources: a file must be *moved* into the directory whole (written
/// elsewhere, then renamed in), since it is read as it is when it is seen; names that start
/// with `.` or `_` are ignored (files being written, by Spark's convention); sub-directories
/// are not read. The files already there come first, as Structured Streaming's file source
/// reads them; the files of one look are given oldest first (by modification time, then
/// name). A file is given once by its path, however long the stream runs: to resume after a
/// stop, give the paths already processed to [`NewFiles::skipping`] (what a checkpoint records).
/// It needs a tokio runtime (it sleeps on tokio's clock and lists the directory on its
/// blocking threads).
///
/// A directory that cannot be read is an `Err` item, and the stream ends after it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("zpark-doc-new-files-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("a.log"), "one\n")?;
/// std::fs::write(dir.join(".b.log.tmp"), "being written\n")?;
/// let mut files = zpark::source::new_files(&dir, Duration::from_millis(10));
/// assert_eq!(files.next().await.transpose()?, Some(dir.join("a.log")));
/// std::fs::rename(dir.join(".b.log.tmp"), dir.join("b.log"))?; // moved in whole
/// assert_eq!(files.next().await.transpose()?, Some(dir.join("b.log")));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// ```
pub fn new_files(dir: impl AsRef<Path>, poll: Duration) -> NewFiles {
    NewFiles {
        settings: Some(Settings {
            dir: dir.as_ref().to_path_buf(),
            poll,
            seen: HashSet::new(),
        }),
        stream: None,
    }
}

/// The stream of [`new_files`]: the paths of the files, each once.
pub struct NewFiles {
    /// What the stream starts from (taken at the first poll).
    settings: Option<Settings>,
    stream: Option<BoxStream<'static, Result<PathBuf>>>,
}

#[derive(Debug)]
struct Settings {
    dir: PathBuf,
    poll: Duration,
    seen: HashSet<PathBuf>,
}

impl NewFiles {
    /// Leaves out the files given (the paths a checkpoint recorded as processed). Files already
    /// given by this stream stay given.
    ///
    /// # Examples
    ///
    /// ```
    /// let files = zpark::source::new_files("/var/spool/in", std::time::Duration::from_secs(1))
    ///     .skipping(["/var/spool/in/a.log"]);
    /// # drop(files);
    /// ```
    pub fn skipping<P: Into<PathBuf>>(mut self, seen: impl IntoIterator<Item = P>) -> NewFiles {
        if let Some(settings) = &mut self.settings {
            settings.seen.extend(seen.into_iter().map(Into::into));
        }
        self
    }
}

impl std::fmt::Debug for NewFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewFiles")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Stream for NewFiles {
    type Item = Result<PathBuf>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(settings) = this.settings.take() {
            let state = Looking {
                settings,
                ready: VecDeque::new(),
                first: true,
                failed: false,
            };
            this.stream = Some(stream::unfold(state, Looking::next).boxed());
        }
        match &mut this.stream {
            Some(stream) => stream.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }
}

/// The state of the stream between two items.
struct Looking {
    settings: Settings,
    ready: VecDeque<PathBuf>,
    first: bool,
    failed: bool,
}

impl Looking {
    async fn next(mut self) -> Option<(Result<PathBuf>, Looking)> {
        loop {
            if let Some(path) = self.ready.pop_front() {
                return Some((Ok(path), self));
            }
            if self.failed {
                return None;
            }
            if !std::mem::take(&mut self.first) {
                tokio::time::sleep(self.settings.poll).await;
            }
            let dir = self.settings.dir.clone();
            match tokio::task::spawn_blocking(move || look(&dir)).await {
                Ok(Ok(found)) => {
                    let seen = &mut self.settings.seen;
                    self.ready
                        .extend(found.into_iter().filter(|path| seen.insert(path.clone())));
                }
                Ok(Err(error)) => {
                    self.failed = true;
                    return Some((Err(error), self));
                }
                Err(join) => {
                    self.failed = true;
                    return Some((Err(Error::Internal(format!("looking into a directory: {join}"))), self));
                }
            }
        }
    }
}

/// The files of `dir` that [`new_files`] would give now, oldest first: what a run over the
/// files already there reads.
///
/// # Errors
///
/// [`Error::Io`] naming the directory when it cannot be read.
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("zpark-doc-files-in-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("a.log"), "x\n")?;
/// std::fs::write(dir.join("_SUCCESS"), "")?;
/// assert_eq!(zpark::source::files_in(&dir)?, vec![dir.join("a.log")]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub fn files_in(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    look(dir.as_ref())
}

/// The files of `dir` a file source reads, oldest first.
fn look(dir: &Path) -> Result<Vec<PathBuf>> {
    let cannot = |e| Error::io(dir.display().to_string(), e);
    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(['.', '_']) {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue; // Gone since it was listed.
        };
        if metadata.is_file() {
            found.push((metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH), entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}
