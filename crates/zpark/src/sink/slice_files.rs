//! The exactly-once file sink: one file per slice, committed by rename.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::durable::{fnv1a, write_atomically};
use crate::error::{Error, Result};

/// Where a checkpointed pipeline writes the output lines of each slice.
///
/// [`SliceFiles`] is exactly-once: a slice's output is committed whole or not at all, and
/// writing it again after a resume replaces it. [`SliceLines`] writes to any writer (standard
/// output) and is at-least-once across a crash: the slice in progress may be written again.
pub trait SliceSink {
    /// Writes the output of slice `slice` (numbered from 1).
    ///
    /// # Errors
    ///
    /// [`Error::Sink`] when the output cannot be written.
    fn write_slice(&mut self, slice: u64, lines: &[String]) -> Result<()>;

    /// Starts writing the output of slice `slice` and returns the rest of the write (the part
    /// that waits on the disk: `fsync`s) as a job that may run on another thread. A
    /// checkpointed run calls this, not [`write_slice`](SliceSink::write_slice): it finishes
    /// the job on its commit thread, before the slice's checkpoint, while it reads the next
    /// slice.
    ///
    /// The default writes the whole slice here, with `write_slice`, and leaves nothing to do.
    ///
    /// # Errors
    ///
    /// [`Error::Sink`] when the output cannot be written (now, or when the job runs).
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::sink::{SliceFiles, SliceSink};
    /// # fn main() -> zpark::Result<()> {
    /// let dir = std::env::temp_dir().join("zpark-doc-begin-slice");
    /// let _ = std::fs::remove_dir_all(&dir);
    /// let mut sink = SliceFiles::open(&dir, 0)?;
    /// let rest = sink.begin_slice(1, &["a\t1".to_string()])?;
    /// assert!(SliceFiles::read_all(&dir)?.is_empty()); // not on disk yet
    /// std::thread::spawn(rest).join().expect("no panic")?;
    /// assert_eq!(SliceFiles::read_all(&dir)?, vec![(1, "a\t1\n".to_string())]);
    /// # Ok(()) }
    /// ```
    fn begin_slice(&mut self, slice: u64, lines: &[String]) -> Result<PendingWrite> {
        self.write_slice(slice, lines)?;
        Ok(Box::new(|| Ok(())))
    }
}

/// What is left of a slice's write after [`SliceSink::begin_slice`]: run it (on any thread)
/// to make the slice's output durable.
pub type PendingWrite = Box<dyn FnOnce() -> Result<()> + Send>;

/// The exactly-once sink: the lines of slice `k` go to `DIR/slice-000000000k.txt`, written to a
/// temporary file, flushed to disk and renamed into place. A crash before the rename leaves no
/// file (the temporary one is removed on the next open); a crash after it but before the
/// checkpoint recorded the slice makes the resumed run compute the slice again and rename the
/// same content over it. Either way each slice is present exactly once.
///
/// # Examples
///
/// ```
/// use zpark::sink::{SliceFiles, SliceSink};
/// # fn main() -> zpark::Result<()> {
/// let dir = std::env::temp_dir().join("zpark-doc-slice-files");
/// let _ = std::fs::remove_dir_all(&dir);
/// let mut sink = SliceFiles::open(&dir, 0)?;
/// sink.write_slice(1, &["a\t1".to_string()])?;
/// sink.write_slice(2, &[])?;
/// sink.write_slice(1, &["a\t1".to_string()])?; // again, after a resume: replaced
/// assert_eq!(SliceFiles::read_all(&dir)?, vec![(1, "a\t1\n".to_string()), (2, String::new())]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SliceFiles {
    dir: PathBuf,
}

const PREFIX: &str = "slice-";
const SUFFIX: &str = ".txt";

impl SliceFiles {
    /// Opens (creating it when missing) the output directory of a pipeline whose checkpoint
    /// has committed `committed` slices: temporary files of an interrupted write and the files
    /// of slices after `committed` (written, but not recorded by the checkpoint before a crash:
    /// they will be written again) are removed.
    ///
    /// # Errors
    ///
    /// [`Error::Sink`] when the directory cannot be created, listed or cleaned;
    /// [`Error::Checkpoint`] when files of committed slices are missing (the message names the
    /// first): nothing is written over an output that is not the checkpoint's.
    pub fn open(dir: impl AsRef<Path>, committed: u64) -> Result<SliceFiles> {
        let dir = dir.as_ref().to_path_buf();
        let sink_error = |e| Error::Sink {
            sink: dir.display().to_string(),
            source: std::sync::Arc::new(e),
        };
        fs::create_dir_all(&dir).map_err(sink_error)?;
        let mut present = std::collections::BTreeSet::new();
        for entry in fs::read_dir(&dir).map_err(sink_error)? {
            let path = entry.map_err(sink_error)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let number = slice_number(name);
            let stale = name.ends_with(".tmp") || number.is_some_and(|n| n > committed);
            if stale {
                fs::remove_file(&path).map_err(sink_error)?;
            } else if let Some(number) = number {
                present.insert(number);
            }
        }
        check_manifest(&dir, committed)?;
        let missing = (1..=committed).filter(|n| !present.contains(n)).collect::<Vec<_>>();
        if let Some(first) = missing.first() {
            return Err(Error::Checkpoint {
                dir: dir.display().to_string(),
                problem: format!(
                    "{} of the {committed} committed slice files are missing, {} the first: the output was deleted or moved since the checkpoint was written; put it back, or start over with a reset checkpoint (zpark run --reset), which writes every slice again",
                    missing.len(),
                    file_name(*first)
                ),
            });
        }
        Ok(SliceFiles { dir })
    }

    /// The file that holds slice `slice`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sink = zpark::sink::SliceFiles::open(std::env::temp_dir().join("zpark-doc-path-of"), 0)?;
    /// assert!(sink.path_of(7).ends_with("slice-0000000007.txt"));
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn path_of(&self, slice: u64) -> PathBuf {
        self.dir.join(file_name(slice))
    }

    /// The committed slices in `dir`, in slice order: each slice's number and text.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the directory or a file cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("zpark-doc-read-all-empty");
    /// let _ = std::fs::remove_dir_all(&dir);
    /// zpark::sink::SliceFiles::open(&dir, 0)?;
    /// assert!(zpark::sink::SliceFiles::read_all(&dir)?.is_empty());
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn read_all(dir: impl AsRef<Path>) -> Result<Vec<(u64, String)>> {
        let dir = dir.as_ref();
        let io = |e| Error::io(dir.display().to_string(), e);
        let mut slices = Vec::new();
        for entry in fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if let Some(number) = slice_number(name) {
                slices.push((number, fs::read_to_string(&path).map_err(io)?));
            }
        }
        slices.sort();
        Ok(slices)
    }
}

impl SliceSink for SliceFiles {
    fn write_slice(&mut self, slice: u64, lines: &[String]) -> Result<()> {
        self.begin_slice(slice, lines)?()
    }

    /// Joins the lines into the file's text here; the job writes it atomically (temporary
    /// file, `fsync`, rename, `fsync` of the directory).
    fn begin_slice(&mut self, slice: u64, lines: &[String]) -> Result<PendingWrite> {
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        let (dir, path) = (self.dir.clone(), self.path_of(slice));
        Ok(Box::new(move || {
            let sink_error = |e| Error::Sink {
                sink: path.display().to_string(),
                source: std::sync::Arc::new(e),
            };
            write_atomically(&dir, &file_name(slice), text.as_bytes()).map_err(sink_error)?;
            record(&dir, slice, text.as_bytes()).map_err(sink_error)
        }))
    }
}

/// The manifest of an output directory: a line `SLICE LENGTH HASH` per slice file written,
/// appended after the file's rename, so that a file changed since is noticed on resume.
const MANIFEST: &str = ".slices";

/// Appends slice `slice`'s length and hash to the manifest (not `fsync`ed: a power cut can
/// lose its last lines, which only leaves those files unchecked).
fn record(dir: &Path, slice: u64, bytes: &[u8]) -> std::io::Result<()> {
    let mut manifest = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(MANIFEST))?;
    writeln!(manifest, "{slice} {} {:016x}", bytes.len(), fnv1a(bytes))
}

/// Checks the files of the `committed` slices against the manifest: a file changed since it
/// was written is refused, naming it. The manifest keeps the entries of committed slices
/// only (the last entry of each), rewritten atomically.
fn check_manifest(dir: &Path, committed: u64) -> Result<()> {
    let text = fs::read_to_string(dir.join(MANIFEST)).unwrap_or_default();
    let mut entries = std::collections::BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (Some(slice), Some(length), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
            continue; // A line cut by a crash.
        };
        if let (Ok(slice), Ok(length)) = (slice.parse::<u64>(), length.parse::<u64>()) {
            if slice <= committed {
                entries.insert(slice, (length, hash.to_string()));
            }
        }
    }
    for (slice, (length, hash)) in &entries {
        let Ok(bytes) = fs::read(dir.join(file_name(*slice))) else {
            continue; // Missing files are named by the caller.
        };
        if bytes.len() as u64 != *length || format!("{:016x}", fnv1a(&bytes)) != *hash {
            return Err(Error::Checkpoint {
                dir: dir.display().to_string(),
                problem: format!(
                    "{} was changed since it was written ({} bytes now, {length} then): put it back, or start over with a reset checkpoint (zpark run --reset), which writes every slice again",
                    file_name(*slice),
                    bytes.len()
                ),
            });
        }
    }
    let kept: String = entries
        .iter()
        .map(|(slice, (length, hash))| format!("{slice} {length} {hash}\n"))
        .collect();
    write_atomically(dir, MANIFEST, kept.as_bytes()).map_err(|e| Error::Sink {
        sink: dir.display().to_string(),
        source: std::sync::Arc::new(e),
    })
}

fn file_name(slice: u64) -> String {
    format!("{PREFIX}{slice:010}{SUFFIX}")
}

fn slice_number(name: &str) -> Option<u64> {
    name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?.parse().ok()
}

/// The at-least-once sink: each slice's lines to a writer (standard output), flushed after
/// every slice. After a crash the slice in progress may be written again.
///
/// # Examples
///
/// ```
/// use zpark::sink::{SliceLines, SliceSink};
/// let mut sink = SliceLines::new(Vec::new(), "memory");
/// sink.write_slice(1, &["x".to_string()])?;
/// assert_eq!(sink.into_inner(), b"x\n");
/// # Ok::<_, zpark::Error>(())
/// ```
#[derive(Debug)]
pub struct SliceLines<W> {
    writer: W,
    name: String,
}

impl<W: Write> SliceLines<W> {
    /// Lines to `writer`; `name` appears in write errors.
    ///
    /// # Examples
    ///
    /// ```
    /// let sink = zpark::sink::SliceLines::new(std::io::stdout(), "standard output");
    /// # drop(sink);
    /// ```
    pub fn new(writer: W, name: &str) -> SliceLines<W> {
        SliceLines {
            writer,
            name: name.to_string(),
        }
    }

    /// The writer back.
    ///
    /// # Examples
    ///
    /// ```
    /// let sink = zpark::sink::SliceLines::new(Vec::<u8>::new(), "memory");
    /// assert!(sink.into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> W {
        self.writer
    }
}

impl<W: Write> SliceSink for SliceLines<W> {
    fn write_slice(&mut self, _slice: u64, lines: &[String]) -> Result<()> {
        let sink_error = |e| Error::Sink {
            sink: self.name.clone(),
            source: std::sync::Arc::new(e),
        };
        for line in lines {
            writeln!(self.writer, "{line}").map_err(sink_error)?;
        }
        self.writer.flush().map_err(sink_error)
    }
}
