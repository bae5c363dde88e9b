//! Checkpoints: a pipeline killed at any moment resumes with nothing lost and nothing twice.
//!
//! A checkpointed pipeline ([`Pipeline`]) reads a positioned input
//! ([`lines_from`](crate::source::lines_from)), cuts it into slices, hands each slice to a
//! [`CheckpointStage`] (the operators, with their state across slices: a
//! [`SliceWindow`](crate::window::SliceWindow), a [`KeyedState`](crate::state::KeyedState)),
//! writes the slice's output to a [`SliceSink`](crate::sink::SliceSink), and then records, in
//! one atomic step (temporary file, `fsync`, rename, `fsync` of the directory), the slice
//! number, the input's byte offset after the slice, the stage's state (serialized with serde
//! into a versioned JSON file) and the sink's progress. Slice `k` is committed before slice
//! `k + 1` is processed. The input of slice `k + 1` is read while slice `k` is processed and
//! committed, and the commit's `fsync`s run on a thread of their own, so that they do not add
//! to the run's time.
//!
//! Started again on the same directory, the pipeline restores the stage's state, reads the
//! input from the recorded offset and numbers slices from the next one. A checkpoint written
//! by a pipeline of another shape (input, slicing, operators, window, output) or a corrupt one
//! is refused with an error that says what differs; only an explicit
//! [`reset_checkpoint`](Pipeline::reset_checkpoint) (`zpark run --reset`) starts over.
//!
//! # What is guaranteed
//!
//! | source | sink | after a crash and resume |
//! |---|---|---|
//! | a file ([`lines_from`](crate::source::lines_from), [`follow_from`](crate::source::follow_from)) | [`SliceFiles`](crate::sink::SliceFiles) | **exactly-once**: every slice's output present once; with [`Slicing::Count`], identical slice by slice to an uninterrupted run |
//! | a file | [`SliceLines`](crate::sink::SliceLines) (standard output) | at-least-once output: the slice being written when the process died is written again |
//! | standard input, a socket | any | at-least-once from the source (a warning says so once): lines read but not committed before the crash are gone, a producer that sends again is counted again |
//!
//! With [`Slicing::Every`] (slices on the clock) resumed output is exactly-once for the slices
//! committed, but later slices end where the clock puts them, as in any run on the clock.
//!
//! # Example
//!
//! ```
//! use futures::future::{BoxFuture, FutureExt};
//! use zpark::checkpoint::{CheckpointStage, Pipeline, Replay, Slicing};
//! use zpark::prelude::*;
//! use zpark::sink::SliceFiles;
//!
//! /// The number of lines so far, after each slice.
//! struct RunningCount(u64);
//!
//! impl CheckpointStage<String> for RunningCount {
//!     type State = u64;
//!     fn describe(&self) -> String { "running count".into() }
//!     fn process(&mut self, _slice: u64, rdd: Rdd<String>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
//!         async move {
//!             self.0 += rdd.count().await?;
//!             Ok(vec![self.0.to_string()])
//!         }
//!         .boxed()
//!     }
//!     fn save(&self) -> BoxFuture<'_, zpark::Result<u64>> { futures::future::ready(Ok(self.0)).boxed() }
//!     fn restore(&mut self, _engine: &Engine, state: u64) { self.0 = state; }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = std::env::temp_dir().join("zpark-doc-checkpoint-module");
//! # let _ = std::fs::remove_dir_all(&tmp);
//! std::fs::create_dir_all(&tmp)?;
//! let input = tmp.join("input.txt");
//! std::fs::write(&input, "a\nb\nc\nd\ne\n")?;
//! let engine = Engine::local(2);
//!
//! // One run over the file, slices of 2 lines.
//! let run_once = || async {
//!     let mut stage = RunningCount(0);
//!     let run = Pipeline::new(&engine, Slicing::Count(2), "input.txt", Replay::FromPosition)
//!         .checkpoint(tmp.join("checkpoint"))
//!         .start(&mut stage)?;
//!     let mut sink = SliceFiles::open(tmp.join("out"), run.resumed_after())?;
//!     let lines = zpark::source::lines_from(&input, run.position()).map(|line| line.unwrap());
//!     run.run(lines, &mut stage, &mut sink).await
//! };
//! let first = run_once().await?;
//! assert_eq!((first.resumed_after, first.slices), (0, 3));
//!
//! // The file grows; the next run starts after the third slice, with the count restored.
//! std::fs::OpenOptions::new().append(true).open(&input)?.write_all(b"f\n")?;
//! let second = run_once().await?;
//! assert_eq!((second.resumed_after, second.slices), (3, 1));
//! let out = SliceFiles::read_all(tmp.join("out"))?;
//! assert_eq!(out.last().unwrap(), &(4, "6\n".to_string()));
//! # Ok(()) }
//! # use futures::StreamExt;
//! # use std::io::Write;
//! ```

mod committer;
mod run;
mod store;

pub use run::{CheckpointStage, CutSlice, Pipeline, Replay, Run, RunEnd, RunSummary, Slicing};
pub use store::{shape, Checkpoint, FileIdentity, Finished, Shape, SourcePosition, CHECKPOINT_FILE, FORMAT_VERSION};
