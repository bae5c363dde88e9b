//! Writing results: `LABEL<TAB>...` text lines or JSON objects, flushed after every slice.

use std::io::{BufWriter, Stdout, Write};
use std::time::Duration;

use anyhow::Context;
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

/// Which slice or window the result lines are of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label {
    /// The slice's number (a window's, for windows), from 1.
    pub slice: u64,
    pub span: Span,
}

/// Where a slice or window starts and ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    /// On the clock, since the run started (`--every`): text shows the end.
    Clock { start: Duration, end: Duration },
    /// In the data's time (`--event-time`), since the epoch: text shows the end, RFC 3339.
    EventTime { start: Duration, end: Duration },
    /// A slice of records (`--count`, `--within`, `--by`): its first and last line of input
    /// (none for an empty slice); text shows the slice's number.
    Lines(Option<(u64, u64)>),
}

impl Label {
    /// The label of a slice or window on the clock or in event time that ends at `end` and
    /// spans `span`.
    pub fn timed(slice: u64, end: SliceTime, span: Duration, event_time: bool) -> Label {
        let end = end.as_duration();
        let start = end.saturating_sub(span);
        let span = if event_time {
            Span::EventTime { start, end }
        } else {
            Span::Clock { start, end }
        };
        Label { slice, span }
    }

    /// What text output shows in its first column.
    fn text(&self) -> String {
        match self.span {
            Span::Clock { end, .. } => SliceTime::new(end).to_string(),
            Span::EventTime { end, .. } => format_time(end),
            Span::Lines(_) => self.slice.to_string(),
        }
    }

    /// The start and end as text output shows them.
    fn text_span(&self) -> (String, String) {
        match self.span {
            Span::Clock { start, end } => (SliceTime::new(start).to_string(), SliceTime::new(end).to_string()),
            Span::EventTime { start, end } => (format_time(start), format_time(end)),
            Span::Lines(Some((first, last))) => (first.to_string(), last.to_string()),
            Span::Lines(None) => (String::new(), String::new()),
        }
    }

    /// The label's fields of a JSON object.
    fn json(&self, object: &mut serde_json::Map<String, serde_json::Value>) {
        object.insert("slice".into(), self.slice.into());
        let (start, end) = match self.span {
            Span::Clock { start, end } => (start.as_secs_f64().into(), end.as_secs_f64().into()),
            Span::EventTime { start, end } => (format_time(start).into(), format_time(end).into()),
            Span::Lines(Some((first, last))) => (first.into(), last.into()),
            Span::Lines(None) => (serde_json::Value::Null, serde_json::Value::Null),
        };
        object.insert("start".into(), start);
        object.insert("end".into(), end);
    }
}

/// Turns rows into output lines.
#[derive(Debug, Clone, Copy)]
pub struct Formatter {
    format: OutputFormat,
    /// Marks the lines as those of a slice cut short and not committed: text labels end with
    /// ` (partial)`, JSON objects have `"partial":true`.
    partial: bool,
}

impl Formatter {
    pub fn new(format: OutputFormat) -> Formatter {
        Formatter { format, partial: false }
    }

    /// The same format, its lines marked as those of a slice cut short (not committed).
    pub fn partial(self) -> Formatter {
        Formatter { partial: true, ..self }
    }

    pub fn lines(&self, label: Label, rows: &[Row]) -> Vec<String> {
        let mut text = label.text();
        if self.partial {
            text.push_str(" (partial)");
        }
        rows.iter()
            .map(|row| match self.format {
                OutputFormat::Text => match row {
                    Row::Count(n) => format!("{text}\t{n}"),
                    Row::Value(v) => format!("{text}\t{v}"),
                    Row::ValueCount(v, n) => format!("{text}\t{v}\t{n}"),
                },
                OutputFormat::Json => json_line(label, row, self.partial),
            })
            .collect()
    }
}

impl Formatter {
    /// The lines of a key's session that spans `span`: text `KEY<TAB>START<TAB>END<TAB>...`,
    /// JSON with `key`, `start` and `end`.
    pub fn session_lines(&self, key: &Value, span: Span, rows: &[Row]) -> Vec<String> {
        let label = Label { slice: 0, span };
        rows.iter()
            .map(|row| match self.format {
                OutputFormat::Text => {
                    let (start, end) = label.text_span();
                    let result = match row {
                        Row::Count(n) => n.to_string(),
                        Row::Value(v) => v.to_string(),
                        Row::ValueCount(v, n) => format!("{v}\t{n}"),
                    };
                    format!("{key}\t{start}\t{end}\t{result}")
                }
                OutputFormat::Json => {
                    let mut object = json_object(label, row, self.partial);
                    object.remove("slice");
                    object.insert("key".into(), key.to_json());
                    serde_json::Value::Object(object).to_string()
                }
            })
            .collect()
    }
}

fn json_line(label: Label, row: &Row, partial: bool) -> String {
    serde_json::Value::Object(json_object(label, row, partial)).to_string()
}

fn json_object(label: Label, row: &Row, partial: bool) -> serde_json::Map<String, serde_json::Value> {
    let mut object = serde_json::Map::new();
    label.json(&mut object);
    if partial {
        object.insert("partial".into(), true.into());
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
    object
}

/// Result lines to standard output, flushed after every slice.
pub struct Writer {
    out: BufWriter<Stdout>,
    formatter: Formatter,
}

impl Writer {
    pub fn new(format: OutputFormat) -> Writer {
        Writer {
            out: BufWriter::new(std::io::stdout()),
            formatter: Formatter::new(format),
        }
    }

    pub fn write(&mut self, label: Label, rows: &[Row]) -> anyhow::Result<()> {
        for line in self.formatter.lines(label, rows) {
            writeln!(self.out, "{line}").context(WRITE_FAILED)?;
        }
        self.flush()
    }

    /// Lines made by a [`Formatter`], then a flush.
    pub fn write_lines(&mut self, lines: &[String]) -> anyhow::Result<()> {
        for line in lines {
            writeln!(self.out, "{line}").context(WRITE_FAILED)?;
        }
        self.flush()
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush().context(WRITE_FAILED)
    }
}

const WRITE_FAILED: &str = "cannot write the results to standard output";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_its_slice_start_and_end_in_json() {
        let formatter = Formatter::new(OutputFormat::Json);
        let row = [Row::Count(3)];
        let clock = Label::timed(2, SliceTime::from_millis(2000), Duration::from_secs(1), false);
        let line: serde_json::Value = serde_json::from_str(&formatter.lines(clock, &row)[0]).unwrap();
        assert_eq!(
            (line["slice"].as_u64(), line["start"].as_f64(), line["end"].as_f64()),
            (Some(2), Some(1.0), Some(2.0))
        );
        let lines = Label {
            slice: 4,
            span: Span::Lines(Some((31, 40))),
        };
        let line: serde_json::Value = serde_json::from_str(&formatter.lines(lines, &row)[0]).unwrap();
        assert_eq!((line["start"].as_u64(), line["end"].as_u64()), (Some(31), Some(40)));
        let event = Label::timed(1, SliceTime::from_millis(2000), Duration::from_secs(1), true);
        let line: serde_json::Value = serde_json::from_str(&formatter.lines(event, &row)[0]).unwrap();
        assert_eq!(line["start"], "1970-01-01T00:00:01.000Z");
        assert_eq!(Formatter::new(OutputFormat::Text).lines(lines, &row), vec!["4\t3"]);
    }
}
