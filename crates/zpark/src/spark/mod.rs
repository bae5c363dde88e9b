//! zpark on Apache Spark, through Spark Connect (the `spark` feature; its build needs `protoc`,
//! Debian package `protobuf-compiler`).
//!
//! [`Engine::connect("sc://HOST:PORT")`](crate::Engine::connect) gives a Spark engine with the
//! default settings; [`connect`] does the same without blocking the caller, and [`builder`]
//! sets the options (types of your own, slices in flight, retries).
//!
//! ```no_run
//! use futures::StreamExt;
//! use zpark::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> zpark::Result<()> {
//! let engine = zpark::spark::connect("sc://127.0.0.1:15002").await?;   // or Engine::connect(url)?
//! let counts: Vec<(u64, u64)> = futures::stream::iter(0..10_000u64)
//!     .parallelize(&engine, 1000)
//!     .map_rdd(|n| n % 10)        // on the driver, while the slice is encoded
//!     .count_rdd_by_value()       // on Spark
//!     .continuize()
//!     .map(Result::unwrap)
//!     .collect()
//!     .await;
//! assert_eq!(counts.len(), 100);
//! # Ok(()) }
//! ```
//!
//! See [`engine`] for what runs where. Underneath, three layers, each tested against a real
//! server on its own:
//!
//! | module | what it does |
//! |---|---|
//! | [`codec`] | slices of any `T: Serialize + DeserializeOwned` to Arrow record batches and back (serde_arrow), errors that name the type |
//! | [`relation`] | the Spark plans of the built-in operations: a slice as bounded `LocalRelation` pieces, count, count by value, reduce by key with a built-in reducer, group by key, distinct, union |
//! | [`client`] | a connection that answers within a bounded time (the URL and the cause when not), runs plans on tokio without blocking it, several at once, and retries a server that went away with bounded backoff |
//!
//! The tests against a server are `#[ignore]`d; `scripts/test.sh` starts a Spark Connect server
//! on 127.0.0.1 (`scripts/spark-server.sh`) and runs them with `--ignored`.

pub mod client;
pub mod codec;
pub mod engine;
mod error;
mod registry;
pub mod relation;
mod shared;
mod stub;

pub use client::{Options, SparkClient};
pub use engine::{builder, connect, Builder};
pub use error::SparkError;
