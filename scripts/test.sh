#!/usr/bin/env bash
# Runs every test of zpark on a fresh machine: installs what is missing, then formatting,
# lints, the whole test suite (unit, property, paused-clock, conformance, CLI, doc tests) and
# the docs build.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n=== %s\n' "$*"; }

section "toolchain"
if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust (https://rustup.rs) first" >&2
    exit 1
fi
cargo --version
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

section "format"
cargo fmt --all -- --check

section "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

section "tests"
cargo test --workspace --locked

section "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

echo
echo "all tests passed"
