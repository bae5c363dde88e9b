//! One slice's metrics: the line `--metrics` writes and what the live page (`--ui`) draws.

use serde::Serialize;

/// One slice's line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct SliceMetrics {
    /// The slice's number, from 1 (continuing after a resumed checkpoint).
    pub slice: u64,
    /// When the slice ended, in seconds since the run started.
    pub end: f64,
    /// Records in the slice, and records rejected (`--on-error skip`).
    pub records: u64,
    pub rejected: u64,
    /// Bytes of input in the slice (its lines, with their endings).
    pub bytes: u64,
    /// From the slice's end to the start of its processing (Spark's scheduling delay), and
    /// from that start to its results written, in milliseconds.
    pub scheduling_delay_ms: f64,
    pub processing_ms: f64,
    /// Slices cut but not yet written when this one was written (this one excluded).
    pub waiting: u64,
    /// Keys the state holds after the slice: a window's keys, open sessions; none without.
    pub state_keys: Option<u64>,
}

#[cfg(feature = "ui")]
impl SliceMetrics {
    /// The slice as the live page draws it, with its top values.
    pub(super) fn for_page(&self, top: Vec<(String, u64)>) -> zpark::ui::UiEvent {
        zpark::ui::UiEvent {
            slice: self.slice,
            end: self.end,
            records: self.records,
            processing_ms: self.processing_ms,
            scheduling_delay_ms: self.scheduling_delay_ms,
            top,
        }
    }
}
