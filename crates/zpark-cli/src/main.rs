//! The `zpark` command-line tool.

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
}

const TOUR_EXAMPLES: &str = "Examples:
  zpark tour
  zpark tour --engine 'local[4]'
  zpark tour --real-time      # the timed pipelines on the wall clock (about a minute)";

/// Exit codes: 0 success, 1 a pipeline failed, 2 bad usage (from clap).
fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("zpark: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Tour(args) => tour::run(args),
    }
}

/// A reader that went away (`zpark tour | head`) is not an error worth a message.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
