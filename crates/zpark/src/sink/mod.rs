//! Sinks: where results go.
//!
//! [`LinesSink`] writes one line per element to any writer; [`stdout_lines`] is the seed's
//! `stdOutLines` (each line stamped with the time in nanoseconds). Both implement
//! [`futures::Sink`], so a pipeline ends with `.forward(sink)`, which stops at the first `Err`,
//! or with a loop that decides per item.

//!
//! For checkpointed pipelines ([`checkpoint`](crate::checkpoint)), a [`SliceSink`] takes each
//! slice's output whole: [`SliceFiles`] is exactly-once (a file per slice, committed by
//! rename), [`SliceLines`] (standard output, any writer) is at-least-once across a crash.

#[cfg(feature = "kafka")]
mod kafka_slices;
mod lines;
mod slice_files;

#[cfg(feature = "kafka")]
pub use kafka_slices::{KafkaSlices, LINES_HEADER, LINE_HEADER, SLICE_HEADER};
pub use lines::{lines_to, stdout_lines, LinesSink};
pub use slice_files::{PendingWrite, SliceFiles, SliceLines, SliceSink};
