//! [`Field`]: a field of a line of text, taken the same way by every engine: in Rust on the
//! embedded engine, as a Spark expression on Spark (`Rdd::field`), so that a slice's rows can
//! be cut into fields where they are read.

use std::fmt;

use crate::error::{Error, Result};

/// Which field of a line to take: a word (awk's fields), a key of a JSON object, or a column
/// of a CSV line. A line without it gives no value (`None`), never an error: what to do with
/// such lines (count them, drop them) is the pipeline's choice.
///
/// The rules, the same on every engine:
///
/// - [`Field::Line`]: the whole line, always a value (an empty line is `""`). On Spark: `value`.
/// - [`Field::word`]`(n)`: the `n`-th run of characters other than spaces and tabs (from 1),
///   as awk's `$n` with its default separator. On Spark:
///   `nullif(regexp_extract(value, '^[ \t]*(?:[^ \t]+[ \t]+){n-1}([^ \t]+)', 1), '')`.
/// - [`Field::json`]`(key)`: the value of `key` in a line that is a JSON object; a string as
///   its text, a whole number or `true`/`false` as written, an object or array as compact
///   JSON; no value for `null`, a missing key or a line that is not a JSON object. On Spark:
///   `get_json_object(value, '$.key')`. (Numbers with a fraction or an exponent may be
///   written differently by the two engines; parse them before comparing.)
/// - [`Field::csv`]`(n)`: the `n`-th column (from 1) of a line read as one CSV record (commas,
///   double quotes); an empty column is no value, as Spark's CSV reader reads it. On Spark:
///   `from_csv(value, 'c1 STRING, ..., cn STRING', map('escape', '"')).cn`.
///
/// # Examples
///
/// ```
/// use zpark::Field;
///
/// let word = Field::word(3)?;
/// assert_eq!(word.of("2025-06-24 10:00:01 status installed"), Some("status".to_string()));
/// assert_eq!(word.of("too short"), None);
///
/// let action = Field::json("action")?;
/// assert_eq!(action.of(r#"{"action": "install", "n": 3}"#), Some("install".to_string()));
/// assert_eq!(action.of("not json"), None);
///
/// let second = Field::csv(2)?;
/// assert_eq!(second.of(r#"1,"a, b",c"#), Some("a, b".to_string()));
/// assert_eq!(second.of("1,,c"), None);
/// # Ok::<_, zpark::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The n-th word (from 1), words separated by runs of spaces and tabs.
    Word(usize),
    /// The value of a key of a JSON object.
    Json(String),
    /// The n-th column (from 1) of a CSV record.
    Csv(usize),
    /// The whole line, as it is (an empty line too).
    Line,
}

impl Field {
    /// The `n`-th word of a line (from 1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for 0: words count from 1.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(zpark::Field::word(0).is_err());
    /// ```
    pub fn word(n: usize) -> Result<Field> {
        position(n, "Field::word").map(Field::Word)
    }

    /// The value of `key` in a line that is a JSON object.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty key, or one holding a `'` or a `]` (which a
    /// JSON path cannot quote).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Field::json("user.name")?.of(r#"{"user.name": "ann"}"#).as_deref(), Some("ann"));
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn json(key: &str) -> Result<Field> {
        if key.is_empty() || key.contains(['\'', ']']) {
            return Err(Error::InvalidArgument {
                operation: "Field::json",
                problem: format!("the key {key:?} cannot be named on every engine"),
                allowed: "a key that is not empty and holds no ' or ]",
            });
        }
        Ok(Field::Json(key.to_string()))
    }

    /// The `n`-th column of a CSV line (from 1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for 0: columns count from 1.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Field::csv(1)?.of("a,b").as_deref(), Some("a"));
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn csv(n: usize) -> Result<Field> {
        position(n, "Field::csv").map(Field::Csv)
    }

    /// The field of `line`, or `None` when the line has none (see the rules above).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::Field::word(1)?.of("\t first second").as_deref(), Some("first"));
    /// # Ok::<_, zpark::Error>(())
    /// ```
    pub fn of(&self, line: &str) -> Option<String> {
        match self {
            Field::Word(n) => {
                crate::awk_fields::nth_field(line.as_bytes(), *n).map(|word| String::from_utf8_lossy(word).into_owned())
            }
            Field::Json(key) => json_value(line, key),
            Field::Csv(n) => csv_column(line, *n),
            Field::Line => Some(line.to_string()),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Word(n) => write!(f, "word {n}"),
            Field::Json(key) => write!(f, "JSON key {key:?}"),
            Field::Csv(n) => write!(f, "CSV column {n}"),
            Field::Line => write!(f, "whole line"),
        }
    }
}

fn position(n: usize, operation: &'static str) -> Result<usize> {
    if n == 0 {
        return Err(Error::InvalidArgument {
            operation,
            problem: "position 0".to_string(),
            allowed: "positions count from 1",
        });
    }
    Ok(n)
}

/// The value of `key` in `line` as text, when `line` is a JSON object that has it.
fn json_value(line: &str, key: &str) -> Option<String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).ok()?;
    match object.get(key)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Column `n` (from 1) of `line` read as one CSV record; `None` when missing or empty.
fn csv_column(line: &str, n: usize) -> Option<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let record = reader.records().next()?.ok()?;
    record
        .get(n - 1)
        .filter(|column| !column.is_empty())
        .map(str::to_string)
}

/// A whole number as every engine reads it (Spark's `try_cast(... AS BIGINT)`): blanks around
/// it, an optional sign, digits; `None` for anything else (`"1.5"`, `"x"`, past `i64`).
///
/// # Examples
///
/// ```
/// assert_eq!(zpark::parse_int(" +42 "), Some(42));
/// assert_eq!(zpark::parse_int("1.5"), None);
/// ```
pub fn parse_int(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// A floating-point number as every engine reads it (Spark's `try_cast(... AS DOUBLE)`):
/// blanks around it, decimals, an exponent; `None` for text that is not a number (other
/// spellings, such as `inf`, may be read differently by the two engines).
///
/// # Examples
///
/// ```
/// assert_eq!(zpark::parse_float(" 2e3"), Some(2000.0));
/// assert_eq!(zpark::parse_float("x"), None);
/// ```
pub fn parse_float(text: &str) -> Option<f64> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn words_are_awks_fields() {
        let third = Field::word(3).unwrap();
        assert_eq!(third.of("a  b\t\tc d").as_deref(), Some("c"));
        assert_eq!(third.of("a b").as_deref(), None);
        assert_eq!(third.of("a b ").as_deref(), None, "a trailing blank is no field");
        assert_eq!(Field::word(1).unwrap().of("").as_deref(), None);
        assert_eq!(Field::word(1).unwrap().of("   ").as_deref(), None);
    }

    #[test]
    fn json_values_are_their_text() {
        let n = Field::json("n").unwrap();
        assert_eq!(n.of(r#"{"n": 12}"#).as_deref(), Some("12"));
        assert_eq!(n.of(r#"{"n": true}"#).as_deref(), Some("true"));
        assert_eq!(n.of(r#"{"n": null}"#).as_deref(), None);
        assert_eq!(n.of(r#"{"n": {"a": [1, 2]}}"#).as_deref(), Some(r#"{"a":[1,2]}"#));
        assert_eq!(n.of(r#"[1]"#).as_deref(), None);
        assert!(Field::json("").is_err());
        assert!(Field::json("a'b").is_err());
    }

    #[test]
    fn csv_columns_follow_quotes_and_empty_is_none() {
        let second = Field::csv(2).unwrap();
        assert_eq!(second.of(r#"x,"say ""hi""",z"#).as_deref(), Some(r#"say "hi""#));
        assert_eq!(second.of("x").as_deref(), None);
        assert_eq!(second.of("x,").as_deref(), None);
    }
}
