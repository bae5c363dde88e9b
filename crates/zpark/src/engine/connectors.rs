//! Engines found by the scheme of their URL: `Engine::connect("sc://...")` asks the connector
//! registered for `sc`, so that an engine in a crate of its own (Spark's, `zpark-spark`) plugs
//! in without the core naming it.
//!
//! A registry the program fills at start, as `log::set_logger` or tracing's global default do:
//! zpark has no way to find crates that are linked but never called.

use std::sync::{PoisonError, RwLock};

use super::Engine;
use crate::error::{Error, Result};

/// Connects to the engine a URL names; given the whole URL (`sc://host:port`).
///
/// # Examples
///
/// ```
/// let connect: zpark::engine::Connect = |_url| Ok(zpark::Engine::local(1));
/// assert_eq!(connect("any://where")?.url(), "local[1]");
/// # Ok::<_, zpark::Error>(())
/// ```
pub type Connect = fn(&str) -> Result<Engine>;

/// The connectors registered so far, by scheme.
static CONNECTORS: RwLock<Vec<(String, Connect)>> = RwLock::new(Vec::new());

/// Makes [`Engine::connect`] answer URLs `scheme://...` with `connect` (a later registration of
/// the same scheme replaces an earlier one). Engine crates call it from a function of their own
/// (`zpark_spark::register()`).
///
/// # Examples
///
/// ```
/// use zpark::Engine;
///
/// fn connect_test(url: &str) -> zpark::Result<Engine> {
///     assert!(url.starts_with("test://"));
///     Ok(Engine::local(1))
/// }
/// zpark::engine::register_scheme("test", connect_test);
/// assert_eq!(Engine::connect("test://anywhere")?.url(), "local[1]");
/// # Ok::<_, zpark::Error>(())
/// ```
pub fn register_scheme(scheme: &str, connect: Connect) {
    let mut connectors = CONNECTORS.write().unwrap_or_else(PoisonError::into_inner);
    connectors.retain(|(known, _)| known != scheme);
    connectors.push((scheme.to_string(), connect));
}

/// The connector registered for `scheme`.
pub(crate) fn connector(scheme: &str) -> Option<Connect> {
    let connectors = CONNECTORS.read().unwrap_or_else(PoisonError::into_inner);
    connectors
        .iter()
        .find(|(known, _)| known == scheme)
        .map(|(_, connect)| *connect)
}

/// Connects to `url`, whose scheme is `scheme`, through the registered connector.
pub(crate) fn connect(url: &str, scheme: &str) -> Result<Engine> {
    match connector(scheme) {
        Some(connect) => connect(url),
        None if scheme == "sc" => Err(Error::EngineUnavailable {
            url: url.to_string(),
            reason: "no Spark engine is registered in this program: add the `zpark-spark` crate and \
                     call `zpark_spark::register()` first (its build needs `protoc`, Debian package \
                     protobuf-compiler); the `zpark` binary has it when built with `--features spark`"
                .to_string(),
        }),
        None => Err(Error::UnknownEngineUrl { url: url.to_string() }),
    }
}
