//! The seed's first pipelines: slices of 4, counted and counted by value.
//!
//! `cargo run -p zpark --example quickstart`

use futures::StreamExt;
use zpark::prelude::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), zpark::Error> {
    let engine = Engine::local(2);
    let seed = || futures::stream::iter([1u64, 1, 2, 2, 3, 3, 4, 4]);

    let counts: Vec<zpark::Result<u64>> = seed().parallelize(&engine, 4).count_rdd().continuize().collect().await;
    println!(
        "count per slice: {:?}",
        counts.into_iter().collect::<Result<Vec<_>, _>>()?
    );

    let mut by_value = seed().parallelize(&engine, 4).count_rdd_by_value().continuize();
    while let Some(pair) = by_value.next().await {
        println!("(value, count): {:?}", pair?);
    }
    Ok(())
}
