//! zpark on Apache Spark, through Spark Connect: an engine that implements zpark's one engine
//! trait ([`Backend`](zpark::engine::Backend)) from outside the core, translating each stage's
//! [`Plan`](zpark::engine::Plan) into a Spark Connect relation. Its build needs `protoc` (Debian package `protobuf-compiler`).
//!
//! [`connect`] gives a Spark engine with the default settings without blocking the caller, and
//! [`builder`] sets the options (types of your own, slices in flight, retries). After
//! [`register`], [`Engine::connect("sc://HOST:PORT")`](zpark::Engine::connect) works too, so
//! that code that takes an engine URL from its user needs no change.
//!
//! ```no_run
//! use futures::StreamExt;
//! use zpark::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> zpark::Result<()> {
//! let engine = zpark_spark::connect("sc://127.0.0.1:15002").await?;   // or Engine::connect(url)?
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
pub mod files;
mod registry;
pub mod relation;
mod shared;
mod stub;

pub use client::{Options, SparkClient};
pub use engine::{builder, connect, Builder};
pub use error::SparkError;

use zpark::{Engine, Error, Result};

/// Makes [`Engine::connect`] answer `sc://HOST:PORT` URLs with a Spark engine (the default
/// settings of [`builder`]). Call it once, early; calling it again does no harm.
///
/// `Engine::connect` blocks the calling thread until the server answers (at most its connect
/// timeout, 10 s): it connects on a thread of its own, so that a caller inside an async runtime
/// is not asked to nest one. In async code, [`connect`] does the same without blocking.
///
/// # Examples
///
/// ```
/// zpark_spark::register();
/// // No server listens on port 1: the error names the URL, as for any engine that is down.
/// let error = zpark::Engine::connect("sc://127.0.0.1:1").expect_err("nothing listens there");
/// assert!(matches!(error, zpark::Error::EngineUnavailable { .. }), "{error}");
/// assert!(error.to_string().contains("sc://127.0.0.1:1"), "{error}");
/// ```
pub fn register() {
    zpark::engine::register_scheme("sc", connect_blocking);
}

/// [`connect`], waited for on a thread of its own.
fn connect_blocking(url: &str) -> Result<Engine> {
    std::thread::scope(|scope| {
        let connecting = scope.spawn(|| futures::executor::block_on(connect(url)));
        connecting.join().unwrap_or_else(|_| {
            Err(Error::EngineUnavailable {
                url: url.to_string(),
                reason: "the thread connecting to the server panicked".into(),
            })
        })
    })
}
