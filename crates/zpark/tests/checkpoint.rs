//! Checkpointed pipelines in one process: a run stopped at any slice (a failed slice, a sink
//! that died after writing) resumes to the output of an uninterrupted run; checkpoints of
//! another shape, corrupt ones and inputs that changed are refused with what differs.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use futures::StreamExt;
use zpark::checkpoint::{CheckpointStage, Pipeline, Replay, RunSummary, Slicing};
use zpark::prelude::*;
use zpark::sink::{SliceFiles, SliceSink};
use zpark_testkit::checkpointed::WindowAndTotals;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zpark-checkpoint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn input(dir: &Path, lines: u64) -> PathBuf {
    let path = dir.join("input.txt");
    let text: String = (0..lines).map(|i| format!("k{} {}\n", (i * 7) % 13, i % 5)).collect();
    std::fs::write(&path, text).expect("input");
    path
}

/// The stage of the kill test, failing at one slice (as a crash there would stop the run).
struct FailAt {
    inner: WindowAndTotals,
    at: u64,
}

impl CheckpointStage<String> for FailAt {
    type State = <WindowAndTotals as CheckpointStage<String>>::State;
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn process(&mut self, slice: u64, rdd: Rdd<String>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        if slice == self.at {
            return Box::pin(async { Err(Error::Internal("stopped on purpose".into())) });
        }
        self.inner.process(slice, rdd)
    }
    /// Slice 11 is the end of input's: the windows that still hold the last slices.
    fn finish(&mut self) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        if self.at == 11 {
            return Box::pin(async { Err(Error::Internal("stopped on purpose".into())) });
        }
        self.inner.finish()
    }
    fn save(&self) -> BoxFuture<'_, zpark::Result<Self::State>> {
        self.inner.save()
    }
    fn restore(&mut self, engine: &Engine, state: Self::State) {
        self.inner.restore(engine, state)
    }
}

/// Writes the slice, then fails at one slice: the process died between the sink's rename and
/// the checkpoint's commit.
struct DiesAfterWriting {
    files: SliceFiles,
    at: u64,
}

impl SliceSink for DiesAfterWriting {
    fn write_slice(&mut self, slice: u64, lines: &[String]) -> zpark::Result<()> {
        self.files.write_slice(slice, lines)?;
        if slice == self.at {
            return Err(Error::Internal("died after writing".into()));
        }
        Ok(())
    }
}

async fn run_with<St: CheckpointStage<String>, K: SliceSink>(
    engine: &Engine,
    path: &Path,
    checkpoint: &Path,
    stage: &mut St,
    sink: impl FnOnce(u64) -> K,
) -> zpark::Result<RunSummary> {
    let run = Pipeline::new(engine, Slicing::Count(10), "input.txt", Replay::FromPosition)
        .checkpoint(checkpoint)
        .start(stage)?;
    let mut sink = sink(run.resumed_after());
    let lines = zpark::source::lines_from(path, run.position()).map(|line| line.expect("readable"));
    run.run(lines, stage, &mut sink).await
}

async fn uninterrupted(engine: &Engine, path: &Path, dir: &Path) -> Vec<(u64, String)> {
    let out = dir.join("out-once");
    let mut stage = WindowAndTotals::default();
    run_with(engine, path, &dir.join("checkpoint-once"), &mut stage, |done| {
        SliceFiles::open(&out, done).expect("sink")
    })
    .await
    .expect("uninterrupted run");
    SliceFiles::read_all(&out).expect("output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_at_any_slice_resumes_to_the_uninterrupted_output() {
    let engine = Engine::local(2);
    let dir = scratch("stopped");
    let path = input(&dir, 95);
    let expected = uninterrupted(&engine, &path, &dir).await;
    assert_eq!(expected.len(), 11, "10 slices, then the windows at the end of input");
    for stop in 1..=11 {
        let (checkpoint, out) = (dir.join(format!("checkpoint-{stop}")), dir.join(format!("out-{stop}")));
        let mut failing = FailAt {
            inner: WindowAndTotals::default(),
            at: stop,
        };
        let error = run_with(&engine, &path, &checkpoint, &mut failing, |done| {
            SliceFiles::open(&out, done).unwrap()
        })
        .await
        .unwrap_err();
        assert!(
            error.to_string().starts_with(&format!("slice {stop} failed")),
            "{error}"
        );
        let mut stage = WindowAndTotals::default();
        let resumed = run_with(&engine, &path, &checkpoint, &mut stage, |done| {
            SliceFiles::open(&out, done).unwrap()
        })
        .await
        .expect("resumed run");
        assert_eq!(resumed.resumed_after, stop - 1);
        assert_eq!(resumed.slices, 11 - (stop - 1));
        assert_eq!(SliceFiles::read_all(&out).unwrap(), expected, "stopped at slice {stop}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slice_written_but_not_committed_is_written_once() {
    let engine = Engine::local(2);
    let dir = scratch("uncommitted");
    let path = input(&dir, 95);
    let expected = uninterrupted(&engine, &path, &dir).await;
    let (checkpoint, out) = (dir.join("checkpoint"), dir.join("out"));
    let mut stage = WindowAndTotals::default();
    let died = run_with(&engine, &path, &checkpoint, &mut stage, |done| DiesAfterWriting {
        files: SliceFiles::open(&out, done).unwrap(),
        at: 4,
    })
    .await;
    assert!(died.is_err());
    assert_eq!(
        SliceFiles::read_all(&out).unwrap().len(),
        4,
        "slice 4 was renamed into place"
    );
    let mut stage = WindowAndTotals::default();
    let resumed = run_with(&engine, &path, &checkpoint, &mut stage, |done| {
        SliceFiles::open(&out, done).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(resumed.resumed_after, 3, "the checkpoint had not recorded slice 4");
    assert_eq!(SliceFiles::read_all(&out).unwrap(), expected);
}

#[tokio::test]
async fn another_pipeline_shape_is_refused_until_reset() {
    let engine = Engine::local(1);
    let dir = scratch("shape");
    let path = input(&dir, 30);
    let checkpoint = dir.join("checkpoint");
    let out = dir.join("out");
    let mut stage = WindowAndTotals::default();
    run_with(&engine, &path, &checkpoint, &mut stage, |done| {
        SliceFiles::open(&out, done).unwrap()
    })
    .await
    .unwrap();

    let mut stage = WindowAndTotals::default();
    let other = Pipeline::new(&engine, Slicing::Count(7), "input.txt", Replay::FromPosition)
        .checkpoint(&checkpoint)
        .start(&mut stage)
        .unwrap_err();
    let text = other.to_string();
    assert!(text.contains("`slicing` was `count 10`, now `count 7`"), "{text}");
    assert!(text.contains("reset"), "{text}");

    let fresh = Pipeline::new(&engine, Slicing::Count(7), "input.txt", Replay::FromPosition)
        .checkpoint(&checkpoint)
        .reset_checkpoint()
        .start(&mut stage)
        .unwrap();
    assert_eq!((fresh.resumed_after(), fresh.position().offset), (0, 0));
}

#[tokio::test]
async fn an_input_shorter_than_the_checkpoint_is_an_error_naming_it() {
    let engine = Engine::local(1);
    let dir = scratch("truncated");
    let path = input(&dir, 30);
    let (checkpoint, out) = (dir.join("checkpoint"), dir.join("out"));
    let mut stage = WindowAndTotals::default();
    run_with(&engine, &path, &checkpoint, &mut stage, |done| {
        SliceFiles::open(&out, done).unwrap()
    })
    .await
    .unwrap();
    std::fs::write(&path, "k1 1\n").unwrap();
    let run = Pipeline::new(&engine, Slicing::Count(10), "input.txt", Replay::FromPosition)
        .checkpoint(&checkpoint)
        .start(&mut stage)
        .unwrap();
    let first: Vec<_> = zpark::source::lines_from(&path, run.position()).collect().await;
    let error = first[0].as_ref().unwrap_err().to_string();
    assert!(
        error.contains("input.txt") && error.contains("truncated or replaced"),
        "{error}"
    );
}

#[tokio::test]
async fn a_source_that_cannot_replay_warns() {
    let engine = Engine::local(1);
    let dir = scratch("replay");
    let mut stage = WindowAndTotals::default();
    let run = Pipeline::new(&engine, Slicing::Count(10), "standard input", Replay::No)
        .checkpoint(dir.join("checkpoint"))
        .start(&mut stage)
        .unwrap();
    let warning = run.warning().expect("a warning");
    assert!(
        warning.contains("standard input") && warning.contains("at-least-once"),
        "{warning}"
    );
    let file = Pipeline::new(&engine, Slicing::Count(10), "a.txt", Replay::FromPosition)
        .checkpoint(dir.join("checkpoint-file"))
        .start(&mut stage)
        .unwrap();
    assert!(file.warning().is_none());
}

/// The timed slices of the state tests: keys that come and go, so that some time out.
fn timed_pairs(engine: &Engine) -> Vec<(SliceTime, Rdd<(u64, u64)>)> {
    (1..=8u64)
        .map(|s| {
            let pairs: Vec<(u64, u64)> = (0..s).map(|i| ((s + i) % if s < 5 { 4 } else { 2 }, i)).collect();
            (SliceTime::from_millis(s * 1000), engine.parallelize(pairs, 2))
        })
        .collect()
}

/// A key, its running total, and whether this is its last call before timing out.
type Report = (u64, u64, bool);

/// Running totals per key, reported at every record and when a key times out.
fn report(key: &u64, value: Option<u64>, state: &mut zpark::state::State<u64>) -> Option<Report> {
    let total = state.get().copied().unwrap_or(0) + value.unwrap_or(0);
    state.update(total);
    Some((*key, total, state.is_timing_out()))
}

type ReportFn = fn(&u64, Option<u64>, &mut zpark::state::State<u64>) -> Option<Report>;

fn spec() -> zpark::state::StateSpec<u64, Report, ReportFn> {
    zpark::state::StateSpec::new(report as ReportFn).timeout(std::time::Duration::from_secs(2))
}

#[tokio::test]
async fn map_with_state_saved_and_restored_mid_stream_equals_the_stream_operator() {
    let engine = Engine::local(2);
    let expected =
        zpark_testkit::sorted_slices(futures::stream::iter(timed_pairs(&engine)).map_with_state(spec())).await;
    let spec = spec();
    let mut keys = zpark::state::MappedState::new();
    let mut got = Vec::new();
    for (i, (time, slice)) in timed_pairs(&engine).into_iter().enumerate() {
        if i == 4 {
            let saved = serde_json::to_string(&keys.save().await.unwrap()).unwrap();
            keys = zpark::state::MappedState::new();
            keys.restore(&engine, serde_json::from_str(&saved).unwrap());
        }
        let mut outputs = keys
            .map_with_state(time, &slice, &spec)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        outputs.sort();
        got.push(outputs);
    }
    assert_eq!(got, expected);
    assert!(
        got.iter().flatten().any(|(_, _, timed_out)| *timed_out),
        "some key should time out"
    );
}

#[tokio::test]
async fn update_state_by_key_saved_and_restored_mid_stream_equals_the_stream_operator() {
    let engine = Engine::local(2);
    let running = |new: Vec<u64>, old: Option<u64>| Some(old.unwrap_or(0) + new.iter().sum::<u64>());
    let expected = zpark_testkit::sorted_slices(
        futures::stream::iter(timed_pairs(&engine).into_iter().map(|(_, rdd)| rdd)).update_state_by_key(running),
    )
    .await;
    let mut keys = zpark::state::KeyedState::new();
    let mut got = Vec::new();
    for (i, (_, slice)) in timed_pairs(&engine).into_iter().enumerate() {
        if i == 3 {
            let saved = serde_json::to_string(&keys.save().await.unwrap()).unwrap();
            keys = zpark::state::KeyedState::new();
            keys.restore(&engine, serde_json::from_str(&saved).unwrap());
        }
        let mut state = keys.update(&slice, running).await.unwrap().collect().await.unwrap();
        state.sort();
        got.push(state);
    }
    assert_eq!(got, expected);
}

#[tokio::test]
async fn follow_from_goes_on_after_rotation_even_while_stopped_and_a_lost_file_is_refused() {
    use zpark::checkpoint::SourcePosition;
    let dir = scratch("rotation");
    let path = dir.join("app.log");
    std::fs::write(&path, "one\ntwo\n").unwrap();
    let mut lines = Box::pin(zpark::source::follow_from(&path, SourcePosition::default()));
    let one = lines.next().await.unwrap().unwrap();
    let two = lines.next().await.unwrap().unwrap();
    assert_eq!((two.end.offset, two.end.line), (8, 2));
    assert!(one.end.file.is_some() && one.end.file == two.end.file);

    // logrotate: the old file moves away with a last line, a new one starts at the path.
    std::fs::rename(&path, dir.join("app.log.1")).unwrap();
    std::fs::write(dir.join("app.log.1"), "one\ntwo\nthree\n").unwrap();
    std::fs::write(&path, "four\n").unwrap();
    let three = lines.next().await.unwrap().unwrap();
    let four = lines.next().await.unwrap().unwrap();
    assert_eq!((three.item.as_str(), four.item.as_str()), ("three", "four"));
    assert_eq!(
        (four.end.offset, four.end.line),
        (5, 4),
        "offsets count in the new file, lines go on"
    );
    assert_ne!(four.end.file, two.end.file);

    // Resuming from a position in the old file, now that the path names the new one: the
    // rest of the old file, found beside the path by its identity, then the new one.
    let resumed: Vec<String> = zpark::source::follow_from(&path, two.end.clone())
        .take(2)
        .map(|line| line.unwrap().item)
        .collect()
        .await;
    assert_eq!(resumed, vec!["three", "four"]);
    let resumed: Vec<String> = zpark::source::lines_from(&path, two.end.clone())
        .map(|line| line.unwrap().item)
        .collect()
        .await;
    assert_eq!(resumed, vec!["three", "four"], "a file not followed too");
    // The old file gone: the rest of it cannot be read, refused.
    std::fs::rename(dir.join("app.log.1"), dir.join("elsewhere")).unwrap();
    std::fs::remove_file(dir.join("elsewhere")).unwrap();
    let resumed: Vec<_> = zpark::source::follow_from(&path, two.end).take(1).collect().await;
    let error = resumed[0].as_ref().unwrap_err();
    assert!(matches!(error, zpark::Error::PositionLost { .. }), "{error:?}");
    assert!(error.to_string().contains("rotated away or replaced"), "{error}");
    // From a position in the new file: goes on.
    std::fs::write(&path, "four\nfive\n").unwrap();
    let five = zpark::source::follow_from(&path, four.end)
        .next()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(five.item, "five");
}

/// What happened, in order, in [`slices_are_processed_and_committed_while_the_next_is_read_in_order`].
type Log = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Processes a slice only once the input has given the next slice's elements (up to 10 s),
/// and logs it.
struct Logged(WaitsForReading);

impl CheckpointStage<String> for Logged {
    type State = u64;
    fn describe(&self) -> String {
        "logged".into()
    }
    fn process(&mut self, slice: u64, _rdd: Rdd<String>) -> BoxFuture<'_, zpark::Result<Vec<String>>> {
        Box::pin(async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !self.0.next_slice_read(slice) && std::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            self.0.log(format!("processed {slice} after reading {}", self.0.read()));
            Ok(vec![slice.to_string()])
        })
    }
    fn save(&self) -> BoxFuture<'_, zpark::Result<u64>> {
        Box::pin(async { Ok(0) })
    }
    fn restore(&mut self, _engine: &Engine, _state: u64) {}
}

/// A sink whose durable write waits (up to 10 s) until the input has given the next slice's
/// elements, as a slow disk would, and logs when it is done.
#[derive(Clone)]
struct WaitsForReading {
    log: Log,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    per_slice: u64,
    total: u64,
}

impl WaitsForReading {
    fn read(&self) -> u64 {
        self.read.load(std::sync::atomic::Ordering::SeqCst)
    }
    /// Whether the elements of the slice after `slice` (or all of them) have been read.
    fn next_slice_read(&self, slice: u64) -> bool {
        self.read() >= ((slice + 1) * self.per_slice).min(self.total)
    }
    fn log(&self, line: String) {
        self.log.lock().expect("log").push(line);
    }
}

impl SliceSink for WaitsForReading {
    fn write_slice(&mut self, _slice: u64, _lines: &[String]) -> zpark::Result<()> {
        unreachable!("a checkpointed run calls begin_slice")
    }
    fn begin_slice(&mut self, slice: u64, _lines: &[String]) -> zpark::Result<zpark::sink::PendingWrite> {
        let this = self.clone();
        Ok(Box::new(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !this.next_slice_read(slice) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            this.log(format!("written {slice} after reading {}", this.read()));
            Ok(())
        }))
    }
}

#[tokio::test]
async fn slices_are_processed_and_committed_while_the_next_is_read_in_order() {
    let dir = scratch("overlap");
    let (log, read): (Log, _) = Default::default();
    let read: std::sync::Arc<std::sync::atomic::AtomicU64> = read;
    let engine = Engine::local(2);
    let mut sink = WaitsForReading {
        log: log.clone(),
        read: read.clone(),
        per_slice: 2,
        total: 5,
    };
    let mut stage = Logged(sink.clone());
    let run = Pipeline::new(&engine, Slicing::Count(2), "counted", Replay::FromPosition)
        .checkpoint(dir.join("checkpoint"))
        .start(&mut stage)
        .expect("start");
    let counter = read.clone();
    let input = futures::stream::iter(1..=5u64).map(move |i| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        zpark::source::Positioned {
            item: i.to_string(),
            end: zpark::checkpoint::SourcePosition::at(i, i),
        }
    });
    let summary = run.run(input, &mut stage, &mut sink).await.expect("run");
    assert_eq!((summary.slices, summary.elements), (3, 5));
    // Each slice was processed and written only once the next slice had been read (both
    // waited for it, so reading went on meanwhile), and slice k + 1 was processed after slice
    // k was written.
    assert_eq!(
        *log.lock().expect("log"),
        [
            "processed 1 after reading 4",
            "written 1 after reading 4",
            "processed 2 after reading 5",
            "written 2 after reading 5",
            "processed 3 after reading 5",
            "written 3 after reading 5",
        ]
    );
    let shape = zpark::checkpoint::shape([("input", "counted"), ("slicing", "count 2"), ("stage", "logged")]);
    let committed = zpark::checkpoint::Checkpoint::open(dir.join("checkpoint"), shape).expect("checkpoint");
    assert_eq!((committed.slice(), committed.position().offset), (3, 5));
}
