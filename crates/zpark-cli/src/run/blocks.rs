//! Records parsed where they are counted: a slice's blocks of lines are split into fields,
//! typed and reduced to the operation's partial result on the engine's workers, one block per
//! task, with keys borrowed from the block while counting.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;
use zpark::{Error, LineBlock};

use super::partial::Partial;
use super::record::{csv_field, json_field, shorten, typed, Field, Format, Parse, Value};
use super::text::Text;
use super::text_counts::TextCounts;
use super::{OnErrorArg, Operation};

/// How many skipped records a block keeps the errors of (the report keeps five in all).
const KEPT_ERRORS: usize = 5;

/// What the workers need to turn a block's lines into a partial result.
#[derive(Debug, Clone)]
pub struct LineParser {
    pub input: Arc<str>,
    pub format: Format,
    pub field: Option<Field>,
    pub parse: Parse,
    pub operation: Operation,
    /// With `--session`: the field whose value is the session's key (`--by-key`); each
    /// block then gives a partial result per key.
    pub key: Option<Field>,
    pub policy: OnErrorArg,
    /// The CSV header: line 1 of the input, taken out of its block and set by
    /// `readable_blocks` before any block after it is parsed.
    pub header: Arc<OnceLock<Vec<Vec<u8>>>>,
}

/// What one block gave: its partial result, and what its records did.
#[derive(Debug, Clone, Default)]
pub struct BlockOutcome {
    /// The block's first and last line.
    pub lines: (u64, u64),
    pub partial: Vec<Partial>,
    /// With a key field: the partial result of each key's records.
    pub keyed: Vec<(Value, Vec<Partial>)>,
    pub records: u64,
    pub rejected: u64,
    /// The block's bytes (its lines with their endings).
    pub bytes: u64,
    /// The first errors of the records skipped.
    pub errors: Vec<Error>,
    /// The record that stopped the block under `--on-error fail`.
    pub failure: Option<Error>,
}

/// The accumulator of one block (or of one key's records in it), per operation.
enum Fold<'a> {
    Count(u64),
    /// Boxed: its slots make it the largest accumulator by far.
    Text(Box<TextCounts<'a>>),
    Values(FxHashMap<Value, u64>),
    Reduce(Option<Value>),
}

impl LineParser {
    /// Whether every line is a record as it is (`uniq -c`).
    fn whole_lines(&self) -> bool {
        self.format == Format::Lines && self.field.is_none()
    }

    /// The word counted of each line when that is all there is to do (`--field N` of plain
    /// lines, as text, no key): such lines take the short way of [`add_word`].
    fn plain_words(&self, fold: &Fold<'_>) -> Option<usize> {
        match (self.format, &self.field, &self.key, fold) {
            (Format::Lines, Some(Field::Position(n)), None, Fold::Text(_)) => Some(*n),
            (Format::Lines, Some(Field::Position(n)), None, Fold::Count(_)) if self.parse == Parse::String => Some(*n),
            _ => None,
        }
    }

    /// The block's partial result and counts.
    pub fn outcome(&self, block: &LineBlock) -> BlockOutcome {
        let mut outcome = BlockOutcome {
            lines: (block.first_line(), block.end().line),
            bytes: block.as_bytes().len() as u64,
            ..BlockOutcome::default()
        };
        let mut fold = self.new_fold();
        let mut keyed: FxHashMap<Value, Fold<'_>> = FxHashMap::default();
        let words = self.plain_words(&fold);
        for (number, line) in (block.first_line()..).zip(block.lines()) {
            if let Some(n) = words {
                if add_word(&mut fold, line, n) {
                    outcome.records += 1;
                    continue;
                }
            }
            let added = match (self.field_of(line), self.key_of(line)) {
                (Ok(Some(text)), Ok(None)) => self.add(&mut fold, text).map_err(|reason| self.describe(&reason)),
                (Ok(Some(text)), Ok(Some(key))) => {
                    let fold = keyed.entry(key).or_insert_with(|| self.new_fold());
                    self.add(fold, text).map_err(|reason| self.describe(&reason))
                }
                (Ok(None), _) => continue,
                (Err(reason), _) | (_, Err(reason)) => Err(reason),
            };
            match added {
                Ok(()) => outcome.records += 1,
                Err(reason) => {
                    let error = Error::Parse {
                        input: self.input.to_string(),
                        line: number,
                        record: shorten(&String::from_utf8_lossy(line)),
                        reason,
                    };
                    if self.policy == OnErrorArg::Fail {
                        outcome.failure = Some(error);
                        return outcome;
                    }
                    outcome.rejected += 1;
                    if outcome.errors.len() < KEPT_ERRORS {
                        outcome.errors.push(error);
                    }
                }
            }
        }
        outcome.partial = partial_of(fold);
        outcome.keyed = keyed.into_iter().map(|(key, fold)| (key, partial_of(fold))).collect();
        outcome
    }

    /// An empty accumulator for the operation.
    fn new_fold<'a>(&self) -> Fold<'a> {
        match (&self.operation, self.parse) {
            (Operation::Count, _) => Fold::Count(0),
            (Operation::Sum | Operation::Min | Operation::Max, _) => Fold::Reduce(None),
            (_, Parse::String) => Fold::Text(Box::default()),
            (_, _) => Fold::Values(FxHashMap::default()),
        }
    }

    /// The session key of a record (`--by-key`, as text without the spaces around it); `None`
    /// without a key field.
    fn key_of(&self, line: &[u8]) -> Result<Option<Value>, String> {
        let Some(field) = &self.key else { return Ok(None) };
        match self.field_at(line, Some(field)) {
            Ok(Some(text)) => Ok(Some(Value::Str(Text::new(trimmed(text).into_owned())))),
            Ok(None) => Err(format!("field `{field}` (--by-key): no value")),
            Err(reason) => Err(format!("{reason} (--by-key)")),
        }
    }

    fn describe(&self, reason: &str) -> String {
        match &self.field {
            Some(field) => format!("field `{field}`: {reason}"),
            None => reason.to_string(),
        }
    }

    /// Adds a record's field to the fold: typed as `--parse` says.
    fn add<'a>(&self, fold: &mut Fold<'a>, text: Cow<'a, [u8]>) -> Result<(), String> {
        // A whole line is a value as it is; a field without the spaces around it.
        let whole = self.field.is_none();
        match fold {
            // Counted, but a number that does not parse is still a bad record.
            Fold::Count(n) => {
                if self.parse != Parse::String {
                    typed(&text, self.parse, whole)?;
                }
                *n += 1;
            }
            Fold::Text(counts) => {
                counts.add(if whole { text } else { trimmed(text) });
            }
            Fold::Values(counts) => *counts.entry(typed(&text, self.parse, whole)?).or_insert(0) += 1,
            Fold::Reduce(acc) => {
                let value = typed(&text, self.parse, whole)?;
                *acc = Some(match acc.take() {
                    None => value,
                    Some(so_far) => match self.operation {
                        Operation::Min => so_far.min(value),
                        Operation::Max => so_far.max(value),
                        _ => so_far.add(value),
                    },
                });
            }
        }
        Ok(())
    }

    /// The field of `line` (the whole line by default); `None` for a line that holds
    /// no record (a blank line when a field is asked for; the CSV header never comes here:
    /// `readable_blocks` takes it out of its block).
    fn field_of<'a>(&self, line: &'a [u8]) -> Result<Option<Cow<'a, [u8]>>, String> {
        if self.whole_lines() {
            return Ok(Some(Cow::Borrowed(line)));
        }
        self.field_at(line, self.field.as_ref())
    }

    /// Field `field` of `line` (the whole line for none); `None` for a line that holds
    /// no record.
    fn field_at<'a>(&self, line: &'a [u8], field: Option<&Field>) -> Result<Option<Cow<'a, [u8]>>, String> {
        if line.iter().all(|b| *b == b' ' || *b == b'\t') {
            return Ok(None);
        }
        match (self.format, field) {
            (_, None) => Ok(Some(Cow::Borrowed(line))),
            (Format::Lines, Some(Field::Position(n))) => match zpark::nth_field(line, *n) {
                Some(word) => Ok(Some(Cow::Borrowed(word))),
                None => Err(format!(
                    "field `{n}`: no such field (the record has {})",
                    line.split(|b| *b == b' ' || *b == b'\t')
                        .filter(|w| !w.is_empty())
                        .count()
                )),
            },
            (Format::Lines, Some(field)) => Err(format!("field `{field}`: plain lines have no names, use a position")),
            (Format::Csv, Some(field)) => {
                let index = match field {
                    Field::Position(n) => n - 1,
                    Field::Name(name) => {
                        let header = self.header.get().map(Vec::as_slice).unwrap_or_default();
                        header
                            .iter()
                            .position(|column| column == name.as_bytes())
                            .ok_or_else(|| format!("field `{field}`: no such column in the header"))?
                    }
                };
                match csv_field(line, index)? {
                    Ok(text) => Ok(Some(text)),
                    Err(count) => Err(format!("field `{field}`: no such field (the record has {count})")),
                }
            }
            (Format::Json | Format::Parquet, Some(field)) => json_field(line, field).map(Some),
        }
    }
}

/// The partial result of an accumulator.
fn partial_of(fold: Fold<'_>) -> Vec<Partial> {
    match fold {
        Fold::Count(n) => vec![(Value::Int(0), n)],
        Fold::Text(counts) => counts
            .into_counts()
            .map(|(text, n)| (Value::Str(Text::new(text)), n))
            .collect(),
        Fold::Values(counts) => counts.into_iter().collect(),
        Fold::Reduce(value) => value.map(|v| (v, 1)).into_iter().collect(),
    }
}

/// Counts word `n` of `line` into `fold` the short way: false when the line has no such word
/// (a blank line, a short one), which the general way then skips or reports. The same as the
/// general way, inlined: a word with ASCII white space at an end (a `\r` inside the line) is
/// trimmed as there.
fn add_word<'a>(fold: &mut Fold<'a>, line: &'a [u8], n: usize) -> bool {
    let Some(word) = zpark::nth_field(line, n) else {
        return false;
    };
    match fold {
        Fold::Count(count) => *count += 1,
        Fold::Text(counts) => {
            // Most words have nothing to trim: checking their two ends here, before the call,
            // measured 3 % faster on row 10 than calling `trimmed` for every word.
            let spaced = |byte: Option<&u8>| byte.is_some_and(u8::is_ascii_whitespace);
            let word = if spaced(word.first()) || spaced(word.last()) {
                trimmed(Cow::Borrowed(word))
            } else {
                Cow::Borrowed(word)
            };
            counts.add(word);
        }
        Fold::Values(_) | Fold::Reduce(_) => return false,
    }
    true
}

/// A field without the spaces around it.
fn trimmed(text: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    match text {
        Cow::Borrowed(bytes) => Cow::Borrowed(bytes.trim_ascii()),
        Cow::Owned(bytes) if bytes.trim_ascii().len() == bytes.len() => Cow::Owned(bytes),
        Cow::Owned(bytes) => Cow::Owned(bytes.trim_ascii().to_vec()),
    }
}
