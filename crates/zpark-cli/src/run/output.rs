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

pub struct Writer {
    out: BufWriter<Stdout>,
    format: OutputFormat,
    event_time: bool,
}

impl Writer {
    pub fn new(format: OutputFormat, event_time: bool) -> Writer {
        Writer {
            out: BufWriter::new(std::io::stdout()),
            format,
            event_time,
        }
    }

    pub fn write(&mut self, time: SliceTime, rows: &[Row]) -> std::io::Result<()> {
        let time_text = if self.event_time {
            format_time(time.as_duration())
        } else {
            time.to_string()
        };
        for row in rows {
            match self.format {
                OutputFormat::Text => match row {
                    Row::Count(n) => writeln!(self.out, "{time_text}\t{n}")?,
                    Row::Value(v) => writeln!(self.out, "{time_text}\t{v}")?,
                    Row::ValueCount(v, n) => writeln!(self.out, "{time_text}\t{v}\t{n}")?,
                },
                OutputFormat::Json => {
                    let mut object = serde_json::Map::new();
                    object.insert("time".into(), time_text.clone().into());
                    object.insert("seconds".into(), time.as_duration().as_secs_f64().into());
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
                    writeln!(self.out, "{}", serde_json::Value::Object(object))?;
                }
            }
        }
        self.out.flush()
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
