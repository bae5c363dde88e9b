//! Sources: where the elements of a pipeline come from.
//!
//! | source | what it yields | ends |
//! |---|---|---|
//! | [`lines`] | the lines of a file (the seed's `io.linesR`) | at the end of the file |
//! | [`follow`] | the lines of a file that keeps growing, like `tail -f` | never (or at an I/O error) |
//! | [`stdin_lines`] | the lines of standard input | at end of input |
//! | [`tcp_lines`] | the lines sent by a TCP server | when the server closes |
//! | [`naturals`] | 0, 1, 2, ... as fast as they are pulled | never |
//! | [`naturals_every`] | 0, 1, 2, ... one per period on tokio's clock | never |
//!
//! The line sources yield `Result<String, Error>`: an I/O error arrives as an `Err` naming the
//! path or address. [`TryStreamZparkExt::on_error`] states what a pipeline does with such
//! errors (and with records that do not parse): fail, or skip and count.

mod lines;
mod naturals;
mod policy;

pub use lines::{follow, lines, stdin_lines, tcp_lines, LineStream, FOLLOW_POLL};
pub use naturals::{naturals, naturals_every, NaturalsEvery};
pub use policy::{InputReport, OnError, OnErrorStream, TryStreamZparkExt};
