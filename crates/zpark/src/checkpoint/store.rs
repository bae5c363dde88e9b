//! The checkpoint file: one snapshot of a pipeline at a slice boundary, replaced atomically.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::durable::{fnv1a, write_atomically};
pub use crate::durable::{FileIdentity, SourcePosition};
use crate::error::{Error, Result};

/// The version of the checkpoint format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The name of the checkpoint file inside the checkpoint directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";

const FORMAT_NAME: &str = "zpark-checkpoint";

/// What describes a pipeline: a name per part (`input`, `slicing`, `stage`, ...) and its
/// description. A checkpoint is only resumed by a pipeline of the same shape.
///
/// # Examples
///
/// ```
/// let shape = zpark::checkpoint::shape([("slicing", "count 1000"), ("stage", "count-by-value")]);
/// assert_eq!(shape["slicing"], "count 1000");
/// ```
pub type Shape = BTreeMap<String, String>;

/// Builds a [`Shape`] from pairs.
///
/// # Examples
///
/// ```
/// let shape = zpark::checkpoint::shape([("input", "app.log")]);
/// assert_eq!(shape.len(), 1);
/// ```
pub fn shape<K: Into<String>, V: Into<String>>(parts: impl IntoIterator<Item = (K, V)>) -> Shape {
    parts.into_iter().map(|(k, v)| (k.into(), v.into())).collect()
}

/// The file as written: a versioned envelope around the pipeline's own state.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope<F, H, S> {
    format: F,
    version: u32,
    shape: H,
    /// The last slice whose output was written and whose state is below.
    slice: u64,
    source: SourcePosition,
    /// Slices the sink has committed; equal to `slice` (kept apart so that a reader of the file
    /// sees the sink's progress without knowing how the runner orders its steps).
    sink_slices: u64,
    state: S,
    /// Set when the run reached the end of its input and committed what the end of input
    /// writes: the run is finished (absent in checkpoints of runs that were not, and in
    /// those written before this field came, which read as not finished).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finished: Option<Finished>,
}

/// How a run that reached the end of its bounded input (a file, a directory) left it: a
/// finished run run again writes nothing (DESIGN.md, "Finished means finished").
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::{shape, Checkpoint, Finished, SourcePosition};
/// let dir = std::env::temp_dir().join("zpark-doc-finished");
/// Checkpoint::reset(&dir)?;
/// let mut checkpoint = Checkpoint::open(&dir, shape([("stage", "windows")]))?;
/// checkpoint.commit_end(2, SourcePosition::at(12, 3), &(), Finished { end_output: true })?;
/// let again = Checkpoint::open(&dir, shape([("stage", "windows")]))?;
/// assert_eq!(again.finished(), Some(Finished { end_output: true }));
/// # Ok::<_, zpark::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    /// Whether the end of input wrote output of its own as the last slice (the windows that
    /// still held its last slices, the sessions still open). Reading on after such an end
    /// would write windows that contradict it, so a grown input is refused
    /// ([`Error::InputGrewAfterEnd`]); without it, a grown input is read on from the position.
    pub end_output: bool,
}

/// What a checkpoint read from disk holds: the state stays unparsed until its type is known.
type Read = Envelope<String, Shape, serde_json::Value>;

/// Where the last commit left the pipeline.
#[derive(Debug, Clone)]
struct Progress {
    slice: u64,
    source: SourcePosition,
    sink_slices: u64,
    finished: Option<Finished>,
}

/// A checkpoint directory: the last committed slice of a pipeline, the position of its source,
/// the progress of its sink and the state of its operators.
///
/// Every commit writes a temporary file, flushes it to disk (`fsync`), renames it over the
/// previous checkpoint and flushes the directory: a crash at any moment leaves either the old
/// or the new checkpoint, never a torn one.
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::{shape, Checkpoint, SourcePosition};
/// # fn main() -> zpark::Result<()> {
/// let dir = std::env::temp_dir().join("zpark-doc-checkpoint");
/// Checkpoint::reset(&dir)?;
/// let mut checkpoint = Checkpoint::open(&dir, shape([("stage", "sum")]))?;
/// assert_eq!(checkpoint.slice(), 0);
/// checkpoint.commit(1, SourcePosition::at(12, 3), &42u64)?;
///
/// let again = Checkpoint::open(&dir, shape([("stage", "sum")]))?;
/// assert_eq!((again.slice(), again.position().offset), (1, 12));
/// assert_eq!(again.state::<u64>()?, Some(42));
///
/// let other = Checkpoint::open(&dir, shape([("stage", "max")])).unwrap_err();
/// assert!(other.to_string().contains("`stage` was `sum`, now `max`"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Checkpoint {
    dir: PathBuf,
    shape: Shape,
    last: Option<Progress>,
    /// The state found on disk when opened (none once this pipeline has committed).
    restored: Option<serde_json::Value>,
}

impl Checkpoint {
    /// Opens (creating it when missing) the checkpoint directory `dir` for a pipeline of
    /// `shape`, and reads the checkpoint there if any.
    ///
    /// # Errors
    ///
    /// [`Error::Checkpoint`] when the directory cannot be created or read, when the checkpoint
    /// is corrupt or of another format version, or when it was written by a pipeline of another
    /// shape (the message names each part that differs). Use [`Checkpoint::reset`] to start
    /// over on purpose.
    pub fn open(dir: impl AsRef<Path>, shape: Shape) -> Result<Checkpoint> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| Error::checkpoint(&dir, format!("cannot create the directory: {e}")))?;
        let Some(read) = read_envelope(&dir)? else {
            return Ok(Checkpoint {
                dir,
                shape,
                last: None,
                restored: None,
            });
        };
        check_shape(&dir, &read.shape, &shape)?;
        Ok(Checkpoint {
            dir,
            shape,
            last: Some(Progress {
                slice: read.slice,
                source: read.source,
                sink_slices: read.sink_slices,
                finished: read.finished,
            }),
            restored: Some(read.state),
        })
    }

    /// Forgets the checkpoint in `dir` (if any), so that the next run starts from the beginning.
    ///
    /// # Errors
    ///
    /// [`Error::Checkpoint`] when the file exists and cannot be removed.
    ///
    /// # Examples
    ///
    /// ```
    /// zpark::checkpoint::Checkpoint::reset(std::env::temp_dir().join("zpark-doc-nothing-here"))?;
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn reset(dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        for name in [CHECKPOINT_FILE.to_string(), temporary_name()] {
            match fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::checkpoint(dir, format!("cannot remove the checkpoint: {e}")))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::checkpoint::{shape, Checkpoint};
    /// let dir = std::env::temp_dir().join("zpark-doc-checkpoint-dir");
    /// assert_eq!(Checkpoint::open(&dir, shape([("a", "b")]))?.dir(), dir.as_path());
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last committed slice (numbered from 1), 0 when nothing was committed yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::checkpoint::{shape, Checkpoint};
    /// let dir = std::env::temp_dir().join("zpark-doc-checkpoint-slice");
    /// Checkpoint::reset(&dir)?;
    /// assert_eq!(Checkpoint::open(&dir, shape([("a", "b")]))?.slice(), 0);
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn slice(&self) -> u64 {
        self.last.as_ref().map_or(0, |p| p.slice)
    }

    /// Where the source stood after the last committed slice (the start when none).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::checkpoint::{shape, Checkpoint};
    /// let dir = std::env::temp_dir().join("zpark-doc-checkpoint-position");
    /// Checkpoint::reset(&dir)?;
    /// assert_eq!(Checkpoint::open(&dir, shape([("a", "b")]))?.position().offset, 0);
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn position(&self) -> SourcePosition {
        self.last
            .as_ref()
            .map_or_else(SourcePosition::default, |p| p.source.clone())
    }

    /// The slices the sink had committed at the last checkpoint.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::checkpoint::{shape, Checkpoint};
    /// let dir = std::env::temp_dir().join("zpark-doc-checkpoint-sink");
    /// Checkpoint::reset(&dir)?;
    /// assert_eq!(Checkpoint::open(&dir, shape([("a", "b")]))?.sink_slices(), 0);
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn sink_slices(&self) -> u64 {
        self.last.as_ref().map_or(0, |p| p.sink_slices)
    }

    /// The operators' state of the last commit, `None` when nothing was committed yet.
    ///
    /// # Errors
    ///
    /// [`Error::Checkpoint`] when the stored state does not fit `S` (named in the message).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::checkpoint::{shape, Checkpoint};
    /// let dir = std::env::temp_dir().join("zpark-doc-checkpoint-state");
    /// Checkpoint::reset(&dir)?;
    /// assert_eq!(Checkpoint::open(&dir, shape([("a", "b")]))?.state::<Vec<u8>>()?, None);
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn state<S: DeserializeOwned>(&self) -> Result<Option<S>> {
        let Some(state) = &self.restored else { return Ok(None) };
        S::deserialize(state).map(Some).map_err(|e| {
            Error::checkpoint(
                &self.dir,
                format!(
                    "the saved state does not fit `{}`: {e}; the checkpoint is corrupt or from another program (reset it to start over)",
                    std::any::type_name::<S>()
                ),
            )
        })
    }

    /// Whether the run had reached the end of its input and committed what the end of input
    /// writes (see [`Finished`]); `None` for a run that had not, or nothing committed yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::checkpoint::{shape, Checkpoint};
    /// let dir = std::env::temp_dir().join("zpark-doc-checkpoint-finished");
    /// Checkpoint::reset(&dir)?;
    /// assert_eq!(Checkpoint::open(&dir, shape([("a", "b")]))?.finished(), None);
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn finished(&self) -> Option<Finished> {
        self.last.as_ref().and_then(|p| p.finished)
    }

    /// Records that slice `slice` is done: its output is committed by the sink, the source
    /// stands at `position`, and the operators' state is `state`. Atomic and durable when it
    /// returns.
    ///
    /// # Errors
    ///
    /// [`Error::Checkpoint`] when the state cannot be serialized (the message names its type)
    /// or the file cannot be written.
    pub fn commit<S: Serialize>(&mut self, slice: u64, position: SourcePosition, state: &S) -> Result<()> {
        self.write(slice, position, state, None)
    }

    /// Records, as [`commit`](Checkpoint::commit) does, the last slice of a run that reached
    /// the end of its input (`slice` is the slice of the end's own output, or the last slice
    /// when the end wrote none): the run is finished.
    ///
    /// # Errors
    ///
    /// As [`commit`](Checkpoint::commit).
    pub fn commit_end<S: Serialize>(
        &mut self,
        slice: u64,
        position: SourcePosition,
        state: &S,
        finished: Finished,
    ) -> Result<()> {
        self.write(slice, position, state, Some(finished))
    }

    fn write<S: Serialize>(
        &mut self,
        slice: u64,
        position: SourcePosition,
        state: &S,
        finished: Option<Finished>,
    ) -> Result<()> {
        let envelope = Envelope {
            format: FORMAT_NAME,
            version: FORMAT_VERSION,
            shape: &self.shape,
            slice,
            source: position.clone(),
            sink_slices: slice,
            state,
            finished,
        };
        let cannot = |e: serde_json::Error| {
            Error::checkpoint(
                &self.dir,
                format!("cannot save state of type `{}`: {e}", std::any::type_name::<S>()),
            )
        };
        let bytes = with_checksum(&serde_json::to_vec(&envelope).map_err(cannot)?);
        write_atomically(&self.dir, CHECKPOINT_FILE, &bytes)
            .map_err(|e| Error::checkpoint(&self.dir, format!("cannot write the checkpoint: {e}")))?;
        self.last = Some(Progress {
            slice,
            source: position,
            sink_slices: slice,
            finished,
        });
        self.restored = None;
        Ok(())
    }
}

/// How a checkpoint file starts: its checksum first, then the content's fields.
const CHECKSUM_START: &[u8] = b"{\"checksum\":\"";

/// The checkpoint file of a JSON object `content`: `{"checksum":"<16 hex digits>",` then the
/// object's fields. The checksum is over `content`'s bytes exactly as written.
fn with_checksum(content: &[u8]) -> Vec<u8> {
    let mut bytes = format!("{{\"checksum\":\"{:016x}\",", fnv1a(content)).into_bytes();
    bytes.extend_from_slice(content.get(1..).unwrap_or_default());
    bytes
}

/// Whether the checksum a checkpoint file starts with is that of its content; `None` when it
/// has none (written before checksums).
fn checksum_holds(file: &[u8]) -> Option<bool> {
    let rest = file.strip_prefix(CHECKSUM_START)?;
    let holds = || {
        let (hex, fields) = (rest.get(..16)?, rest.get(16..)?.strip_prefix(b"\",")?);
        let saved = u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
        let mut content = Vec::with_capacity(fields.len() + 1);
        content.push(b'{');
        content.extend_from_slice(fields);
        Some(fnv1a(&content) == saved)
    };
    // A checksum that is not one (cut, edited) does not hold either.
    Some(holds().unwrap_or(false))
}

/// The lock of a checkpoint directory, held by the run that uses it: a second run on the
/// same directory is refused, naming the process that holds it. The operating system lets go
/// of it when its process ends, killed or not.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// The name of the lock file inside the checkpoint directory.
const LOCK_FILE: &str = "lock";

impl DirLock {
    /// Takes the lock of `dir` (creating the directory), or says which process has it.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock> {
        fs::create_dir_all(dir).map_err(|e| Error::checkpoint(dir, format!("cannot create the directory: {e}")))?;
        let path = dir.join(LOCK_FILE);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::checkpoint(dir, format!("cannot open its lock file: {e}")))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let holder = if holder.is_empty() { "another process" } else { holder };
                return Err(Error::checkpoint(
                    dir,
                    format!("another run uses it ({holder}): one run per checkpoint directory; wait for it to end or stop it"),
                ));
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::checkpoint(dir, format!("cannot lock it: {e}"))),
        }
        // Who holds it, for the message of a second run.
        let _ = file.set_len(0);
        let _ = writeln!(file, "zpark PID {}", std::process::id());
        Ok(DirLock { _file: file })
    }
}

fn temporary_name() -> String {
    format!(".{CHECKPOINT_FILE}.tmp")
}

fn read_envelope(dir: &Path) -> Result<Option<Read>> {
    let path = dir.join(CHECKPOINT_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::checkpoint(dir, format!("cannot read {CHECKPOINT_FILE}: {e}"))),
    };
    let corrupt = |why: String| {
        Error::checkpoint(
            dir,
            format!("{CHECKPOINT_FILE} is corrupt ({why}); refusing to start over silently: reset the checkpoint (zpark run --reset) to start from the beginning"),
        )
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(corrupt("it is not a zpark checkpoint".into()));
    }
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(version) if version == u64::from(FORMAT_VERSION) => {}
        Some(version) => {
            return Err(Error::checkpoint(
                dir,
                format!("format version {version} is not the version {FORMAT_VERSION} this zpark reads; use the zpark that wrote it, or reset the checkpoint"),
            ))
        }
        None => return Err(corrupt("no format version".into())),
    }
    // Written by every zpark since the checksum came; an older checkpoint has none.
    if checksum_holds(&bytes) == Some(false) {
        return Err(corrupt(
            "its checksum does not match its content: it was edited or damaged".into(),
        ));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| corrupt(e.to_string()))
}

fn check_shape(dir: &Path, saved: &Shape, now: &Shape) -> Result<()> {
    let none = String::from("(nothing)");
    let differences: Vec<String> = saved
        .keys()
        .chain(now.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|part| {
            let (before, after) = (saved.get(part).unwrap_or(&none), now.get(part).unwrap_or(&none));
            (before != after).then(|| format!("`{part}` was `{before}`, now `{after}`"))
        })
        .collect();
    if differences.is_empty() {
        return Ok(());
    }
    Err(Error::checkpoint(
        dir,
        format!(
            "it was written by another pipeline: {}; resume with the same pipeline, or reset the checkpoint (zpark run --reset) to start over",
            differences.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zpark-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_checksum_holds_for_the_content_as_written_only() {
        let file = with_checksum(br#"{"slice":1,"x":[1,2]}"#);
        assert!(file.starts_with(CHECKSUM_START));
        assert_eq!(checksum_holds(&file), Some(true));
        let edited = String::from_utf8(file.clone())
            .unwrap()
            .replace("\"slice\":1", "\"slice\":2");
        assert_eq!(checksum_holds(edited.as_bytes()), Some(false));
        let cut = String::from_utf8(file)
            .unwrap()
            .replacen("\"checksum\":\"", "\"checksum\":\"0", 1);
        assert_eq!(checksum_holds(cut.as_bytes()), Some(false));
        assert_eq!(
            checksum_holds(br#"{"format":"zpark-checkpoint"}"#),
            None,
            "written before checksums"
        );
    }

    #[test]
    fn a_commit_is_read_back() -> Result<()> {
        let dir = temp("roundtrip");
        let mut checkpoint = Checkpoint::open(&dir, shape([("stage", "x")]))?;
        checkpoint.commit(7, SourcePosition::at(99, 10), &vec![(1u64, "a".to_string())])?;
        let again = Checkpoint::open(&dir, shape([("stage", "x")]))?;
        assert_eq!(again.slice(), 7);
        assert_eq!(again.sink_slices(), 7);
        assert_eq!(again.position(), SourcePosition::at(99, 10));
        assert_eq!(again.state::<Vec<(u64, String)>>()?, Some(vec![(1, "a".to_string())]));
        Ok(())
    }

    #[test]
    fn a_corrupt_checkpoint_is_refused() -> Result<()> {
        let dir = temp("corrupt");
        Checkpoint::open(&dir, shape([("stage", "x")]))?.commit(1, SourcePosition::default(), &1u8)?;
        let path = dir.join(CHECKPOINT_FILE);
        let text = fs::read_to_string(&path).map_err(|e| Error::io("test", e))?;
        fs::write(&path, &text[..text.len() / 2]).map_err(|e| Error::io("test", e))?;
        let error = Checkpoint::open(&dir, shape([("stage", "x")])).unwrap_err();
        assert!(error.to_string().contains("is corrupt"), "{error}");
        Checkpoint::reset(&dir)?;
        assert_eq!(Checkpoint::open(&dir, shape([("stage", "x")]))?.slice(), 0);
        Ok(())
    }

    #[test]
    fn another_version_is_refused() -> Result<()> {
        let dir = temp("version");
        Checkpoint::open(&dir, shape([("stage", "x")]))?.commit(1, SourcePosition::default(), &1u8)?;
        let path = dir.join(CHECKPOINT_FILE);
        let text = fs::read_to_string(&path).map_err(|e| Error::io("test", e))?;
        fs::write(&path, text.replace("\"version\":1", "\"version\":99")).map_err(|e| Error::io("test", e))?;
        let error = Checkpoint::open(&dir, shape([("stage", "x")])).unwrap_err();
        assert!(error.to_string().contains("format version 99"), "{error}");
        Ok(())
    }

    #[test]
    fn another_shape_names_every_difference() -> Result<()> {
        let dir = temp("shape");
        Checkpoint::open(&dir, shape([("stage", "x"), ("slicing", "count 10")]))?.commit(
            1,
            SourcePosition::default(),
            &1u8,
        )?;
        let error = Checkpoint::open(&dir, shape([("stage", "y"), ("window", "3 slices")])).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("`slicing` was `count 10`, now `(nothing)`"), "{text}");
        assert!(text.contains("`stage` was `x`, now `y`"), "{text}");
        assert!(text.contains("`window` was `(nothing)`, now `3 slices`"), "{text}");
        Ok(())
    }

    #[test]
    fn a_state_of_another_type_is_an_error_naming_it() -> Result<()> {
        let dir = temp("type");
        Checkpoint::open(&dir, shape([("stage", "x")]))?.commit(1, SourcePosition::default(), &"text")?;
        let error = Checkpoint::open(&dir, shape([("stage", "x")]))?
            .state::<u64>()
            .unwrap_err();
        assert!(error.to_string().contains("`u64`"), "{error}");
        Ok(())
    }
}
