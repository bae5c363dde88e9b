//! Sinks: where results go.
//!
//! [`LinesSink`] writes one line per element to any writer; [`stdout_lines`] is the seed's
//! `stdOutLines` (each line stamped with the time in nanoseconds). Both implement
//! [`futures::Sink`], so a pipeline ends with `.forward(sink)`, which stops at the first `Err`,
//! or with a loop that decides per item.

mod lines;

pub use lines::{lines_to, stdout_lines, LinesSink};
