//! Row 16: data that stays on the cluster. A directory receives 20 log files; slices of time
//! of the new files; the count of each value of the 4th word. On Spark `local[2]` reading the
//! files itself (`text_files` → `field` → `count_by_value`, all on the server) against
//! today's path (the same lines read on the driver, their field taken there, and uploaded),
//! in the same run; the embedded engine's figure beside them.
//!
//! `cargo run --release -p zpark-bench --features spark -- --spark sc://127.0.0.1:15002 --row 16 [--quick]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use zpark::prelude::*;
use zpark::Field;

use crate::log_rows::plain_files;
use crate::{Row, Scale};

/// Files the directory receives.
const FILES: usize = 20;
/// Time between two arrivals.
const ARRIVAL: Duration = Duration::from_millis(100);
/// The slices' interval.
const SLICE: Duration = Duration::from_millis(200);

/// How a slice's lines reach the engine.
#[derive(Debug, Clone, Copy)]
enum Reach {
    /// As files, read where the engine reads them.
    Described,
    /// Read on the driver and handed over as rows (an element-wise closure over the lines).
    Uploaded,
}

pub fn row(url: &str, scale: Scale) -> anyhow::Result<Row> {
    let lines_per_file: u64 = if scale.repeats <= 3 { 200_000 } else { 1_000_000 };
    eprintln!("row 16: writing {FILES} files of {lines_per_file} lines (kept for the next run)...");
    let files = plain_files(FILES, lines_per_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(measure(url, &files, lines_per_file))
}

async fn measure(url: &str, files: &[PathBuf], lines_per_file: u64) -> anyhow::Result<Row> {
    let spark = zpark_spark::connect(url).await?;
    let embedded = Engine::local(2);
    let total = FILES as u64 * lines_per_file;
    // Warm the server up with the described path once, unmeasured: its first plans compile,
    // and the JVM compiles the scan, the expression and Spark Connect's planning only after
    // millions of lines (measured on a fresh server, the first run of the path took 6.8 s and
    // the next 5.5 s, even after a warm-up job over every file).
    eprintln!("row 16: warming the server up...");
    let (_, warm) = through_directory(&spark, files, Reach::Described, "warm-up").await?;
    anyhow::ensure!(!warm.is_empty(), "row 16: no counts from the warm-up");
    let mut seconds = Vec::new();
    let mut counts = Vec::new();
    for (name, engine, path) in [
        ("described", &spark, Reach::Described),
        ("uploaded", &spark, Reach::Uploaded),
        ("embedded", &embedded, Reach::Described),
    ] {
        eprintln!("row 16: {name} on {}...", engine.url());
        let (elapsed, counted) = through_directory(engine, files, path, name).await?;
        eprintln!("row 16: {name}: {elapsed:.2} s");
        seconds.push(elapsed);
        counts.push(counted);
    }
    // What Spark itself takes for the same work, in one job over every file: the floor of
    // the described path, whatever zpark does around it.
    let started = Instant::now();
    let one_job = spark
        .text_files(files)
        .field(Field::word(4)?)
        .count_by_value()
        .collect()
        .await?;
    let one_job_seconds = started.elapsed().as_secs_f64();
    eprintln!("row 16: one job: {one_job_seconds:.2} s");
    anyhow::ensure!(
        one_job.iter().map(|(_, n)| n).sum::<u64>() == total,
        "row 16: the one-job count does not add up"
    );
    anyhow::ensure!(
        counts.iter().all(|c| *c == counts[0]),
        "row 16: the three paths counted differently: {counts:?}"
    );
    anyhow::ensure!(
        counts[0].iter().map(|(_, n)| n).sum::<u64>() == total,
        "row 16: the counts do not add up to the {total} lines"
    );
    let rate = |s: f64| total as f64 / s / 1e6;
    let ratio = seconds[1] / seconds[0];
    Ok(Row {
        number: 16,
        workload: format!(
            "a directory receiving {FILES} files of {lines_per_file} lines (one every {} ms), slices of {} ms, count_by_value of the 4th word",
            ARRIVAL.as_millis(),
            SLICE.as_millis()
        ),
        figure: format!(
            "Spark reading the files itself: {:.1} s ({:.2} M lines/s); embedded engine: {:.1} s ({:.1} M lines/s)",
            seconds[0],
            rate(seconds[0]),
            seconds[2],
            rate(seconds[2])
        ),
        baseline: format!(
            "the same lines read on the driver and uploaded to Spark: {:.1} s ({:.2} M lines/s)",
            seconds[1],
            rate(seconds[1])
        ),
        note: format!(
            "same counts on the three paths; from the first arrival to the last slice's result; Spark's own floor, one job over the 20 files: {one_job_seconds:.1} s"
        ),
        result: format!("{ratio:.1}x"),
        target: ">= 10x".into(),
        met: Some(ratio >= 10.0),
    })
}

/// Moves `files` into a fresh directory one every [`ARRIVAL`] while the pipeline runs over
/// it; the time from the first arrival to the last slice's result, and the counts.
async fn through_directory(
    engine: &Engine,
    files: &[PathBuf],
    path: Reach,
    name: &str,
) -> anyhow::Result<(f64, Vec<(Option<String>, u64)>)> {
    let root = std::env::temp_dir().join(format!("zpark-bench-row16-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (staged, incoming) = (root.join("staged"), root.join("incoming"));
    std::fs::create_dir_all(&staged)?;
    std::fs::create_dir_all(&incoming)?;
    let mut waiting = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .ok_or_else(|| anyhow::anyhow!("a file without a name"))?;
        // A hard link: the file is not copied, and moves in whole by a rename.
        std::fs::hard_link(file, staged.join(name))?;
        waiting.push((staged.join(name), incoming.join(name)));
    }
    let started = Instant::now();
    let arrivals = tokio::spawn(async move {
        for (from, to) in waiting {
            std::fs::rename(from, to)?;
            tokio::time::sleep(ARRIVAL).await;
        }
        Ok::<_, std::io::Error>(())
    });
    let word = Field::word(4)?;
    let slices = zpark::source::new_files(&incoming, Duration::from_millis(20))
        .take(files.len())
        .discretize_files(engine, SLICE)
        .transform_rdd(move |lines| match path {
            Reach::Described => lines.field(word.clone()),
            Reach::Uploaded => lines.map(|line| line).field(word.clone()),
        })
        .count_rdd_by_value()
        .continuize_buffered(4);
    let results: Vec<zpark::Result<(Option<String>, u64)>> = slices.collect().await;
    let elapsed = started.elapsed().as_secs_f64();
    arrivals.await??;
    let mut totals = std::collections::BTreeMap::new();
    for counted in results {
        let (value, n) = counted.map_err(|e| anyhow::anyhow!("row 16, {name}: {}", e.report()))?;
        *totals.entry(value).or_insert(0) += n;
    }
    remove(&root);
    Ok((elapsed, totals.into_iter().collect()))
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
