//! What the CLI's test files share: a scratch directory, running `zpark` in it, appending to a
//! log, signals. (Each test file uses some of it.)
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// An empty directory of its own for test `name` of `suite`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zpark-cli-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// `zpark ARGS` in `dir`, not started.
pub fn zpark(args: &[&str], dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zpark"));
    command.current_dir(dir).args(args);
    command
}

/// `zpark ARGS` in `dir`, run to its end.
pub fn run(args: &[&str], dir: &Path) -> Output {
    zpark(args, dir).output().expect("run zpark")
}

/// Bytes of an output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Appends `lines` to the file at `path` (made when missing).
pub fn append(path: &Path, lines: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("log");
    file.write_all(lines.as_bytes()).expect("append");
}

/// Sends `signal` (`INT`, `TERM`, `KILL`) to `child`.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "SIG{signal} to {}", child.id());
}
