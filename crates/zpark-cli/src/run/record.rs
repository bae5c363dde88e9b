//! Records: a line of the input turned into the value to aggregate (and its key and time).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime};

use super::text::Text;
use super::time_format::TimeFormat;

/// How a line is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text; `--field N` takes the N-th whitespace-separated word (from 1).
    Lines,
    /// Comma-separated values; the first line is the header, `--field` takes a name or a
    /// position (from 1).
    Csv,
    /// One JSON object per line; `--field` takes a key.
    Json,
    /// Parquet files, for a directory input only: each record is read as one JSON object of
    /// its columns (`zpark::Engine::parquet_files`), and `--field` takes a column's name.
    Parquet,
}

/// How a field is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Parse {
    /// A whole number (i64).
    Int,
    /// A floating-point number (f64).
    Float,
    /// Text, as is.
    String,
}

/// A field: by position (from 1) or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Position(usize),
    Name(String),
}

impl std::str::FromStr for Field {
    type Err = String;

    fn from_str(text: &str) -> Result<Field, String> {
        match text.parse::<usize>() {
            Ok(0) => Err("positions count from 1".to_string()),
            Ok(n) => Ok(Field::Position(n)),
            Err(_) if text.is_empty() => Err("a field needs a name or a position".to_string()),
            Err(_) => Ok(Field::Name(text.to_string())),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Position(n) => write!(f, "{n}"),
            Field::Name(name) => write!(f, "{name}"),
        }
    }
}

/// A typed value: what the operations count, add and compare (and what a checkpoint saves of
/// a window).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Value {
    /// A whole number: parsed as an i64, summed exactly in an i128 (2^64 records of i64::MAX
    /// would be needed to overflow it).
    Int(i128),
    Float(f64),
    Str(Text),
}

impl Value {
    fn rank(&self) -> u8 {
        match self {
            Value::Int(_) => 0,
            Value::Float(_) => 1,
            Value::Str(_) => 2,
        }
    }

    /// The sum of two numbers: integers stay exact integers, a float makes the sum a float.
    pub fn add(self, other: Value) -> Value {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Value::Int(a.saturating_add(b)),
            (a, b) => Value::Float(a.as_f64() + b.as_f64()),
        }
    }

    fn as_f64(&self) -> f64 {
        match self {
            Value::Int(n) => *n as f64,
            Value::Float(x) => *x,
            Value::Str(_) => f64::NAN,
        }
    }

    /// The value as JSON: an integer past what a JSON number of 64 bits holds is written as a
    /// string of its exact digits; text that is not UTF-8 has its bad bytes as `\xNN`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(n) => serde_json::Number::from_i128(*n)
                .map_or_else(|| serde_json::Value::from(n.to_string()), serde_json::Value::Number),
            Value::Float(x) => serde_json::Value::from(*x),
            Value::Str(s) => s.to_json(),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Int(n) => (0u8, n).hash(state),
            Value::Float(x) => (1u8, x.to_bits()).hash(state),
            Value::Str(s) => (2u8, s).hash(state),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s}"),
        }
    }
}

/// One parsed record.
#[derive(Debug, Clone)]
pub struct Record {
    pub value: Value,
    pub key: Option<Value>,
    pub time: Option<Duration>,
}

/// Turns lines into records; keeps the CSV header.
#[derive(Debug)]
pub struct RecordParser {
    pub format: Format,
    pub field: Option<Field>,
    pub parse: Parse,
    pub key: Option<Field>,
    pub time: Option<(Field, TimeFormat)>,
    header: Option<Vec<Vec<u8>>>,
}

/// Why a line was refused: the field, and what is wrong with it.
pub type Refusal = String;

impl RecordParser {
    pub fn new(
        format: Format,
        field: Option<Field>,
        parse: Parse,
        key: Option<Field>,
        time: Option<(Field, TimeFormat)>,
    ) -> Self {
        RecordParser {
            format,
            field,
            parse,
            key,
            time,
            header: None,
        }
    }

    /// Whether every line is a record as it is (`uniq -c`): plain lines, no field asked for.
    fn whole_lines(&self) -> bool {
        self.format == Format::Lines && self.field.is_none() && self.key.is_none() && self.time.is_none()
    }

    /// The record of a line; `Ok(None)` for lines that hold no record: the CSV header, and a
    /// blank line (spaces and tabs only) when fields are asked for or the format is CSV or JSON.
    /// In whole-line mode every line is a record, blank ones and their spaces included.
    pub fn parse(&mut self, line: &[u8]) -> Result<Option<Record>, Refusal> {
        if self.whole_lines() {
            return Ok(Some(Record {
                value: typed(line, self.parse, true).map_err(|reason| describe(None, &reason))?,
                key: None,
                time: None,
            }));
        }
        if line.iter().all(|b| *b == b' ' || *b == b'\t') {
            return Ok(None);
        }
        let fields = match self.format {
            Format::Lines => Fields::Words(words(line)),
            Format::Csv => {
                let row = csv_row(line)?;
                if self.header.is_none() {
                    self.header = Some(row);
                    return Ok(None);
                }
                Fields::Csv(row)
            }
            Format::Json | Format::Parquet => {
                Fields::Json(serde_json::from_slice(line).map_err(|e| format!("not a JSON object: {e}"))?)
            }
        };
        let header = self.header.as_deref();
        let value = match &self.field {
            Some(field) => {
                let text = fields.get(field, header, 1)?;
                typed(&text, self.parse, false).map_err(|reason| describe(Some(field), &reason))?
            }
            None => typed(line, self.parse, true).map_err(|reason| describe(None, &reason))?,
        };
        let key = self
            .key
            .as_ref()
            .map(|k| fields.get(k, header, 1).map(|text| Value::Str(Text::new(text))))
            .transpose()?;
        let time = self
            .time
            .as_ref()
            .map(|(field, format)| {
                let text = fields.get(field, header, format.words())?;
                let text = std::str::from_utf8(&text).map_err(|_| format!("field `{field}`: not UTF-8"))?;
                format
                    .parse(text)
                    .map_err(|reason| format!("field `{field}`: {reason}"))
            })
            .transpose()?;
        Ok(Some(Record { value, key, time }))
    }
}

fn describe(field: Option<&Field>, reason: &str) -> String {
    match field {
        Some(field) => format!("field `{field}`: {reason}"),
        None => reason.to_string(),
    }
}

/// The words of a plain line as awk splits them by default: runs of spaces and tabs separate
/// them, and leading and trailing ones are ignored.
fn words(line: &[u8]) -> Vec<&[u8]> {
    line.split(|b| *b == b' ' || *b == b'\t')
        .filter(|word| !word.is_empty())
        .collect()
}

enum Fields<'a> {
    Words(Vec<&'a [u8]>),
    Csv(Vec<Vec<u8>>),
    Json(serde_json::Map<String, serde_json::Value>),
}

impl Fields<'_> {
    /// The field's bytes; `words` consecutive words from it for plain lines (a time written
    /// with spaces), joined by one space.
    fn get(&self, field: &Field, header: Option<&[Vec<u8>]>, words: usize) -> Result<Vec<u8>, Refusal> {
        let missing = |count: usize| format!("field `{field}`: no such field (the record has {count})");
        match (self, field) {
            (Fields::Words(all), Field::Position(n)) => all
                .get(n - 1..n - 1 + words)
                .map(|taken| taken.join(&b' '))
                .ok_or_else(|| missing(all.len())),
            (Fields::Words(_), Field::Name(_)) => {
                Err(format!("field `{field}`: plain lines have no names, use a position"))
            }
            (Fields::Csv(row), Field::Position(n)) => row.get(n - 1).cloned().ok_or_else(|| missing(row.len())),
            (Fields::Csv(row), Field::Name(name)) => {
                let index = header.and_then(|h| h.iter().position(|column| column == name.as_bytes()));
                let index = index.ok_or_else(|| format!("field `{field}`: no such column in the header"))?;
                row.get(index).cloned().ok_or_else(|| missing(row.len()))
            }
            (Fields::Json(object), Field::Name(name)) => json_value(object.get(name.as_str()), field),
            (Fields::Json(_), Field::Position(_)) => Err(format!("field `{field}`: JSON fields are named, use a key")),
        }
    }
}

/// The text of a JSON field: a string as it is, another value as JSON; null and a missing key
/// are missing values.
fn json_value(value: Option<&serde_json::Value>, field: &Field) -> Result<Vec<u8>, Refusal> {
    match value {
        Some(serde_json::Value::String(s)) => Ok(s.clone().into_bytes()),
        Some(serde_json::Value::Null) => Err(format!("field `{field}`: null (a missing value)")),
        Some(other) => Ok(other.to_string().into_bytes()),
        None => Err(format!("field `{field}`: no such key (a missing value)")),
    }
}

/// The text of `field` of a line that is a JSON object: borrowed from the line when it is a
/// string without escapes. The object is read once, its other values skipped unparsed.
pub fn json_field<'a>(line: &'a [u8], field: &Field) -> Result<Cow<'a, [u8]>, Refusal> {
    let Field::Name(name) = field else {
        return Err(format!("field `{field}`: JSON fields are named, use a key"));
    };
    let not_an_object = |e: serde_json::Error| format!("not a JSON object: {e}");
    let mut reader = serde_json::Deserializer::from_slice(line);
    let found = serde::Deserializer::deserialize_map(&mut reader, json::FindKey { name }).map_err(not_an_object)?;
    reader.end().map_err(not_an_object)?;
    match found {
        Some(json::Found::Text(text)) => Ok(text),
        Some(json::Found::Null) => Err(format!("field `{field}`: null (a missing value)")),
        // An object or an array: as JSON, as serde_json writes it.
        Some(json::Found::Nested) => {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(line).map_err(not_an_object)?;
            json_value(object.get(name.as_str()), field).map(Cow::Owned)
        }
        None => Err(format!("field `{field}`: no such key (a missing value)")),
    }
}

/// Finding one key of a JSON object without building the object.
mod json {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    /// What the key holds.
    pub enum Found<'a> {
        Text(Cow<'a, [u8]>),
        Null,
        Nested,
    }

    /// Looks for `name` among an object's keys.
    pub struct FindKey<'n> {
        pub name: &'n str,
    }

    impl<'de> Visitor<'de> for FindKey<'_> {
        type Value = Option<Found<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(wanted) = map.next_key_seed(IsKey(self.name))? {
                // A key given twice: the last value, as serde_json's maps keep it.
                if wanted {
                    found = Some(map.next_value_seed(ValueText)?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    /// Whether a key is the one looked for.
    struct IsKey<'n>(&'n str);

    impl<'de> DeserializeSeed<'de> for IsKey<'_> {
        type Value = bool;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
            deserializer.deserialize_str(self)
        }
    }

    impl<'de> Visitor<'de> for IsKey<'_> {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a key")
        }

        fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
            Ok(key == self.0)
        }
    }

    /// A value as text: a string as it is (borrowed when it can be), a number or a boolean as
    /// serde_json writes it.
    struct ValueText;

    impl<'de> DeserializeSeed<'de> for ValueText {
        type Value = Found<'de>;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found<'de>, D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for ValueText {
        type Value = Found<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Found<'de>, E> {
            Ok(Found::Text(Cow::Borrowed(text.as_bytes())))
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Found<'de>, E> {
            Ok(Found::Text(Cow::Owned(text.as_bytes().to_vec())))
        }

        fn visit_bool<E: de::Error>(self, value: bool) -> Result<Found<'de>, E> {
            Ok(Found::Text(Cow::Owned(value.to_string().into_bytes())))
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Found<'de>, E> {
            Ok(Found::Text(Cow::Owned(value.to_string().into_bytes())))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Found<'de>, E> {
            Ok(Found::Text(Cow::Owned(value.to_string().into_bytes())))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Found<'de>, E> {
            let text = serde_json::Number::from_f64(value).map_or_else(|| value.to_string(), |n| n.to_string());
            Ok(Found::Text(Cow::Owned(text.into_bytes())))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Found<'de>, E> {
            Ok(Found::Null)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found<'de>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Found::Nested)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Found<'de>, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Found::Nested)
        }
    }
}

/// A record for messages: at most 120 characters.
pub fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Field `index` (from 0) of a CSV line: borrowed from the line when it has no quote (such a
/// row is its commas' pieces, RFC 4180), parsed by the `csv` crate otherwise; `None` when the
/// row is shorter, with its field count.
pub fn csv_field(line: &[u8], index: usize) -> Result<Result<Cow<'_, [u8]>, usize>, Refusal> {
    if memchr::memchr(b'"', line).is_none() {
        let mut fields = line.split(|b| *b == b',');
        return Ok(match fields.nth(index) {
            Some(field) => Ok(Cow::Borrowed(field)),
            None => Err(line.split(|b| *b == b',').count()),
        });
    }
    let mut row = csv_row(line)?;
    let count = row.len();
    Ok(if index < count {
        Ok(Cow::Owned(row.swap_remove(index)))
    } else {
        Err(count)
    })
}

pub fn csv_row(line: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line);
    match reader.byte_records().next() {
        Some(Ok(record)) => Ok(record.iter().map(<[u8]>::to_vec).collect()),
        Some(Err(e)) => Err(format!("not a CSV row: {e}")),
        None => Ok(Vec::new()),
    }
}

/// The value of a field (or of a whole line, as it is, when `whole`): text as its bytes (a
/// field without the spaces around it), numbers parsed from UTF-8.
pub fn typed(bytes: &[u8], parse: Parse, whole: bool) -> Result<Value, Refusal> {
    if parse == Parse::String {
        let text = if whole { bytes } else { bytes.trim_ascii() };
        return Ok(Value::Str(Text::new(text)));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not a number: not UTF-8 (byte {})", e.valid_up_to() + 1))?
        .trim();
    match parse {
        Parse::Int => text
            .parse::<i64>()
            .map(|n| Value::Int(i128::from(n)))
            .map_err(|e| format!("not an integer ({e})")),
        _ => text
            .parse()
            .map(Value::Float)
            .map_err(|e| format!("not a number ({e})")),
    }
}

/// An event time as RFC 3339.
pub fn format_time(offset: Duration) -> String {
    humantime::format_rfc3339_millis(SystemTime::UNIX_EPOCH + offset).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Str(Text::new(s))
    }

    #[test]
    fn fields_by_position_name_and_key() {
        let mut lines = RecordParser::new(Format::Lines, Some(Field::Position(2)), Parse::Int, None, None);
        assert_eq!(lines.parse(b"a 42 c").unwrap().unwrap().value, Value::Int(42));
        assert!(lines.parse(b"a").unwrap_err().contains("field `2`: no such field"));
        let mut csv = RecordParser::new(Format::Csv, Some(Field::Name("n".into())), Parse::Float, None, None);
        assert!(csv.parse(b"name,n").unwrap().is_none());
        assert_eq!(csv.parse(b"\"x, y\",2.5").unwrap().unwrap().value, Value::Float(2.5));
        let mut json = RecordParser::new(
            Format::Json,
            Some(Field::Name("user".into())),
            Parse::String,
            None,
            Some((Field::Name("t".into()), TimeFormat::Auto)),
        );
        let record = json
            .parse(br#"{"user":"ann","t":"2026-01-01T01:00:01+01:00"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(record.value, text("ann"));
        assert_eq!(record.time, Some(Duration::from_secs(1_767_225_601)));
    }

    #[test]
    fn whole_lines_are_records_as_they_are() {
        let mut lines = RecordParser::new(Format::Lines, None, Parse::String, None, None);
        assert_eq!(lines.parse(b"").unwrap().unwrap().value, text(""));
        assert_eq!(lines.parse(b"  a  ").unwrap().unwrap().value, text("  a  "));
        assert_eq!(
            lines.parse(b"caf\xe9").unwrap().unwrap().value,
            Value::Str(Text::new(b"caf\xe9".to_vec()))
        );
    }

    #[test]
    fn json_null_and_missing_keys_are_missing_values() {
        let mut json = RecordParser::new(Format::Json, Some(Field::Name("u".into())), Parse::String, None, None);
        assert!(json
            .parse(br#"{"u":null}"#)
            .unwrap_err()
            .contains("null (a missing value)"));
        assert!(json.parse(br#"{"v":1}"#).unwrap_err().contains("no such key"));
    }

    #[test]
    fn numbers_that_are_not_utf8_are_refused_with_the_field() {
        let mut lines = RecordParser::new(Format::Lines, Some(Field::Position(1)), Parse::Int, None, None);
        assert!(lines
            .parse(b"\xff1 x")
            .unwrap_err()
            .contains("field `1`: not a number: not UTF-8"));
    }

    #[test]
    fn a_common_log_time_spans_two_words() {
        let format: TimeFormat = "clf".parse().unwrap();
        let mut lines = RecordParser::new(
            Format::Lines,
            None,
            Parse::String,
            None,
            Some((Field::Position(4), format)),
        );
        let record = lines
            .parse(br#"127.0.0.1 - - [24/Jun/2025:14:36:25 +0000] "GET / HTTP/1.0" 200 5"#)
            .unwrap()
            .unwrap();
        assert_eq!(record.time, Some(Duration::from_secs(1_750_775_785)));
    }

    #[test]
    fn json_fields_are_found_without_building_the_object() {
        let name = Field::Name("k".into());
        let text = |line: &str| json_field(line.as_bytes(), &name).map(|t| String::from_utf8_lossy(&t).into_owned());
        assert_eq!(text(r#"{"a":{"k":1},"k":"v"}"#), Ok("v".into()));
        assert_eq!(text(r#"{"k":"caf\u00e9 \"x\""}"#), Ok("café \"x\"".into()));
        assert_eq!(text(r#"{"k":200}"#), Ok("200".into()));
        assert_eq!(text(r#"{"k":1.5e0}"#), Ok("1.5".into()));
        assert_eq!(text(r#"{"k":true}"#), Ok("true".into()));
        assert_eq!(text(r#"{"k":[1, 2]}"#), Ok("[1,2]".into()));
        assert_eq!(text(r#"{"k":1,"k":2}"#), Ok("2".into()));
        assert!(text(r#"{"k":null}"#).unwrap_err().contains("null"));
        assert!(text(r#"{"j":1}"#).unwrap_err().contains("no such key"));
        assert!(text(r#"{"k":1} x"#).unwrap_err().contains("not a JSON object"));
        assert!(text(r#"[1]"#).unwrap_err().contains("not a JSON object"));
    }

    #[test]
    fn csv_fields_with_and_without_quotes() {
        let field =
            |line: &str, i| csv_field(line.as_bytes(), i).map(|f| f.map(|t| String::from_utf8_lossy(&t).into_owned()));
        assert_eq!(field("a,b,c", 1), Ok(Ok("b".into())));
        assert_eq!(field("a,b,c", 3), Ok(Err(3)));
        assert_eq!(field(r#"a,"b, c",d"#, 1), Ok(Ok("b, c".into())));
        assert_eq!(field(r#"a,"b ""q""",d"#, 1), Ok(Ok(r#"b "q""#.into())));
    }

    #[test]
    fn values_add_exactly_and_order() {
        assert_eq!(Value::Int(2).add(Value::Int(3)), Value::Int(5));
        let big = Value::Int(i128::from(i64::MAX)).add(Value::Int(i128::from(i64::MAX)));
        assert_eq!(big, Value::Int(2 * i128::from(i64::MAX)));
        assert_eq!(big.to_json(), serde_json::Value::from(18_446_744_073_709_551_614u64));
        assert_eq!(Value::Int(2).add(Value::Float(0.5)), Value::Float(2.5));
        assert!(Value::Int(9) < Value::Float(0.0));
    }
}
