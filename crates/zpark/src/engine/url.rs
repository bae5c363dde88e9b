//! Parsing engine URLs: `local`, `local[N]`, `local[*]`, and `SCHEME://...` for the engines
//! registered by scheme (`sc://HOST:PORT`, Spark).

use crate::error::{Error, Result};

/// What an engine URL asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EngineUrl {
    /// The embedded engine with this many threads.
    Local(usize),
    /// An engine registered for this scheme (`sc` for Spark Connect).
    Scheme(String),
}

pub(crate) fn parse(url: &str) -> Result<EngineUrl> {
    let unknown = || Error::UnknownEngineUrl { url: url.to_string() };
    let trimmed = url.trim();
    if trimmed == "local" || trimmed == "local[*]" {
        return Ok(EngineUrl::Local(cores()));
    }
    if let Some((scheme, _)) = trimmed.split_once("://") {
        let well_formed = !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        return if well_formed {
            Ok(EngineUrl::Scheme(scheme.to_string()))
        } else {
            Err(unknown())
        };
    }
    let threads = trimmed
        .strip_prefix("local[")
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(unknown)?;
    match threads.parse::<usize>() {
        Ok(0) | Err(_) => Err(unknown()),
        Ok(n) if n > MAX_LOCAL_THREADS => Err(Error::InvalidArgument {
            operation: "Engine::connect",
            problem: format!("{trimmed} asks for {n} worker threads"),
            allowed: "at most 1024 worker threads (`local[*]` starts one per core)",
        }),
        Ok(n) => Ok(EngineUrl::Local(n)),
    }
}

/// The most worker threads a `local[N]` URL may ask for: more only queue on the cores, and tens
/// of thousands take minutes to start.
pub(crate) const MAX_LOCAL_THREADS: usize = 1024;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("local[3]").ok(), Some(EngineUrl::Local(3)));
        assert_eq!(parse("local").ok(), Some(EngineUrl::Local(cores())));
        assert_eq!(parse("local[*]").ok(), Some(EngineUrl::Local(cores())));
        assert_eq!(parse("sc://127.0.0.1:15002").ok(), Some(EngineUrl::Scheme("sc".into())));
    }

    #[test]
    fn refuses_the_rest_with_the_accepted_forms() {
        for bad in ["", "local[0]", "local[x]", "local[2", "://h:7077", "sp ark://h", "yarn"] {
            let err = parse(bad).unwrap_err();
            assert!(err.to_string().contains("local[N]"), "{bad}: {err}");
        }
    }

    #[test]
    fn refuses_more_threads_than_the_limit_saying_it() {
        assert_eq!(parse("local[1024]").ok(), Some(EngineUrl::Local(1024)));
        let err = parse("local[20000]").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        assert!(err.to_string().contains("at most 1024"), "{err}");
    }
}
