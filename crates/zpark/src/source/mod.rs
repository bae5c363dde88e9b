//! Sources: where the elements of a pipeline come from.
//!
//! | source | what it yields | ends |
//! |---|---|---|
//! | [`lines`] | the lines of a file (the seed's `io.linesR`) | at the end of the file |
//! | [`follow`] | the lines of a file that keeps growing, like `tail -f` | never (or at an I/O error) |
//! | [`stdin_lines`] | the lines of standard input | at end of input |
//! | [`tcp_lines`] | the lines sent by a TCP server | when the server closes |
//! | [`lines_from`] | the lines of a file from a checkpoint's position, with their positions | at the end of the file |
//! | [`follow_from`] | the same for a growing file | never (or at an I/O error) |
//! | [`naturals`] | 0, 1, 2, ... as fast as they are pulled | never |
//! | [`naturals_every`] | 0, 1, 2, ... one per period on tokio's clock | never |
//!
//! The line sources yield `Result<String, Error>`: an I/O error arrives as an `Err` naming the
//! path or address. [`TryStreamZparkExt::on_error`] states what a pipeline does with such
//! errors (and with records that do not parse): fail, or skip and count.
//!
//! Replaying after a restart (see [`checkpoint`](crate::checkpoint)): files can be read again
//! from a recorded byte offset ([`lines_from`], [`follow_from`]), so a checkpointed pipeline
//! over a file resumes exactly where its last committed slice ended. Standard input and
//! sockets cannot be replayed: what they sent before a crash is gone, so a checkpointed
//! pipeline over them resumes at-least-once at best (the lines of the slice in progress are
//! lost with the process; its state and output stay exactly-once).

mod blocks;
mod buffer_pool;
#[cfg(feature = "kafka")]
mod kafka;
mod lines;
mod naturals;
mod new_files;
mod policy;
mod resumable;
mod split_reads;

pub use crate::durable::Positioned;
pub use blocks::{lines_of_blocks, ByteLines, LineBlocks, FOLLOW_POLL};
#[cfg(feature = "kafka")]
pub use kafka::{kafka, Kafka, KafkaBatch, KafkaPositions, KafkaRecord, StartAt};
pub use lines::{follow, lines, stdin_lines, tcp_lines, LineStream};
pub use naturals::{naturals, naturals_every, NaturalsEvery};
pub use new_files::{files_in, new_files, NewFiles};
pub use policy::{InputReport, OnError, OnErrorStream, TryStreamZparkExt};
pub use resumable::{find_rotated, follow_from, lines_from, PositionedLines};
