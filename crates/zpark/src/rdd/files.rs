//! Text files as a dataset (`Engine::text_files`): a source that describes its data, so that an
//! engine on a cluster reads the files itself; the embedded engine reads them on its workers,
//! one file per partition, in parallel.

use std::path::PathBuf;
use std::sync::Arc;

use futures::future::{self, BoxFuture, FutureExt};

use super::node::{Node, NodePlan, PartIter};
use super::{Data, Rdd};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// `engine.text_files(paths)`.
struct TextFiles {
    paths: Arc<Vec<PathBuf>>,
}

impl Node<String> for TextFiles {
    fn operation(&self) -> &'static str {
        "text_files"
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
        let bytes = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        Ok(Box::new(text_lines(&bytes).into_iter()))
    }

    fn plan(&self) -> NodePlan {
        NodePlan::Files(self.paths.as_ref().clone())
    }
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
    /// are not UTF-8 are read as U+FFFD.
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
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn text_files<P: Into<PathBuf>>(&self, paths: impl IntoIterator<Item = P>) -> Rdd<String> {
        let paths = paths.into_iter().map(Into::into).collect();
        Rdd::from_node(self.clone(), Arc::new(TextFiles { paths: Arc::new(paths) }))
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
