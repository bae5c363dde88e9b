//! Slices of time of the files a stream names ([`DiscretizeExt::discretize_files`](super::DiscretizeExt::discretize_files)):
//! each slice is the lines of the files that arrived during it, a source that describes its
//! data ([`Engine::text_files`]).

use std::path::PathBuf;

use crate::engine::{Engine, FileFormat};
use crate::error::{Error, Result};
use crate::rdd::Rdd;

/// The rows of the files of one slice, read in `format`; a slice that holds an error (a
/// directory that could not be read) fails with it.
pub(super) fn rows_of_files(engine: &Engine, paths: &Rdd<Result<PathBuf>>, format: FileFormat) -> Rdd<String> {
    let Some(paths) = paths.stored_rows() else {
        return engine.failed(Error::Internal("a slice of files that is not in memory".into()));
    };
    match paths.into_iter().collect::<Result<Vec<PathBuf>>>() {
        Ok(paths) if format == FileFormat::Parquet => engine.parquet_files(paths),
        Ok(paths) => engine.text_files(paths),
        Err(error) => engine.failed(error),
    }
}
