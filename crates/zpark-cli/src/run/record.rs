//! Records: a line of the input turned into the value to aggregate (and its key and time).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    Int(i64),
    Float(f64),
    Str(String),
}

impl Value {
    fn rank(&self) -> u8 {
        match self {
            Value::Int(_) => 0,
            Value::Float(_) => 1,
            Value::Str(_) => 2,
        }
    }

    /// The sum of two numbers (an integer sum stays an integer while it fits).
    pub fn add(self, other: Value) -> Value {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.checked_add(b).map_or(Value::Float(a as f64 + b as f64), Value::Int),
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

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(n) => serde_json::Value::from(*n),
            Value::Float(x) => serde_json::Value::from(*x),
            Value::Str(s) => serde_json::Value::from(s.as_str()),
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
    pub time: Option<Field>,
    header: Option<Vec<String>>,
}

/// Why a line was refused: the field, and what is wrong with it.
pub type Refusal = String;

impl RecordParser {
    pub fn new(format: Format, field: Option<Field>, parse: Parse, key: Option<Field>, time: Option<Field>) -> Self {
        RecordParser {
            format,
            field,
            parse,
            key,
            time,
            header: None,
        }
    }

    /// The record of a line; `Ok(None)` for lines that hold no record (a blank line, the CSV
    /// header).
    pub fn parse(&mut self, line: &str) -> Result<Option<Record>, Refusal> {
        if line.trim().is_empty() {
            return Ok(None);
        }
        let fields = match self.format {
            Format::Lines => Fields::Words(line.split_whitespace().collect()),
            Format::Csv => {
                let row = csv_row(line)?;
                if self.header.is_none() {
                    self.header = Some(row);
                    return Ok(None);
                }
                Fields::Csv(row)
            }
            Format::Json => Fields::Json(serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?),
        };
        let header = self.header.as_deref();
        let value = match &self.field {
            Some(field) => fields.get(field, header)?,
            None => fields.whole(line),
        };
        let value = typed(&value, self.parse).map_err(|reason| describe(self.field.as_ref(), &reason))?;
        let key = self
            .key
            .as_ref()
            .map(|k| fields.get(k, header).map(Value::Str))
            .transpose()?;
        let time = self
            .time
            .as_ref()
            .map(|t| {
                fields
                    .get(t, header)
                    .and_then(|text| timestamp(&text).map_err(|reason| format!("field `{t}`: {reason}")))
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

enum Fields<'a> {
    Words(Vec<&'a str>),
    Csv(Vec<String>),
    Json(serde_json::Value),
}

impl Fields<'_> {
    fn whole(&self, line: &str) -> String {
        line.to_string()
    }

    fn get(&self, field: &Field, header: Option<&[String]>) -> Result<String, Refusal> {
        let missing = |count: usize| format!("field `{field}`: no such field (the record has {count})");
        match (self, field) {
            (Fields::Words(words), Field::Position(n)) => words
                .get(n - 1)
                .map(|w| (*w).to_string())
                .ok_or_else(|| missing(words.len())),
            (Fields::Words(_), Field::Name(_)) => {
                Err(format!("field `{field}`: plain lines have no names, use a position"))
            }
            (Fields::Csv(row), Field::Position(n)) => row.get(n - 1).cloned().ok_or_else(|| missing(row.len())),
            (Fields::Csv(row), Field::Name(name)) => {
                let index = header.and_then(|h| h.iter().position(|column| column == name));
                let index = index.ok_or_else(|| format!("field `{field}`: no such column in the header"))?;
                row.get(index).cloned().ok_or_else(|| missing(row.len()))
            }
            (Fields::Json(object), Field::Name(name)) => match object.get(name) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(other) => Ok(other.to_string()),
                None => Err(format!("field `{field}`: no such key")),
            },
            (Fields::Json(_), Field::Position(_)) => Err(format!("field `{field}`: JSON fields are named, use a key")),
        }
    }
}

fn csv_row(line: &str) -> Result<Vec<String>, Refusal> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) => Ok(record.iter().map(str::to_string).collect()),
        Some(Err(e)) => Err(format!("not a CSV row: {e}")),
        None => Ok(Vec::new()),
    }
}

fn typed(text: &str, parse: Parse) -> Result<Value, Refusal> {
    let text = text.trim();
    match parse {
        Parse::String => Ok(Value::Str(text.to_string())),
        Parse::Int => text
            .parse()
            .map(Value::Int)
            .map_err(|e| format!("not an integer ({e})")),
        Parse::Float => text
            .parse()
            .map(Value::Float)
            .map_err(|e| format!("not a number ({e})")),
    }
}

/// A timestamp: seconds since the Unix epoch (fractions allowed) or RFC 3339.
pub fn timestamp(text: &str) -> Result<Duration, Refusal> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|e| format!("not a time ({e})"));
    }
    let when = humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("not a time: expected seconds since the epoch or RFC 3339 ({e})"))?;
    when.duration_since(UNIX_EPOCH)
        .map_err(|_| "a time before 1970".to_string())
}

/// An event time as RFC 3339.
pub fn format_time(offset: Duration) -> String {
    humantime::format_rfc3339_millis(SystemTime::UNIX_EPOCH + offset).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_position_name_and_key() {
        let mut lines = RecordParser::new(Format::Lines, Some(Field::Position(2)), Parse::Int, None, None);
        assert_eq!(lines.parse("a 42 c").unwrap().unwrap().value, Value::Int(42));
        assert!(lines.parse("a").unwrap_err().contains("field `2`: no such field"));
        let mut csv = RecordParser::new(Format::Csv, Some(Field::Name("n".into())), Parse::Float, None, None);
        assert!(csv.parse("name,n").unwrap().is_none());
        assert_eq!(csv.parse("\"x, y\",2.5").unwrap().unwrap().value, Value::Float(2.5));
        let mut json = RecordParser::new(
            Format::Json,
            Some(Field::Name("user".into())),
            Parse::String,
            None,
            Some(Field::Name("t".into())),
        );
        let record = json
            .parse(r#"{"user":"ann","t":"2026-01-01T00:00:01Z"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(record.value, Value::Str("ann".into()));
        assert_eq!(record.time, Some(Duration::from_secs(1_767_225_601)));
    }

    #[test]
    fn values_add_and_order() {
        assert_eq!(Value::Int(2).add(Value::Int(3)), Value::Int(5));
        assert_eq!(Value::Int(2).add(Value::Float(0.5)), Value::Float(2.5));
        assert!(Value::Int(9) < Value::Float(0.0));
    }
}
