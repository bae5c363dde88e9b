//! `zpark tour`: the pipelines of the seed article, on any engine.
//!
//! The timed pipelines run on tokio's clock. By default that clock is virtual (paused and
//! advanced by the runtime when it has nothing else to do), so the tour shows the exact slices
//! the semantics promise without waiting a minute; `--real-time` runs them on the wall clock.

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures::{Stream, StreamExt};
use zpark::prelude::*;
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
    let ms = Duration::from_millis;
    println!("Each result line is ` ----> [nanoseconds now] slice K *** result`, as the article's stdOutLines");
    println!("prints it; slices on the clock also show the interval they cover.");

    heading(
        "1. [1,1,2,2,3,3,4,4] parallelize(4) → count_rdd",
        "each slice holds 4 elements; its line is its size",
    );
    let sizes = tally.count_in(seed()).parallelize(engine, 4).count_rdd();
    print_slices(sizes, numbered, &mut tally).await?;

    heading(
        "2. same → count_rdd_by_value",
        "one line per distinct value of a slice: (value, how many times)",
    );
    let counts = tally.count_in(seed()).parallelize(engine, 4).count_rdd_by_value();
    print_slices(counts, numbered, &mut tally).await?;

    heading(
        "3. same → map_rdd(+1) → reduce_rdd_with(Sum)",
        "each slice's elements plus one, summed: 2+2+3+3 and 4+4+5+5",
    );
    let sums = tally
        .count_in(seed())
        .parallelize(engine, 4)
        .map_rdd(|x| x + 1)
        .reduce_rdd_with(Reducer::Sum);
    print_slices(sums, numbered, &mut tally).await?;

    heading(
        "4. naturals every 10 ms, take 5000, discretize(500 ms) → count_rdd",
        "a slice per half second of the clock; 50 naturals arrive in each",
    );
    let naturals = tally.count_in(naturals_every(ms(10)).take(5000));
    let counts = naturals.discretize(engine, ms(500)).count_rdd();
    print_slices(counts, every(ms(500)), &mut tally).await?;

    heading(
        "5. naturals every 10 ms, take 500, discretize_keep_time(500 ms), window_rdd(1000 ms, 1000 ms) → (time, count)",
        "a window per second, holding its two half-second slices: (end of the window, elements)",
    );
    let windows = tally
        .count_in(naturals_every(ms(10)).take(500))
        .discretize_keep_time(engine, ms(500))
        .window_rdd(ms(1000), ms(1000))
        .map(|(time, rdd)| rdd.count_as_rdd().map(move |count| (time, count)));
    print_slices(windows, windows_every(ms(1000)), &mut tally).await?;

    heading(
        "6. Fahrenheit file, skip comments and blanks, parse, discretize(100 ms), map_rdd(to Celsius), (c, 1), group_rdd_by_key → (c, size)",
        "the file is read within the first 100 ms: one slice, a line per distinct temperature in °C with its readings",
    );
    let report = InputReport::new();
    let temperatures = tally.count_in(fahrenheit(data).on_error(OnError::Fail, &report));
    let sizes = temperatures
        .discretize(engine, ms(100))
        .map_rdd(|f| (f.to_celsius(), 1u32))
        .group_rdd_by_key()
        .map_rdd(|(c, ones)| (c, ones.len()));
    print_slices(sizes, every(ms(100)), &mut tally).await?;
    report
        .finish()
        .context("the Fahrenheit pipeline stopped at a bad line")?;

    heading(
        "7. two naturals streams every 100 ms, take 50, discretize(250 ms), zip_rdd → count_rdd_by_value",
        "slice K of both streams unioned: each natural is in both, so each counts 2",
    );
    let left = tally.count_in(naturals_every(ms(100)).take(50));
    let right = tally.count_in(naturals_every(ms(100)).take(50));
    let zipped = left
        .discretize(engine, ms(250))
        .zip_rdd(right.discretize(engine, ms(250)))
        .count_rdd_by_value();
    print_slices(zipped, every(ms(250)), &mut tally).await?;

    heading(
        "8. event time: 300 readings stamped every 10 ms, out of order by < 150 ms, 5 stragglers; discretize_by_event_time(500 ms, lateness 200 ms) → (time, count)",
        "slices of the readings' own stamps: (end of the slice in event time, readings in it)",
    );
    let mut slices = tally
        .count_in(futures::stream::iter(readings()))
        .discretize_by_event_time(engine, |(stamp, _)| *stamp, ms(500), ms(200));
    let late = slices.late_elements();
    let counts = slices.map(|(time, rdd)| rdd.count_as_rdd().map(move |count| (time, count)));
    print_slices(counts, every(ms(500)), &mut tally).await?;
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

fn heading(title: &str, meaning: &str) {
    println!("\n== {title}");
    println!("   ({meaning})");
}

/// A slice's label: its number.
fn numbered(k: u64) -> String {
    format!("slice {k}")
}

/// A slice's label on a clock sliced every `d`: its number and the interval it covers.
fn every(d: Duration) -> impl Fn(u64) -> String {
    move |k| {
        let at = |n: u64| d.as_secs_f64() * n as f64;
        format!("slice {k} [{:.2}s, {:.2}s)", at(k - 1), at(k))
    }
}

/// A window's label, for windows of `d` every `d`: its number and the interval it covers.
fn windows_every(d: Duration) -> impl Fn(u64) -> String {
    let slice = every(d);
    move |k| slice(k).replacen("slice", "window", 1)
}

/// Prints every result of every slice, labelled with its slice; a failed slice is reported on
/// stderr and counted, the rest go on.
async fn print_slices<T, S, L>(slices: S, label: L, tally: &mut Tally) -> anyhow::Result<()>
where
    T: Debug + Data,
    S: Stream<Item = Rdd<T>>,
    L: Fn(u64) -> String,
{
    let mut out = std::io::stdout();
    let mut results = std::pin::pin!(slices.then(|rdd| async move { rdd.collect().await }));
    let mut k = 0;
    while let Some(result) = results.next().await {
        k += 1;
        match result {
            Ok(values) => {
                for value in values {
                    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
                    writeln!(out, " ----> [{nanos}] {} *** {value:?}", label(k))?;
                    tally.output += 1;
                }
                out.flush()?;
            }
            Err(error) => {
                eprintln!("zpark: {}", error.report());
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
        return zpark_spark::builder(url)
            .register::<(Celsius, u32)>()
            .register::<(Celsius, Vec<u32>)>()
            .register::<(Duration, u32)>()
            .connect()
            .await;
    }
    Engine::connect(url)
}

/// A temperature in °F, as the data file writes it.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Fahrenheit(f64);

impl Fahrenheit {
    /// The same temperature in °C, rounded to a tenth (as the article's pipeline converts).
    fn to_celsius(self) -> Celsius {
        Celsius(((self.0 - 32.0) * 5.0 / 9.0 * 10.0).round() / 10.0)
    }
}

/// A temperature in °C, usable as a key: equal when the numbers are bit for bit equal.
#[derive(Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct Celsius(f64);

impl Eq for Celsius {}

impl Hash for Celsius {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl Debug for Celsius {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}°C", self.0)
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
