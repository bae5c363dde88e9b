//! Slices to Arrow and back: each element is one row with one column, `value`, whose Arrow type
//! serde_arrow traces from the Rust type (numbers, strings, bools, tuples and structs as
//! structs, options as nullable fields).
//!
//! Spark has no unsigned integers: `u8`, `u16`, `u32` and `u64` travel as the next signed type
//! (`u64` as `Int64`, so values above `i64::MAX` are refused with an error, never wrapped).

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_arrow::schema::{SchemaLike, TracingOptions};

use crate::SparkError;

/// The column every element travels in.
pub const VALUE: &str = "value";

/// The column in front of `value` when the rows of several slices share one plan: the slice's
/// tag (an `Int64`), by which the result is cut back into slices.
pub const SLICE: &str = "zpark_slice";

#[derive(Serialize)]
struct Out<'a, T> {
    value: &'a T,
}

#[derive(Deserialize)]
struct In<T> {
    value: T,
}

fn schema_error<T>(reason: impl std::fmt::Display) -> SparkError {
    SparkError::Schema {
        type_name: std::any::type_name::<T>(),
        reason: reason.to_string(),
    }
}

/// The Arrow fields of a slice of `T`: one field, [`VALUE`].
///
/// # Errors
///
/// [`SparkError::Schema`] naming `T` when its shape has no Arrow form (a map with non-string
/// keys, a self-describing value such as `serde_json::Value`, ...).
///
/// # Examples
///
/// ```
/// let fields = zpark_spark::codec::fields_of::<(String, u64)>()?;
/// assert_eq!(fields[0].name(), "value");
/// # Ok::<_, zpark_spark::SparkError>(())
/// ```
pub fn fields_of<T: DeserializeOwned>() -> Result<Vec<FieldRef>, SparkError> {
    Ok(traced::<T>()?.iter().map(|field| Arc::new(signed(field))).collect())
}

/// The Arrow fields of `T` as serde_arrow traces them (unsigned integers as they are).
fn traced<T: DeserializeOwned>() -> Result<Vec<FieldRef>, SparkError> {
    let options = TracingOptions::default().allow_null_fields(true);
    Vec::<FieldRef>::from_type::<In<T>>(options).map_err(schema_error::<T>)
}

/// The field with its unsigned integers made signed, all the way down.
fn signed(field: &Field) -> Field {
    let data_type = match field.data_type() {
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Struct(children) => DataType::Struct(Fields::from(
            children.iter().map(|child| signed(child)).collect::<Vec<_>>(),
        )),
        DataType::List(item) => DataType::List(Arc::new(signed(item))),
        DataType::LargeList(item) => DataType::LargeList(Arc::new(signed(item))),
        other => other.clone(),
    };
    field.clone().with_data_type(data_type)
}

/// The elements as one Arrow record batch.
///
/// # Errors
///
/// [`SparkError::Schema`] naming `T` when it has no Arrow form or a value does not fit (an
/// unsigned value above the signed range).
///
/// # Examples
///
/// ```
/// let batch = zpark_spark::codec::to_batch(&[("a".to_string(), 1u64), ("b".to_string(), 2)])?;
/// assert_eq!(batch.num_rows(), 2);
/// let back: Vec<(String, u64)> = zpark_spark::codec::from_batches(&[batch])?;
/// assert_eq!(back[1], ("b".to_string(), 2));
/// # Ok::<_, zpark_spark::SparkError>(())
/// ```
pub fn to_batch<T: Serialize + DeserializeOwned>(elements: &[T]) -> Result<RecordBatch, SparkError> {
    let fields = fields_of::<T>()?;
    let rows: Vec<Out<'_, T>> = elements.iter().map(|value| Out { value }).collect();
    serde_arrow::to_record_batch(&fields, &rows).map_err(schema_error::<T>)
}

/// The elements of record batches whose rows hold a [`VALUE`] column of `T`'s shape (other
/// columns are ignored).
///
/// # Errors
///
/// [`SparkError::Schema`] naming `T` when a batch does not hold its shape.
pub fn from_batches<T: DeserializeOwned>(batches: &[RecordBatch]) -> Result<Vec<T>, SparkError> {
    // Decoded as `T` is, unsigned included: a `u64` sum comes back as a `decimal(38, 0)`
    // that may pass `i64::MAX`, and is cast straight to `UInt64`.
    let fields = traced::<T>().ok();
    let mut elements = Vec::new();
    for batch in batches {
        let batch = conformed(batch, fields.as_deref());
        let rows: Vec<In<T>> = serde_arrow::from_record_batch(&batch).map_err(schema_error::<T>)?;
        elements.extend(rows.into_iter().map(|row| row.value));
    }
    Ok(elements)
}

/// `batch` (rows of one `value` column) with a [`SLICE`] column in front holding `tag`.
///
/// # Errors
///
/// [`SparkError::Schema`] when the batch cannot take the column.
///
/// # Examples
///
/// ```
/// let batch = zpark_spark::codec::to_batch(&[5u64, 6])?;
/// let tagged = zpark_spark::codec::tagged(&batch, 3)?;
/// assert_eq!(tagged.num_columns(), 2);
/// assert_eq!(zpark_spark::codec::untagged(&[tagged], 3)?[0].num_rows(), 2);
/// # Ok::<_, zpark_spark::SparkError>(())
/// ```
pub fn tagged(batch: &RecordBatch, tag: i64) -> Result<RecordBatch, SparkError> {
    let mut fields = vec![Arc::new(Field::new(SLICE, DataType::Int64, false))];
    fields.extend(batch.schema().fields().iter().cloned());
    let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![tag; batch.num_rows()]))];
    columns.extend(batch.columns().iter().cloned());
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_error)
}

/// The rows of `batches` (a [`SLICE`] column, then `value`) whose tag is `tag`, without the
/// tag: rows of one `value` column again.
///
/// # Errors
///
/// [`SparkError::Schema`] when the batches have no tag column in front.
pub fn untagged(batches: &[RecordBatch], tag: i64) -> Result<Vec<RecordBatch>, SparkError> {
    batches
        .iter()
        .map(|batch| {
            let tags =
                batch.column(0).as_any().downcast_ref::<Int64Array>().ok_or_else(|| {
                    arrow_error(format!("the first column is not the slice's tag: {:?}", batch.schema()))
                })?;
            let mine = BooleanArray::from_unary(tags, |t| t == tag);
            let rows = arrow::compute::filter_record_batch(batch, &mine).map_err(arrow_error)?;
            rows.project(&[1]).map_err(arrow_error)
        })
        .collect()
}

/// An Arrow failure on record batches (rather than on a Rust type), as a schema error.
pub(crate) fn arrow_error(e: impl std::fmt::Display) -> SparkError {
    SparkError::Schema {
        type_name: "arrow::record_batch::RecordBatch",
        reason: e.to_string(),
    }
}

/// `batch` with its `value` column cast to the type `fields` (traced from the Rust type) give,
/// when it differs and Arrow can cast it: Spark's aggregates widen numbers (`sum` of an `int`
/// is a `bigint`, a sum of whole numbers is a `decimal(38, 0)`, `count` is a `bigint` whatever
/// it counts), and a `bigint` count must still decode into an `f64`; Spark's signed integers
/// become the Rust type's unsigned ones. Otherwise the batch as it is, for serde_arrow to
/// judge (a value that does not fit is then an error, never wrapped).
fn conformed(batch: &RecordBatch, fields: Option<&[FieldRef]>) -> RecordBatch {
    let (Some(expected), Some(index)) = (
        fields.and_then(|f| f.iter().find(|f| f.name() == VALUE)),
        batch.schema().index_of(VALUE).ok(),
    ) else {
        return batch.clone();
    };
    let column = batch.column(index);
    let to = expected.data_type();
    if column.data_type() == to || !arrow::compute::can_cast_types(column.data_type(), to) {
        return batch.clone();
    }
    let Ok(cast) = arrow::compute::cast(column, to) else {
        return batch.clone();
    };
    let mut columns = batch.columns().to_vec();
    columns[index] = cast;
    let mut schema_fields: Vec<FieldRef> = batch.schema().fields().iter().cloned().collect();
    schema_fields[index] = Arc::new(Field::new(VALUE, to.clone(), true));
    RecordBatch::try_new(Arc::new(Schema::new(schema_fields)), columns).unwrap_or_else(|_| batch.clone())
}

/// Record batches in the Arrow IPC stream format, as a `LocalRelation` carries them.
///
/// # Errors
///
/// [`SparkError::Schema`] when Arrow cannot write the batches (it names the batch's schema).
pub fn to_ipc(batches: &[RecordBatch]) -> Result<Vec<u8>, SparkError> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let schema: Arc<Schema> = first.schema();
    let mut bytes = Vec::new();
    let mut writer = StreamWriter::try_new(&mut bytes, &schema).map_err(arrow_error)?;
    for batch in batches {
        writer.write(batch).map_err(arrow_error)?;
    }
    writer.finish().map_err(arrow_error)?;
    drop(writer);
    Ok(bytes)
}

/// The record batches of an Arrow IPC stream (what the server sends back).
///
/// # Errors
///
/// [`SparkError::Schema`] when the bytes are not an Arrow IPC stream.
pub fn from_ipc(bytes: &[u8]) -> Result<Vec<RecordBatch>, SparkError> {
    StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .map_err(arrow_error)?
        .map(|batch| batch.map_err(arrow_error))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Reading {
        sensor: String,
        celsius: Option<f64>,
        at: u64,
    }

    fn round_trip<T: Serialize + DeserializeOwned>(elements: &[T]) -> Vec<T> {
        let bytes = to_ipc(&[to_batch(elements).unwrap()]).unwrap();
        from_batches(&from_ipc(&bytes).unwrap()).unwrap()
    }

    #[test]
    fn numbers_strings_tuples_structs_and_options_travel_and_come_back() {
        assert_eq!(
            round_trip(&[1u64, 2, u64::from(u32::MAX) + 7]),
            vec![1, 2, u64::from(u32::MAX) + 7]
        );
        assert_eq!(round_trip(&[-3i32, 4]), vec![-3, 4]);
        assert_eq!(round_trip(&["a".to_string(), String::new()]), vec!["a", ""]);
        assert_eq!(round_trip(&[(true, 1.5f64)]), vec![(true, 1.5)]);
        let readings = vec![
            Reading {
                sensor: "s1".into(),
                celsius: Some(21.5),
                at: 10,
            },
            Reading {
                sensor: "s2".into(),
                celsius: None,
                at: 11,
            },
        ];
        assert_eq!(round_trip(&readings), readings);
        assert_eq!(round_trip(&[(7u64, vec![1u32, 2, 3])]), vec![(7, vec![1, 2, 3])]);
    }

    #[test]
    fn unsigned_integers_travel_as_signed_ones() {
        let fields = fields_of::<(u64, u32, u8)>().unwrap();
        let DataType::Struct(children) = fields[0].data_type() else {
            panic!("{fields:?}")
        };
        let types: Vec<_> = children.iter().map(|c| c.data_type().clone()).collect();
        assert_eq!(types, vec![DataType::Int64, DataType::Int64, DataType::Int16]);
    }

    #[test]
    fn an_unsigned_value_beyond_the_signed_range_is_refused_naming_the_type() {
        let error = to_batch(&[u64::MAX]).unwrap_err().to_string();
        assert!(error.contains("`u64`"), "{error}");
    }

    #[test]
    fn a_type_with_no_arrow_form_is_an_error_naming_it() {
        let error = fields_of::<serde_json::Value>().unwrap_err().to_string();
        assert!(error.contains("serde_json::value::Value"), "{error}");
    }
}
