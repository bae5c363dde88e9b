//! `zpark tour`: the pipelines of the seed article, on any engine.
//!
//! The timed pipelines run on tokio's clock. By default that clock is virtual (paused and
//! advanced by the runtime when it has nothing else to do), so the tour shows the exact slices
//! the semantics promise without waiting a minute; `--real-time` runs them on the wall clock.

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::{Stream, StreamExt};
use zpark::prelude::*;
use zpark::sink::stdout_lines;
use zpark::source::{lines, naturals_every, InputReport};

/// Arguments of `zpark tour`.
#[derive(Debug, clap::Args)]
pub struct TourArgs {
    /// The engine: `local`, `local[N]`, or `sc://HOST:PORT` for Spark.
    #[arg(long, default_value = "local")]
    engine: String,
    /// Run the timed pipelines on the wall clock instead of tokio's virtual clock.
    #[arg(long)]
    real_time: bool,
    /// The file of Fahrenheit temperatures (default: the one shipped in data/).
    #[arg(long)]
    data: Option<PathBuf>,
}

/// Elements in and results out, over the whole tour.
#[derive(Debug, Default)]
struct Tally {
    input: Arc<AtomicU64>,
    output: u64,
    failed_slices: u64,
}

impl Tally {
    /// Counts the elements of `stream` as they enter a pipeline.
    fn count_in<S: Stream>(&self, stream: S) -> impl Stream<Item = S::Item> {
        let input = Arc::clone(&self.input);
        stream.inspect(move |_| {
            input.fetch_add(1, Ordering::Relaxed);
        })
    }
}

const FAHRENHEIT: &str = include_str!("../../../data/fahrenheit.txt");

pub fn run(args: TourArgs) -> anyhow::Result<()> {
    let data = data_file(args.data)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(!args.real_time)
        .build()
        .context("cannot start the async runtime")?;
    let engine = runtime
        .block_on(connect(&args.engine))
        .with_context(|| format!("cannot start engine `{}`", args.engine))?;
    let clock = if args.real_time {
        "the wall clock"
    } else {
        "tokio's virtual clock (--real-time to wait for real)"
    };
    println!("zpark tour on engine {} — timed pipelines on {clock}", engine.url());
    runtime.block_on(tour(&engine, &data))
}

async fn tour(engine: &Engine, data: &Path) -> anyhow::Result<()> {
    let mut tally = Tally::default();
    let seed = || futures::stream::iter([1u64, 1, 2, 2, 3, 3, 4, 4]);

    heading("1. [1,1,2,2,3,3,4,4] parallelize(4) → count_rdd");
    print_all(
        tally.count_in(seed()).parallelize(engine, 4).count_rdd().continuize(),
        &mut tally,
    )
    .await?;

    heading("2. same → count_rdd_by_value");
    print_all(
        tally
            .count_in(seed())
            .parallelize(engine, 4)
            .count_rdd_by_value()
            .continuize(),
        &mut tally,
    )
    .await?;

    heading("3. same → map_rdd(+1) → reduce_rdd_with(Sum)");
    let sums = tally
        .count_in(seed())
        .parallelize(engine, 4)
        .map_rdd(|x| x + 1)
        .reduce_rdd_with(Reducer::Sum);
    print_all(sums.continuize(), &mut tally).await?;

    heading("4. naturals every 10 ms, take 5000, discretize(500 ms) → count_rdd");
    let naturals = tally.count_in(naturals_every(Duration::from_millis(10)).take(5000));
    print_all(
        naturals
            .discretize(engine, Duration::from_millis(500))
            .count_rdd()
            .continuize(),
        &mut tally,
    )
    .await?;

    heading(
        "5. naturals every 10 ms, take 500, discretize_keep_time(500 ms), window_rdd(1000 ms, 1000 ms) → (time, count)",
    );
    let windows = tally
        .count_in(naturals_every(Duration::from_millis(10)).take(500))
        .discretize_keep_time(engine, Duration::from_millis(500))
        .window_rdd(Duration::from_millis(1000), Duration::from_millis(1000))
        .then(|(time, rdd)| async move { rdd.count().await.map(|count| (time, count)) });
    print_all(windows, &mut tally).await?;

    heading(
        "6. Fahrenheit file, skip comments and blanks, parse, discretize(100 ms), (x, 1), group_by_key → (x, size)",
    );
    let report = InputReport::new();
    let temperatures = tally.count_in(fahrenheit(data).on_error(OnError::Fail, &report));
    let sizes = temperatures
        .discretize(engine, Duration::from_millis(100))
        .map_rdd(|x| (x, 1u32))
        .group_by_key()
        .map_rdd(|(x, ones)| (x, ones.len()));
    print_all(sizes.continuize(), &mut tally).await?;
    report
        .finish()
        .context("the Fahrenheit pipeline stopped at a bad line")?;

    heading("7. two naturals streams every 100 ms, take 50, discretize(250 ms), zip_rdd → count_rdd_by_value");
    let left = tally.count_in(naturals_every(Duration::from_millis(100)).take(50));
    let right = tally.count_in(naturals_every(Duration::from_millis(100)).take(50));
    let zipped = left
        .discretize(engine, Duration::from_millis(250))
        .zip_rdd(right.discretize(engine, Duration::from_millis(250)))
        .count_rdd_by_value();
    print_all(zipped.continuize(), &mut tally).await?;

    heading("8. event time: 300 readings stamped every 10 ms, out of order by < 150 ms, 5 stragglers; discretize_by_event_time(500 ms, lateness 200 ms) → (time, count)");
    let mut slices = tally
        .count_in(futures::stream::iter(readings()))
        .discretize_by_event_time(
            engine,
            |(stamp, _)| *stamp,
            Duration::from_millis(500),
            Duration::from_millis(200),
        );
    let late = slices.late_elements();
    let counts = slices.then(|(time, rdd)| async move { rdd.count().await.map(|count| (time, count)) });
    print_all(counts, &mut tally).await?;
    let late: Vec<String> = late
        .map(|(stamp, id)| format!("#{id} stamped {}ms", stamp.as_millis()))
        .collect()
        .await;
    println!(
        "    late, sent to the side stream ({}): {}",
        late.len(),
        late.join(", ")
    );
    tally.output += late.len() as u64;

    println!(
        "\n{} elements went in, {} results came out, {} slices failed",
        tally.input.load(Ordering::Relaxed),
        tally.output,
        tally.failed_slices
    );
    anyhow::ensure!(tally.failed_slices == 0, "{} slices failed", tally.failed_slices);
    Ok(())
}

fn heading(title: &str) {
    println!("\n== {title}");
}

/// Prints every result; a failed slice is reported on stderr and counted, the rest go on.
async fn print_all<T: Debug, S>(results: S, tally: &mut Tally) -> anyhow::Result<()>
where
    S: Stream<Item = zpark::Result<T>>,
{
    let mut out = stdout_lines();
    let mut results = std::pin::pin!(results);
    while let Some(result) = results.next().await {
        match result {
            Ok(value) => {
                out.write(value)?;
                tally.output += 1;
            }
            Err(error) => {
                eprintln!("zpark: {error}");
                tally.failed_slices += 1;
            }
        }
    }
    Ok(())
}

/// Readings `(stamp, id)`: 300 stamped every 10 ms and delivered out of order by less than
/// 150 ms, then 5 stragglers stamped 800 ms before the latest reading (late: their slice closed).
fn readings() -> Vec<(Duration, u32)> {
    let mut on_time: Vec<(u64, u64, u32)> = (0..300u32)
        .map(|id| {
            let stamp = u64::from(id) * 10;
            (stamp + (u64::from(id) * 37) % 150, stamp, id)
        })
        .collect();
    on_time.sort();
    let mut readings: Vec<(Duration, u32)> = on_time
        .into_iter()
        .map(|(_, stamp, id)| (Duration::from_millis(stamp), id))
        .collect();
    for (k, at) in [60usize, 120, 180, 240, 299].into_iter().enumerate() {
        let latest = readings[..at].iter().map(|(stamp, _)| *stamp).max().unwrap_or_default();
        readings.insert(
            at + k,
            (latest.saturating_sub(Duration::from_millis(800)), 1000 + k as u32),
        );
    }
    readings
}

/// The engine of a URL: the embedded one, or (built with `--features spark`) Spark, taught the
/// tour's own element types.
async fn connect(url: &str) -> zpark::Result<Engine> {
    #[cfg(feature = "spark")]
    if url.trim().starts_with("sc://") {
        return zpark::spark::builder(url)
            .register::<(Fahrenheit, u32)>()
            .register::<(Fahrenheit, Vec<u32>)>()
            .register::<(Duration, u32)>()
            .connect()
            .await;
    }
    Engine::connect(url)
}

/// A temperature, usable as a key: equal when the numbers are bit for bit equal.
#[derive(Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct Fahrenheit(f64);

impl Eq for Fahrenheit {}

impl Hash for Fahrenheit {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl Debug for Fahrenheit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// The temperatures of the file: comments and blanks skipped, each other line parsed, a line
/// that does not parse an error naming the file and line.
fn fahrenheit(path: &Path) -> impl Stream<Item = zpark::Result<Fahrenheit>> + Send + 'static {
    let input = path.display().to_string();
    lines(path).enumerate().filter_map(move |(index, line)| {
        let parsed = match line {
            Err(error) => Some(Err(error)),
            Ok(text) if text.trim().is_empty() || text.trim_start().starts_with("//") => None,
            Ok(text) => Some(
                text.trim()
                    .parse::<f64>()
                    .map(Fahrenheit)
                    .map_err(|error| Error::Parse {
                        input: input.clone(),
                        line: index as u64 + 1,
                        record: text,
                        reason: error.to_string(),
                    }),
            ),
        };
        futures::future::ready(parsed)
    })
}

/// The data file: the one given, the one in the source tree, or the shipped copy written to a
/// temporary file when the binary runs away from its source tree.
fn data_file(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let in_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/fahrenheit.txt");
    if in_tree.exists() {
        return Ok(in_tree);
    }
    let copy = std::env::temp_dir().join("zpark-tour-fahrenheit.txt");
    std::fs::write(&copy, FAHRENHEIT).with_context(|| format!("cannot write {}", copy.display()))?;
    Ok(copy)
}
