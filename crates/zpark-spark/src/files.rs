//! The Spark forms of the data a source describes: files read by Spark itself
//! (`spark.read.text`, `spark.read.parquet`), and a [`Field`] of each line as a Spark
//! expression, so that the rows never pass through the driver. The expressions follow
//! [`Field`]'s rules, which the embedded engine follows in Rust.

use std::path::Path;

use spark_connect_proto as proto;
use spark_connect_proto::expression::ExprType;
use spark_connect_proto::relation::RelType;
use zpark::engine::FileFormat;
use zpark::Field;

use crate::codec::VALUE;
use crate::relation::{alias, call, column, expression, relation, string, Relation};
use zpark::engine::Projection;

/// The rows of `paths` read in `format`, one `value` string column (see [`text_files`] and
/// [`parquet_files`]).
///
/// # Examples
///
/// ```
/// use zpark::engine::FileFormat;
/// let records = zpark_spark::files::read(FileFormat::Parquet, ["/data/a.parquet"]);
/// assert!(records.rel_type.is_some());
/// ```
pub fn read<P: AsRef<Path>>(format: FileFormat, paths: impl IntoIterator<Item = P>) -> Relation {
    match format {
        FileFormat::Parquet => parquet_files(paths),
        _ => text_files(paths),
    }
}

/// The lines of `paths`, one `value` string column per line (`spark.read.text(paths)`).
/// Relative paths are made absolute against this process's directory, which a local server
/// shares; a cluster needs paths every executor reads.
///
/// # Examples
///
/// ```
/// let lines = zpark_spark::files::text_files(["/data/a.log"]);
/// assert!(lines.rel_type.is_some());
/// ```
pub fn text_files<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Relation {
    data_source("text", paths)
}

/// The records of the Parquet files at `paths`, each one JSON object of its columns in one
/// `value` string column (`spark.read.parquet(paths)` then `to_json(struct(*))`, which leaves
/// null columns out), as `Engine::parquet_files` reads them on the embedded engine.
///
/// # Examples
///
/// ```
/// let records = zpark_spark::files::parquet_files(["/data/a.parquet"]);
/// assert!(records.rel_type.is_some());
/// ```
pub fn parquet_files<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Relation {
    let every_column = expression(ExprType::UnresolvedStar(proto::expression::UnresolvedStar::default()));
    let record = call("to_json", vec![call("struct", vec![every_column])]);
    crate::relation::project(data_source("parquet", paths), vec![alias(record, VALUE)])
}

/// `spark.read.format(format).load(paths)`, relative paths made absolute (URLs such as
/// `hdfs://...` are kept as they are).
fn data_source<P: AsRef<Path>>(format: &str, paths: impl IntoIterator<Item = P>) -> Relation {
    let paths = paths.into_iter().map(|path| server_path(path.as_ref())).collect();
    relation(RelType::Read(proto::Read {
        read_type: Some(proto::read::ReadType::DataSource(proto::read::DataSource {
            format: Some(format.to_string()),
            paths,
            ..Default::default()
        })),
        is_streaming: false,
    }))
}

/// `path` as the server is given it: absolute against this process's directory, unless a URL.
fn server_path(path: &Path) -> String {
    let text = path.display().to_string();
    if text.contains("://") {
        return text;
    }
    std::path::absolute(path).map_or(text, |path| path.display().to_string())
}

/// `projection` of each row of `input` (rows of one `value` column: lines for a field, texts
/// for a parse), as a nullable `value` column; `None` for a projection this engine has no
/// expression for (the driver then computes it).
///
/// # Examples
///
/// ```
/// use zpark::engine::Projection;
/// let lines = zpark_spark::files::text_files(["/data/a.log"]);
/// let words = zpark_spark::files::project(lines, &Projection::Field(zpark::Field::word(4)?));
/// assert!(words.is_some());
/// # Ok::<_, zpark::Error>(())
/// ```
pub fn project(input: Relation, projection: &Projection) -> Option<Relation> {
    Some(crate::relation::project(
        input,
        vec![alias(expression_of(projection)?, VALUE)],
    ))
}

/// True when Spark has an expression for `projection`.
///
/// # Examples
///
/// ```
/// use zpark::engine::Projection;
/// assert!(zpark_spark::files::has_expression(&Projection::Field(zpark::Field::csv(2)?)));
/// assert!(zpark_spark::files::has_expression(&Projection::Int));
/// # Ok::<_, zpark::Error>(())
/// ```
pub fn has_expression(projection: &Projection) -> bool {
    expression_of(projection).is_some()
}

fn expression_of(projection: &Projection) -> Option<proto::Expression> {
    match projection {
        Projection::Field(field) => field_expression(field),
        Projection::Int => Some(try_cast(column(VALUE), "bigint")),
        Projection::Float => Some(try_cast(column(VALUE), "double")),
        _ => None,
    }
}

/// `try_cast(expr AS type)`: null where the text is not a value of the type.
fn try_cast(expr: proto::Expression, type_str: &str) -> proto::Expression {
    expression(ExprType::Cast(Box::new(proto::expression::Cast {
        expr: Some(Box::new(expr)),
        cast_to_type: Some(proto::expression::cast::CastToType::TypeStr(type_str.to_string())),
        eval_mode: proto::expression::cast::EvalMode::Try as i32,
    })))
}

fn field_expression(field: &Field) -> Option<proto::Expression> {
    let line = column(VALUE);
    Some(match field {
        Field::Line => line,
        Field::Word(n) => word(line, *n),
        Field::Json(key) => call("get_json_object", vec![line, string(&json_path(key))]),
        Field::Csv(n) => {
            let schema: Vec<String> = (1..=*n).map(|i| format!("c{i} STRING")).collect();
            // RFC 4180 quotes, as the csv crate reads them: `""` in a quoted column is one `"`
            // (Spark's own default escapes with a backslash).
            let options = call("map", vec![string("escape"), string("\"")]);
            let record = call("from_csv", vec![line, string(&schema.join(", ")), options]);
            expression(ExprType::UnresolvedExtractValue(Box::new(
                proto::expression::UnresolvedExtractValue {
                    child: Some(Box::new(record)),
                    extraction: Some(Box::new(string(&format!("c{n}")))),
                },
            )))
        }
        _ => return None,
    })
}

/// Word `n` of `line`, by awk's rules: one pass of one regular expression, no array per line;
/// '' (no match) is no value. Row 16 measured it against the forms that give the same words:
/// 8.7–9.4 s (slices of 100 ms), against 16.0 s for `split(regexp_replace(...))`, 14.2 s for
/// `split(ltrim(...), .., n + 1)` and 24.2 s for a fast path of string functions for lines with
/// single spaces.
fn word(line: proto::Expression, n: usize) -> proto::Expression {
    let pattern = format!("^[ \\t]*(?:[^ \\t]+[ \\t]+){{{}}}([^ \\t]+)", n - 1);
    let word = call("regexp_extract", vec![line, string(&pattern), integer(1)]);
    call("nullif", vec![word, string("")])
}

/// `$.key` for a plain key, `$['key']` for any other (`Field::json` refuses `'` and `]`).
fn json_path(key: &str) -> String {
    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("$.{key}")
    } else {
        format!("$['{key}']")
    }
}

fn integer(n: usize) -> proto::Expression {
    expression(ExprType::Literal(proto::expression::Literal {
        literal_type: Some(proto::expression::literal::LiteralType::Integer(
            i32::try_from(n).unwrap_or(i32::MAX),
        )),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::{json_path, server_path};

    #[test]
    fn urls_are_kept_and_relative_paths_made_absolute() {
        assert_eq!(server_path("hdfs://nn/logs/*.log".as_ref()), "hdfs://nn/logs/*.log");
        assert!(server_path("a.log".as_ref()).starts_with('/'));
    }

    #[test]
    fn keys_are_quoted_when_they_are_not_plain() {
        assert_eq!(json_path("action"), "$.action");
        assert_eq!(json_path("user.name"), "$['user.name']");
    }
}
