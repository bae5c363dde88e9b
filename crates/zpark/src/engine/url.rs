//! Parsing engine URLs: `local`, `local[N]`, `local[*]`, `sc://HOST:PORT`.

use crate::error::{Error, Result};

/// What an engine URL asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EngineUrl {
    /// The embedded engine with this many threads.
    Local(usize),
    /// A Spark Connect server.
    Spark,
}

pub(crate) fn parse(url: &str) -> Result<EngineUrl> {
    let unknown = || Error::UnknownEngineUrl { url: url.to_string() };
    let trimmed = url.trim();
    if trimmed == "local" || trimmed == "local[*]" {
        return Ok(EngineUrl::Local(cores()));
    }
    if trimmed.starts_with("sc://") {
        return Ok(EngineUrl::Spark);
    }
    let threads = trimmed
        .strip_prefix("local[")
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(unknown)?;
    match threads.parse::<usize>() {
        Ok(0) | Err(_) => Err(unknown()),
        Ok(n) => Ok(EngineUrl::Local(n)),
    }
}

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
        assert_eq!(parse("sc://127.0.0.1:15002").ok(), Some(EngineUrl::Spark));
    }

    #[test]
    fn refuses_the_rest_with_the_accepted_forms() {
        for bad in ["", "local[0]", "local[x]", "local[2", "spark://h:7077", "yarn"] {
            let err = parse(bad).unwrap_err();
            assert!(err.to_string().contains("local[N]"), "{bad}: {err}");
        }
    }
}
