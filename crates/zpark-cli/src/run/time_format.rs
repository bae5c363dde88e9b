//! `--time-format`: how an event time is written in the data, read with `chrono`.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime};

/// How the time of `--event-time` is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Seconds since the epoch (fractions allowed), or RFC 3339 with any offset and fractions
    /// (`2025-06-24T16:36:26+02:00`, `2025-06-24 14:36:26.5Z`).
    #[default]
    Auto,
    /// Whole or fractional seconds since the epoch.
    EpochSeconds,
    /// Milliseconds since the epoch.
    EpochMillis,
    /// Microseconds since the epoch.
    EpochMicros,
    /// Nanoseconds since the epoch.
    EpochNanos,
    /// RFC 3339 only.
    Rfc3339,
    /// A strftime format (`%d/%b/%Y:%H:%M:%S %z`); without an offset (`%z`) the time is UTC.
    Strftime(String),
}

/// The common log format's time, brackets included: `[10/Oct/2000:13:55:36 -0700]`.
const COMMON_LOG: &str = "[%d/%b/%Y:%H:%M:%S %z]";

impl FromStr for TimeFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<TimeFormat, String> {
        Ok(match text {
            "auto" => TimeFormat::Auto,
            "epoch" | "epoch-s" => TimeFormat::EpochSeconds,
            "epoch-ms" => TimeFormat::EpochMillis,
            "epoch-us" => TimeFormat::EpochMicros,
            "epoch-ns" => TimeFormat::EpochNanos,
            "rfc3339" => TimeFormat::Rfc3339,
            "clf" => TimeFormat::Strftime(COMMON_LOG.to_string()),
            format if format.contains('%') => TimeFormat::Strftime(format.to_string()),
            other => {
                return Err(format!(
                    "`{other}` is not a time format: use auto, epoch, epoch-ms, epoch-us, epoch-ns, rfc3339, clf, or a strftime format such as '%d/%b/%Y:%H:%M:%S %z'"
                ))
            }
        })
    }
}

impl TimeFormat {
    /// How many whitespace-separated words the time takes in a plain line: a strftime format
    /// with spaces (the common log format's `... %z]`) spans that many fields.
    pub fn words(&self) -> usize {
        match self {
            TimeFormat::Strftime(format) => format.split_whitespace().count().max(1),
            _ => 1,
        }
    }

    /// The time since the epoch that `text` writes.
    pub fn parse(&self, text: &str) -> Result<Duration, String> {
        let text = text.trim();
        let nanos = match self {
            TimeFormat::Auto => match text.parse::<f64>() {
                Ok(seconds) => decimal_seconds(text).map_or_else(|| seconds_to_nanos(seconds), Ok)?,
                Err(_) => rfc3339(text).map_err(|e| {
                    format!("not a time: expected seconds since the epoch or RFC 3339 ({e}); see --time-format")
                })?,
            },
            TimeFormat::EpochSeconds => match decimal_seconds(text) {
                Some(nanos) => nanos,
                None => seconds_to_nanos(number(text)?)?,
            },
            TimeFormat::EpochMillis => scaled(text, 1_000_000)?,
            TimeFormat::EpochMicros => scaled(text, 1_000)?,
            TimeFormat::EpochNanos => scaled(text, 1)?,
            TimeFormat::Rfc3339 => rfc3339(text).map_err(|e| format!("not an RFC 3339 time ({e})"))?,
            TimeFormat::Strftime(format) => strftime(text, format)?,
        };
        let nanos = u64::try_from(nanos).map_err(|_| "a time before 1970".to_string())?;
        Ok(Duration::from_nanos(nanos))
    }
}

fn number(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .map_err(|e| format!("not a number of seconds ({e})"))
}

/// `[-]SECONDS[.FRACTION]` exactly, to the nanosecond (a float would make 0.25 s of
/// 1 750 775 786.25 into 0.2499998); `None` for other forms (`1e9`).
fn decimal_seconds(text: &str) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = whole.strip_prefix('-').unwrap_or(whole);
    if unsigned.is_empty() || !digits(unsigned) || !digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let seconds: i128 = whole.parse().ok()?;
    let nanos: i128 = format!("{fraction:0<9}").parse().ok()?;
    let nanos = if whole.starts_with('-') { -nanos } else { nanos };
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

fn seconds_to_nanos(seconds: f64) -> Result<i128, String> {
    if !seconds.is_finite() {
        return Err("not a time (not a finite number)".to_string());
    }
    Ok((seconds * 1e9).round() as i128)
}

fn scaled(text: &str, nanos_per_unit: i128) -> Result<i128, String> {
    let units: i128 = text.parse().map_err(|e| format!("not a whole number ({e})"))?;
    units
        .checked_mul(nanos_per_unit)
        .ok_or_else(|| "a time too far from 1970".to_string())
}

/// RFC 3339 with any offset; a space instead of the `T` is taken too.
fn rfc3339(text: &str) -> Result<i128, chrono::ParseError> {
    Ok(nanos_of(DateTime::parse_from_rfc3339(text)?.timestamp_nanos_opt()))
}

fn strftime(text: &str, format: &str) -> Result<i128, String> {
    let refused = |e: chrono::ParseError| format!("not a time in the format `{format}` ({e})");
    match DateTime::parse_from_str(text, format) {
        Ok(time) => Ok(nanos_of(time.timestamp_nanos_opt())),
        // No offset in the format: the time is UTC.
        Err(with_offset) => match NaiveDateTime::parse_from_str(text, format) {
            Ok(time) => Ok(nanos_of(time.and_utc().timestamp_nanos_opt())),
            Err(_) => Err(refused(with_offset)),
        },
    }
}

/// Nanoseconds since the epoch; times past what i64 nanoseconds hold (year 2262) count as the
/// latest one.
fn nanos_of(nanos: Option<i64>) -> i128 {
    i128::from(nanos.unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(format: &str, text: &str) -> Result<f64, String> {
        let format: TimeFormat = format.parse()?;
        format.parse(text).map(|d| d.as_secs_f64())
    }

    #[test]
    fn rfc3339_with_any_offset_and_fractions() {
        assert_eq!(secs("auto", "2025-06-24T16:36:26+02:00"), Ok(1_750_775_786.0));
        assert_eq!(secs("auto", "2025-06-24T14:36:26Z"), Ok(1_750_775_786.0));
        assert_eq!(secs("auto", "2025-06-24 14:36:26.5Z"), Ok(1_750_775_786.5));
        assert_eq!(secs("rfc3339", "2025-06-24T09:36:26-05:00"), Ok(1_750_775_786.0));
    }

    #[test]
    fn epoch_in_every_unit() {
        assert_eq!(secs("auto", "1750775786.25"), Ok(1_750_775_786.25));
        assert_eq!(secs("epoch", "1750775786"), Ok(1_750_775_786.0));
        assert_eq!(secs("epoch-ms", "1750775786250"), Ok(1_750_775_786.25));
        assert_eq!(secs("epoch-us", "1750775786250000"), Ok(1_750_775_786.25));
        assert_eq!(secs("epoch-ns", "1750775786250000000"), Ok(1_750_775_786.25));
    }

    #[test]
    fn strftime_and_the_common_log_format() {
        assert_eq!(secs("clf", "[24/Jun/2025:14:36:25 +0000]"), Ok(1_750_775_785.0));
        assert_eq!(
            secs("%d/%b/%Y:%H:%M:%S %z", "24/Jun/2025:16:36:25 +0200"),
            Ok(1_750_775_785.0)
        );
        // No offset: UTC.
        assert_eq!(secs("%Y-%m-%d %H:%M:%S", "2025-06-24 14:36:25"), Ok(1_750_775_785.0));
        assert_eq!("clf".parse::<TimeFormat>().unwrap().words(), 2);
    }

    #[test]
    fn refusals_say_what_was_expected() {
        assert!(secs("auto", "yesterday").unwrap_err().contains("RFC 3339"));
        assert!(secs("clf", "24/Jun/2025")
            .unwrap_err()
            .contains("[%d/%b/%Y:%H:%M:%S %z]"));
        assert!(secs("epoch-ms", "1.5").unwrap_err().contains("whole number"));
        assert!(secs("auto", "1969-12-31T23:59:59Z")
            .unwrap_err()
            .contains("before 1970"));
        assert!("iso".parse::<TimeFormat>().unwrap_err().contains("strftime"));
    }
}
