//! Words of standard input counted per second, each second's top 5: a streaming `uniq -c`.
//!
//! `some-command | cargo run -p zpark --example words_per_second`

use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;
use zpark::source::{stdin_lines, InputReport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), zpark::Error> {
    let engine = Engine::local(2);
    let report = InputReport::new();
    let mut seconds = stdin_lines()
        .on_error(OnError::Fail, &report)
        .discretize_keep_time(&engine, Duration::from_secs(1))
        .flat_map_rdd(|line: String| line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
        .count_rdd_by_value();
    while let Some((time, counts)) = seconds.next().await {
        let mut counts = counts.collect().await?;
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts.truncate(5);
        println!("{time}: {counts:?}");
    }
    report.finish()
}
