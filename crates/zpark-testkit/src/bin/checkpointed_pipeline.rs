//! The pipeline that the kill test kills:
//! `checkpointed_pipeline INPUT SLICES CHECKPOINT OUTPUT [follow]`, SLICES a number of lines
//! or a time in milliseconds (`50ms`). With `follow` it follows the input as `tail -F` does
//! (rotations included) and never ends by itself. An INPUT `kafka://HOST:PORT/TOPIC` (with the
//! `kafka` feature) reads a topic from the checkpoint's offsets, to its end or, with `follow`,
//! for ever.
//! Prints the run's summary on standard error; exits 1 with the error when the run fails.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, slice_lines, checkpoint, output, follow) = match args.as_slice() {
        [input, slice_lines, checkpoint, output] => (input, slice_lines, checkpoint, output, false),
        [input, slice_lines, checkpoint, output, mode] if mode == "follow" => {
            (input, slice_lines, checkpoint, output, true)
        }
        _ => {
            eprintln!("usage: checkpointed_pipeline INPUT SLICES CHECKPOINT_DIR OUTPUT_DIR [follow]");
            return ExitCode::from(2);
        }
    };
    let slicing = match slice_lines.strip_suffix("ms").map(str::parse::<u64>) {
        Some(Ok(millis)) if millis > 0 => zpark::checkpoint::Slicing::Every(std::time::Duration::from_millis(millis)),
        _ => match slice_lines.parse::<usize>() {
            Ok(lines) => zpark::checkpoint::Slicing::Count(lines.max(1)),
            Err(_) => {
                eprintln!("SLICES must be a number of lines or milliseconds (50ms), not {slice_lines:?}");
                return ExitCode::from(2);
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let engine = zpark::Engine::local(2);
    let (checkpoint, output) = (PathBuf::from(checkpoint), PathBuf::from(output));
    let outcome = match input.starts_with("kafka://") {
        #[cfg(feature = "kafka")]
        true => runtime.block_on(zpark_testkit::checkpointed::run_kafka(
            &engine,
            input,
            slicing,
            &checkpoint,
            &output,
            follow,
        )),
        #[cfg(not(feature = "kafka"))]
        true => {
            eprintln!("a Kafka input needs the `kafka` feature of zpark-testkit");
            return ExitCode::from(2);
        }
        false => runtime.block_on(zpark_testkit::checkpointed::run(
            &engine,
            &PathBuf::from(input),
            slicing,
            &checkpoint,
            &output,
            follow,
        )),
    };
    match outcome {
        Ok(summary) => {
            eprintln!("{summary:?}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("checkpointed_pipeline: {error}");
            ExitCode::FAILURE
        }
    }
}
