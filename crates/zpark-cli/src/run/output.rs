//! Writing results: `TIME<TAB>...` text lines or JSON objects, flushed after every slice.

use std::io::{BufWriter, Stdout, Write};

use zpark::SliceTime;

use super::record::{format_time, Value};
use super::OutputFormat;

/// One result line.
#[derive(Debug)]
pub enum Row {
    Count(u64),
    Value(Value),
    ValueCount(Value, u64),
}

/// How a slice or window is labelled on its result lines.
#[derive(Debug, Clone, Copy)]
pub enum Label {
    /// A time on the clock since the start.
    Clock(SliceTime),
    /// A time in the data (seconds since the epoch), printed as RFC 3339.
    EventTime(SliceTime),
    /// The number of a slice of records (checkpointed runs sliced by --count).
    Slice(u64),
}

/// Turns rows into output lines.
#[derive(Debug, Clone, Copy)]
pub struct Formatter {
    format: OutputFormat,
}

impl Formatter {
    pub fn new(format: OutputFormat) -> Formatter {
        Formatter { format }
    }

    pub fn lines(&self, label: Label, rows: &[Row]) -> Vec<String> {
        let (text, seconds) = match label {
            Label::Clock(time) => (time.to_string(), Some(time.as_duration().as_secs_f64())),
            Label::EventTime(time) => (format_time(time.as_duration()), Some(time.as_duration().as_secs_f64())),
            Label::Slice(n) => (n.to_string(), None),
        };
        rows.iter()
            .map(|row| match self.format {
                super::OutputFormat::Text => match row {
                    Row::Count(n) => format!("{text}\t{n}"),
                    Row::Value(v) => format!("{text}\t{v}"),
                    Row::ValueCount(v, n) => format!("{text}\t{v}\t{n}"),
                },
                super::OutputFormat::Json => json_line(label, &text, seconds, row),
            })
            .collect()
    }
}

fn json_line(label: Label, text: &str, seconds: Option<f64>, row: &Row) -> String {
    let mut object = serde_json::Map::new();
    match label {
        Label::Slice(n) => {
            object.insert("slice".into(), n.into());
        }
        _ => {
            object.insert("time".into(), text.into());
        }
    }
    if let Some(seconds) = seconds {
        object.insert("seconds".into(), seconds.into());
    }
    match row {
        Row::Count(n) => {
            object.insert("count".into(), (*n).into());
        }
        Row::Value(v) => {
            object.insert("value".into(), v.to_json());
        }
        Row::ValueCount(v, n) => {
            object.insert("value".into(), v.to_json());
            object.insert("count".into(), (*n).into());
        }
    }
    serde_json::Value::Object(object).to_string()
}

pub struct Writer {
    out: BufWriter<Stdout>,
    formatter: Formatter,
    event_time: bool,
}

impl Writer {
    pub fn new(format: OutputFormat, event_time: bool) -> Writer {
        Writer {
            out: BufWriter::new(std::io::stdout()),
            formatter: Formatter::new(format),
            event_time,
        }
    }

    pub fn write(&mut self, time: SliceTime, rows: &[Row]) -> std::io::Result<()> {
        let label = if self.event_time {
            Label::EventTime(time)
        } else {
            Label::Clock(time)
        };
        for line in self.formatter.lines(label, rows) {
            writeln!(self.out, "{line}")?;
        }
        self.out.flush()
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
