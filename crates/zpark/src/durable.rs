//! What outlives a run: where a replayable source stands ([`SourcePosition`], [`FileIdentity`])
//! and how a file is replaced so that a crash leaves the old one or the new one. The base of
//! [`source`](crate::source) (which reports positions), [`sink`](crate::sink) (which writes
//! files atomically) and [`checkpoint`](crate::checkpoint) (which saves both).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where a replayable source stands: the byte offset just after the last record taken, the
/// number of lines read up to there (so that error messages after a resume still name the
/// right line), and which file the offset is in (so that a file replaced while the pipeline
/// was stopped is noticed, not read from a wrong offset).
///
/// # Examples
///
/// ```
/// let start = zpark::checkpoint::SourcePosition::default();
/// assert_eq!((start.offset, start.line, start.file), (0, 0, None));
/// assert_eq!(zpark::checkpoint::SourcePosition::at(10, 2).offset, 10);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourcePosition {
    /// Bytes from the start of the file.
    pub offset: u64,
    /// Lines from the start of the input (across log rotations).
    pub line: u64,
    /// The file the offset is in, where the platform tells (device and inode on Unix).
    #[serde(default)]
    pub file: Option<FileIdentity>,
    /// For a partitioned log (a Kafka topic): the next offset to read in each partition (and
    /// `line` counts the records read); empty for a file, and then not written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partitions: BTreeMap<i32, i64>,
}

impl SourcePosition {
    /// A position in whatever file the path names.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = zpark::checkpoint::SourcePosition::at(4, 1);
    /// assert_eq!((p.offset, p.line, p.file), (4, 1, None));
    /// ```
    pub const fn at(offset: u64, line: u64) -> SourcePosition {
        SourcePosition {
            offset,
            line,
            file: None,
            partitions: BTreeMap::new(),
        }
    }
}

/// What makes a file the same file across renames: its device and inode (Unix).
///
/// # Examples
///
/// ```
/// let id = zpark::checkpoint::FileIdentity { device: 1, inode: 2 };
/// assert_ne!(id, zpark::checkpoint::FileIdentity { device: 1, inode: 3 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileIdentity {
    /// The device the file is on.
    pub device: u64,
    /// The file's inode on that device.
    pub inode: u64,
}

impl FileIdentity {
    /// The identity of the file at `path`; `None` when there is none there or the platform
    /// has no identities.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::checkpoint::FileIdentity;
    /// let path = std::env::temp_dir().join("zpark-doc-identity.txt");
    /// std::fs::write(&path, "x")?;
    /// assert_eq!(FileIdentity::of_path(&path), FileIdentity::of_path(&path));
    /// assert_eq!(FileIdentity::of_path(std::path::Path::new("/no/such/file")), None);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn of_path(path: &Path) -> Option<FileIdentity> {
        FileIdentity::of(&std::fs::metadata(path).ok()?)
    }

    /// The identity of the file `metadata` describes, where the platform has one.
    #[cfg(unix)]
    pub(crate) fn of(metadata: &std::fs::Metadata) -> Option<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        Some(FileIdentity {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    /// The identity of the file `metadata` describes, where the platform has one.
    #[cfg(not(unix))]
    pub(crate) fn of(_: &std::fs::Metadata) -> Option<FileIdentity> {
        None
    }
}

/// An element with the position of its input just after it: where a resumed pipeline starts
/// reading once this element's slice is committed.
///
/// # Examples
///
/// ```
/// use zpark::checkpoint::SourcePosition;
/// let p = zpark::source::Positioned { item: "a", end: SourcePosition::at(2, 1) };
/// assert_eq!(p.map(str::len).item, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positioned<T> {
    /// The element.
    pub item: T,
    /// The position just after it.
    pub end: SourcePosition,
}

impl<T> Positioned<T> {
    /// The same position with another element (a parsed record in place of its line).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zpark::{checkpoint::SourcePosition, source::Positioned};
    /// let p = Positioned { item: "12", end: SourcePosition::default() };
    /// assert_eq!(p.map(|s| s.parse::<u8>().unwrap()).item, 12);
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Positioned<U> {
        Positioned {
            item: f(self.item),
            end: self.end,
        }
    }
}

/// 64-bit FNV-1a of `bytes`. It tells an edited or damaged file from the one zpark wrote; it is
/// not a signature. (The checkpoint's checksum and the output manifest's file hashes.)
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Writes `bytes` to `dir/name` so that a crash leaves the old file or the new one: a
/// temporary file, `fsync`, rename, then `fsync` of the directory (which makes the rename
/// durable).
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{name}.tmp"));
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, dir.join(name))?;
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> std::io::Result<()> {
    Ok(())
}
