//! zpark's Spark Connect layer.
//!
//! zpark runs the same pipelines on Apache Spark through Spark Connect: slices travel to the
//! server as Arrow data (a `LocalRelation`), the built-in operations run there as Spark plans,
//! and the results come back as Arrow batches. This crate holds the three layers that path
//! stands on, each usable and tested against a real server on its own:
//!
//! | module | what it does |
//! |---|---|
//! | [`codec`] | slices of any `T: Serialize + DeserializeOwned` to Arrow record batches and back (serde_arrow), errors that name the type |
//! | [`relation`] | the Spark plans of the built-in operations: a slice as bounded `LocalRelation` pieces, count, count by value, reduce by key with a built-in reducer, group by key, distinct, union |
//! | [`client`] | a connection that answers within a bounded time (the URL and the cause when not), runs plans on tokio without blocking it, several at once, and retries a server that went away with bounded backoff |
//!
//! Not here yet: the `Engine` backend that turns an `Rdd`'s lineage into these plans
//! (`Engine::connect("sc://...")` still says that the engine has not landed).
//!
//! The tests against a server are `#[ignore]`d; `scripts/test.sh` starts a Spark Connect server
//! on 127.0.0.1 (`scripts/spark-server.sh`) and runs them with `--ignored`.

pub mod client;
pub mod codec;
mod error;
pub mod relation;

pub use client::{Options, SparkClient};
pub use error::SparkError;
pub use relation::Reducer;
