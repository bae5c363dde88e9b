//! # zpark
//!
//! Drive batch map/reduce from a continuous stream. A [`futures::Stream`] is cut into slices
//! ([`discretize`]), each slice becomes an immutable, partitioned [`Rdd`] that an [`Engine`]
//! processes ([`slice_ops`], [`window`]), and the results become a stream again
//! ([`continuize`](slice_ops::SliceStreamExt::continuize)).
//!
//! ```
//! use futures::StreamExt;
//! use zpark::prelude::*;
//!
//! # futures::executor::block_on(async {
//! let engine = Engine::local(2);
//! let counts: Vec<u64> = futures::stream::iter([1, 1, 2, 2, 3, 3, 4, 4])
//!     .parallelize(&engine, 4)   // slices of 4 elements
//!     .count_rdd()               // one count per slice
//!     .continuize()              // back to a stream of results
//!     .map(|r| r.unwrap())
//!     .collect()
//!     .await;
//! assert_eq!(counts, vec![4, 4]);
//! # });
//! ```
//!
//! The stages of the data path live in modules named after them: [`source`] → [`discretize`] →
//! [`slice_ops`] → [`window`] → [`sink`], with [`engine`] and [`rdd`] underneath; [`checkpoint`]
//! makes a pipeline over files resume after a crash with nothing lost and nothing twice.

mod awk_fields;
pub mod checkpoint;
pub mod discretize;
pub mod durable;
pub mod engine;
mod error;
mod field;
mod line_block;
pub mod rdd;
pub mod sink;
pub mod slice_ops;
pub mod source;
pub mod state;
mod time;
#[cfg(feature = "ui")]
pub mod ui;
pub mod window;

pub use awk_fields::nth_field;
pub use engine::{Engine, Reducer};
pub use error::{ClusterCause, Error, Report, Result};
pub use field::{parse_float, parse_int, Field};
pub use line_block::{LineBlock, Lines};
pub use rdd::{Data, Rdd};
pub use time::SliceTime;

/// Everything a pipeline needs, in one `use`.
///
/// ```
/// use zpark::prelude::*;
/// let _engine: Engine = Engine::local(1);
/// ```
pub mod prelude {
    pub use crate::discretize::{DiscretizeExt, LineBlockExt};
    pub use crate::slice_ops::{Slice, SliceStreamExt};
    pub use crate::source::{OnError, TryStreamZparkExt};
    pub use crate::state::StateStreamExt;
    pub use crate::time::SliceTime;
    pub use crate::window::{PairWindowExt, WindowExt};
    pub use crate::{Data, Engine, Error, Rdd, Reducer, Result};
}

#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
