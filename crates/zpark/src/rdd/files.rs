//! Files as a dataset (`Engine::text_files`, `Engine::parquet_files`): a source that describes
//! its data, so that an engine on a cluster reads the files itself; the embedded engine reads
//! them on its workers, one file per partition, in parallel.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::{self, BoxFuture, FutureExt};

use super::node::{Node, NodePlan, PartIter};
use super::{Data, Rdd};
use crate::engine::{Engine, FileFormat};
use crate::error::{Error, Result};

/// `engine.text_files(paths)` and `engine.parquet_files(paths)`.
struct Files {
    paths: Arc<Vec<PathBuf>>,
    format: FileFormat,
}

impl Node<String> for Files {
    fn operation(&self) -> &'static str {
        match self.format {
            FileFormat::Text => "text_files",
            FileFormat::Parquet => "parquet_files",
        }
    }

    fn partitions(&self) -> usize {
        self.paths.len().max(1)
    }

    fn prepare<'a>(&'a self, _: &'a Engine) -> BoxFuture<'a, Result<()>> {
        future::ready(Ok(())).boxed()
    }

    fn compute(&self, part: usize) -> Result<PartIter<'_, String>> {
        let Some(path) = self.paths.get(part) else {
            return Ok(Box::new(std::iter::empty()));
        };
        let rows = match self.format {
            FileFormat::Text => {
                let bytes = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
                text_lines(&bytes)
            }
            FileFormat::Parquet => super::parquet::json_rows(path)?,
        };
        Ok(Box::new(rows.into_iter()))
    }

    fn plan(&self) -> NodePlan {
        NodePlan::Files(self.paths.as_ref().clone(), self.format)
    }
}

/// `paths` with their glob patterns expanded, in the order given (each pattern's files in
/// name order). A path with `*`, `?` or `[` that names a place this machine can list is a
/// pattern; one that matches nothing, or has a URL scheme (`hdfs://`, `s3a://`), is kept as
/// it is: an engine that reads it says it does not exist, or (Spark) expands it itself.
fn expanded(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut all = Vec::with_capacity(paths.len());
    for path in paths {
        match matches_of(&path) {
            Some(found) if !found.is_empty() => all.extend(found),
            _ => all.push(path),
        }
    }
    all
}

/// The files `pattern` matches, when it is a glob pattern of this machine's files.
fn matches_of(pattern: &Path) -> Option<Vec<PathBuf>> {
    let text = pattern.to_str()?;
    if !text.contains(['*', '?', '[']) || text.contains("://") {
        return None;
    }
    let found = glob::glob(text).ok()?;
    Some(
        found
            .filter_map(|entry| entry.ok())
            .filter(|path| path.is_file())
            .collect(),
    )
}

/// The lines of `bytes`, split where Spark's text reader splits them (`\n`, `\r\n`, `\r`),
/// without their endings; a last line without an ending is a line, and bytes that are not
/// UTF-8 become U+FFFD.
fn text_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr2(b'\n', b'\r', rest) {
            Some(end) if rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n') => (&rest[..end], end + 2),
            Some(end) => (&rest[..end], end + 1),
            None => (rest, rest.len()),
        };
        lines.push(String::from_utf8_lossy(line).into_owned());
        rest = &rest[next..];
    }
    lines
}

impl Engine {
    /// The lines of text files, one partition per file, in the order given: a source that
    /// describes its data. On the embedded engine the files are read by its workers in
    /// parallel when an action runs; on an engine that reads files itself (Spark) they are
    /// read there, and stages over them (and [`Rdd::field`]) run there too: the lines never
    /// pass through this process. Give paths that the engine can read: on a Spark cluster,
    /// paths every executor sees (a shared file system, `hdfs://`, `s3a://`).
    ///
    /// Lines end at `\n`, `\r\n` or `\r`, as Spark's text reader splits them, and bytes that
    /// are not UTF-8 are read as U+FFFD. CSV and JSON lines are text files too: take their
    /// fields with [`Field::csv`](crate::Field::csv) and [`Field::json`](crate::Field::json),
    /// which Spark runs as `from_csv` and `get_json_object` over the lines it read.
    ///
    /// A path with `*`, `?` or `[...]` is a glob pattern (the `glob` crate's syntax): it is
    /// expanded here, now, into the files it matches in name order, so that every engine reads
    /// the same files; a pattern that matches nothing is kept as a path, which an action then
    /// reports missing, and a URL (`hdfs://...`) is left for the engine to expand.
    ///
    /// # Errors
    ///
    /// Actions fail with [`Error::Io`] naming a file that cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let dir = std::env::temp_dir().join(format!("zpark-doc-text-files-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("a.log"), "x 1\ny 2\n")?;
    /// std::fs::write(dir.join("b.log"), "x 3")?;
    /// let engine = zpark::Engine::local(2);
    /// let lines = engine.text_files([dir.join("a.log"), dir.join("b.log")]);
    /// assert_eq!(lines.partitions(), 2);
    /// assert_eq!(lines.collect().await?, vec!["x 1", "y 2", "x 3"]);
    /// // The same files by a pattern.
    /// assert_eq!(engine.text_files([dir.join("*.log")]).count().await?, 3);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn text_files<P: Into<PathBuf>>(&self, paths: impl IntoIterator<Item = P>) -> Rdd<String> {
        self.files(paths, FileFormat::Text)
    }

    /// The records of Parquet files, one partition per file, each record one JSON object of
    /// its columns (`{"action":"install","size":12}`; a null column is left out), so that
    /// [`Field::json`](crate::Field::json) takes a column by name. On Spark the files are read
    /// by Spark (`read.parquet`, each record `to_json(struct(*))`) and never pass through this
    /// process; the embedded engine reads them on its workers with the `parquet` crate, which
    /// needs this crate's `parquet` feature. Paths and patterns are as for
    /// [`text_files`](Engine::text_files).
    ///
    /// Strings, whole numbers and booleans are the same text on every engine; floating-point
    /// numbers, dates and times are written by each engine's own JSON writer (Spark writes
    /// `1.0E20` where Rust writes `1e20`).
    ///
    /// # Errors
    ///
    /// Actions fail with [`Error::Io`] naming a file that cannot be read, and with
    /// [`Error::Configuration`] on the embedded engine built without the `parquet` feature.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::Field;
    /// # futures::executor::block_on(async {
    /// let engine = zpark::Engine::local(2);
    /// let actions = engine.parquet_files(["/data/events/*.parquet"]).field(Field::json("action")?);
    /// assert_eq!(actions.partitions(), 1);
    /// # Ok::<_, zpark::Error>(()) }).unwrap();
    /// ```
    pub fn parquet_files<P: Into<PathBuf>>(&self, paths: impl IntoIterator<Item = P>) -> Rdd<String> {
        self.files(paths, FileFormat::Parquet)
    }

    fn files<P: Into<PathBuf>>(&self, paths: impl IntoIterator<Item = P>, format: FileFormat) -> Rdd<String> {
        let paths = expanded(paths.into_iter().map(Into::into).collect());
        Rdd::from_node(
            self.clone(),
            Arc::new(Files {
                paths: Arc::new(paths),
                format,
            }),
        )
    }
}

impl<T: Data> Rdd<T> {
    /// Every element, without an action, when every partition is in memory (a slice of a
    /// stream: `discretize_files` reads its paths so).
    pub(crate) fn stored_rows(&self) -> Option<Vec<T>> {
        let mut rows = Vec::new();
        for part in 0..self.node.partitions() {
            rows.extend_from_slice(self.node.stored(part)?);
        }
        Some(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::text_lines;

    #[test]
    fn lines_end_where_sparks_text_reader_ends_them() {
        assert_eq!(text_lines(b"a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(text_lines(b"a\n\nb\n"), ["a", "", "b"]);
        assert!(text_lines(b"").is_empty());
        assert_eq!(text_lines(b"\xffx"), ["\u{fffd}x"]);
    }
}
