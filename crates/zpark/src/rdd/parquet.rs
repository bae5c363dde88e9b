//! Parquet files on the embedded engine (`Engine::parquet_files`): each record as one JSON
//! object of its columns, written by `arrow-json` (null columns left out, as Spark's
//! `to_json(struct(*))` leaves them out), so that `Field::json` takes a column by name on every
//! engine.

use std::path::Path;

use crate::error::{Error, Result};

/// The records of the Parquet file at `path`, one JSON object per record, in file order.
#[cfg(feature = "parquet")]
pub(super) fn json_rows(path: &Path) -> Result<Vec<String>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let input = path.display().to_string();
    let unreadable = |reason: String| Error::io(input.clone(), std::io::Error::other(reason));
    let file = std::fs::File::open(path).map_err(|e| Error::io(input.clone(), e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.build())
        .map_err(|e| unreadable(format!("not a Parquet file this reader reads: {e}")))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(format!("a damaged Parquet record batch: {e}")))?;
        let mut writer = arrow_json::LineDelimitedWriter::new(Vec::new());
        writer
            .write(&batch)
            .and_then(|()| writer.finish())
            .map_err(|e| unreadable(format!("a column JSON cannot hold: {e}")))?;
        let text = String::from_utf8(writer.into_inner())
            .map_err(|e| unreadable(format!("a record that is not UTF-8: {e}")))?;
        rows.extend(text.lines().map(str::to_string));
    }
    Ok(rows)
}

/// Without the `parquet` feature the embedded engine cannot read Parquet: say how to get it.
#[cfg(not(feature = "parquet"))]
pub(super) fn json_rows(path: &Path) -> Result<Vec<String>> {
    Err(Error::Configuration(format!(
        "cannot read {}: the embedded engine reads Parquet files only when zpark is built with its `parquet` feature (`zpark = {{ features = [\"parquet\"] }}`; the CLI: `cargo install zpark-cli --features parquet`); Spark reads them without it",
        path.display()
    )))
}

#[cfg(all(test, feature = "parquet"))]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
    use parquet::arrow::ArrowWriter;

    use super::json_rows;

    #[test]
    fn records_are_json_objects_without_their_null_columns() {
        let path = std::env::temp_dir().join(format!("zpark-parquet-unit-{}.parquet", std::process::id()));
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("action", Arc::new(StringArray::from(vec![Some("install"), None]))),
            ("size", Arc::new(Int64Array::from(vec![12, -3]))),
            ("ok", Arc::new(BooleanArray::from(vec![true, false]))),
        ];
        let batch = RecordBatch::try_from_iter(columns).expect("a batch");
        let file = std::fs::File::create(&path).expect("a file");
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("a writer");
        writer.write(&batch).expect("written");
        writer.close().expect("closed");
        let rows = json_rows(&path).expect("read back");
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            rows,
            [
                r#"{"action":"install","size":12,"ok":true}"#,
                r#"{"size":-3,"ok":false}"#
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_parquet_is_named() {
        let path = std::env::temp_dir().join(format!("zpark-parquet-unit-bad-{}.parquet", std::process::id()));
        std::fs::write(&path, "not parquet").expect("a file");
        let error = json_rows(&path).expect_err("refused");
        let _ = std::fs::remove_file(&path);
        assert!(error.to_string().contains("zpark-parquet-unit-bad"), "{error}");
    }
}

#[cfg(all(test, not(feature = "parquet")))]
mod without_the_feature {
    #[test]
    fn reading_says_how_to_get_the_feature() {
        let error = super::json_rows("/data/a.parquet".as_ref()).expect_err("refused");
        let message = error.to_string();
        assert!(
            message.contains("/data/a.parquet") && message.contains("`parquet` feature"),
            "{message}"
        );
    }
}
