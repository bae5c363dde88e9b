//! The `zpark` command-line tool.

mod run;
mod tour;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Drive batch map/reduce from continuous streams.
#[derive(Debug, Parser)]
#[command(name = "zpark", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the pipelines of the 2014 ZPark-Ztream article and print their results.
    #[command(after_help = TOUR_EXAMPLES)]
    Tour(tour::TourArgs),
    /// Slice a log, a growing file, standard input or a socket, and aggregate each slice.
    #[command(after_help = run::RUN_EXAMPLES)]
    Run(Box<run::RunArgs>),
}

const TOUR_EXAMPLES: &str = "Examples:
  zpark tour
  zpark tour --engine 'local[4]'
  zpark tour --real-time      # the timed pipelines on the wall clock (about a minute)";

/// A command line that clap accepted but that cannot work (exit code 2, as clap's own).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for UsageError {}

/// Exit codes: 0 success, 1 a pipeline failed, 2 bad usage, 3 a record did not parse, 4 the
/// input could not be read, 5 the engine is unknown or unavailable, 6 the checkpoint cannot be
/// used.
fn main() -> ExitCode {
    #[cfg(feature = "spark")]
    zpark_spark::register();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("zpark: {}", message(&error));
            ExitCode::from(exit_code(&error))
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Tour(args) => tour::run(args),
        Command::Run(args) => run::execute(*args),
    }
}

/// The error and its causes, each cause once: zpark's messages already quote their cause.
/// The error and its causes, each printed once by its own `Display` (zpark's errors leave their
/// causes to `source()`), joined by `: `.
fn message(error: &anyhow::Error) -> String {
    error.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

fn exit_code(error: &anyhow::Error) -> u8 {
    if error.chain().any(|cause| cause.is::<UsageError>()) {
        return 2;
    }
    let zpark_error = error.chain().find_map(|cause| {
        cause
            .downcast_ref::<zpark::Error>()
            .or_else(|| cause.downcast_ref::<run::GoOn>().map(|go_on| &go_on.error))
    });
    match zpark_error.map(zpark::Error::root) {
        Some(zpark::Error::Parse { .. }) => 3,
        Some(zpark::Error::Io { .. }) => 4,
        Some(zpark::Error::UnknownEngineUrl { .. } | zpark::Error::EngineUnavailable { .. }) => 5,
        Some(zpark::Error::InvalidArgument { .. }) => 2,
        Some(
            zpark::Error::Checkpoint { .. }
            | zpark::Error::PositionLost { .. }
            | zpark::Error::InputGrewAfterEnd { .. },
        ) => 6,
        _ => 1,
    }
}

/// A reader that went away (`zpark tour | head`) is not an error worth a message.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    // The error and its causes, walked once by `output_closed`.
    run::output_closed(error.as_ref())
}
