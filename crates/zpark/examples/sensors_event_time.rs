//! Readings sliced by the time written in them, averaged per 10-second window, with late
//! readings reported on a side stream.
//!
//! `cargo run -p zpark --example sensors_event_time`

use std::time::Duration;

use futures::StreamExt;
use zpark::prelude::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), zpark::Error> {
    let engine = Engine::local(2);
    // (second, sensor, value), a little out of order, and one reading 40 s late.
    let mut readings: Vec<(u64, &str, f64)> = (0..60)
        .map(|s| (s, if s % 2 == 0 { "north" } else { "south" }, 20.0 + (s % 7) as f64))
        .collect();
    readings.swap(10, 12);
    readings.push((3, "north", 99.0));
    let mut slices = futures::stream::iter(readings).discretize_by_event_time(
        &engine,
        |(second, _, _)| Duration::from_secs(*second),
        Duration::from_secs(5),
        Duration::from_secs(3),
    );
    let late = slices.late_elements();
    let mut means = slices
        .map_rdd(|(_, sensor, value)| (sensor, (value, 1u32)))
        .reduce_by_key_and_window(
            |(a, n), (b, m)| (a + b, n + m),
            Duration::from_secs(10),
            Duration::from_secs(10),
        )
        .map_rdd(|(sensor, (sum, n))| (sensor, sum / f64::from(n)));
    while let Some((time, rdd)) = means.next().await {
        let mut window = rdd.collect().await?;
        window.sort_by(|a, b| a.0.cmp(b.0));
        println!("window ending {time}: {window:?}");
    }
    println!("late: {:?}", late.collect::<Vec<_>>().await);
    Ok(())
}
