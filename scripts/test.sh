#!/usr/bin/env bash
# Runs every test of zpark on a fresh machine: installs what is missing (protoc; Chromium;
# Java 17 and pyspark for the Spark Connect server; tansu and confluent-kafka for the Kafka
# broker), then formatting, lints, the whole test suite (unit, property, paused-clock,
# conformance, checkpoint kill, CLI and doc tests), the live page in a headless browser, the
# tests against a real Spark Connect server and a real Kafka broker, and the docs build.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n=== %s\n' "$*"; }

# Runs already-built tests with a time limit, so that a test that hangs fails the run with a
# message instead of eating CI's time: `bounded MINUTES command...`.
bounded() {
    local minutes=$1 status=0
    shift
    timeout --kill-after=30 "${minutes}m" "$@" || status=$?
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        echo "test.sh: '$*' ran longer than $minutes minutes: a test hangs (it was stopped)" >&2
    fi
    return "$status"
}

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

section "system packages"
# protoc builds the Spark Connect protocol types of the zpark-spark crate.
if ! command -v protoc >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
fi
protoc --version
# Chromium shows the live page of `zpark run --ui` in the browser test.
if ! command -v chromium >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
chromium --version 2>/dev/null

# python3 runs the module-loop check below and the Spark server's virtual environment.
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi

section "format"
cargo fmt --all -- --check

section "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p zpark-cli -p zpark-bench --features zpark-cli/spark,zpark-bench/spark --all-targets --locked -- -D warnings
cargo clippy -p zpark -p zpark-testkit --features zpark/kafka,zpark-testkit/kafka --all-targets --locked -- -D warnings
# No module imports one that imports it back, in any crate.
scripts/module-cycles.py crates/zpark/src crates/zpark-spark/src crates/zpark-cli/src crates/zpark-testkit/src crates/zpark-bench/src

section "tests"
cargo test --workspace --locked --no-run
bounded 20 cargo test --workspace --locked

section "the live page in headless Chromium (screenshot: target/ui-screenshot.png)"
cargo test -p zpark-cli --test ui --locked --no-run
bounded 5 cargo test -p zpark-cli --test ui --locked -- --ignored

section "Spark Connect tests (a local[2] server on 127.0.0.1, stopped at exit)"
# zpark-spark's tests and examples that need no server ran with the workspace above; here the
# ones that need it (`#[ignore]`d: the conformance suite of every engine, the engine's own
# tests, the kill, freeze and stall tests), then the tour and `zpark run DIR` on Spark.
cargo test -p zpark-spark --lib --tests --locked --no-run
cargo test -p zpark-cli --features spark --test tour_spark --test directory_spark --locked --no-run
trap 'scripts/spark-server.sh stop' EXIT
scripts/spark-server.sh start
bounded 15 cargo test -p zpark-spark --lib --tests --locked -- --ignored
bounded 5 cargo test -p zpark-cli --features spark --test tour_spark --test directory_spark --locked -- --ignored
scripts/spark-server.sh stop

section "Kafka tests (a tansu broker on 127.0.0.1, stopped at exit)"
# The Kafka source (feature `kafka`) against a real Kafka-protocol broker, records produced by
# an independent client (pip's confluent-kafka); the first run installs tansu (about 11 minutes,
# cached in ~/.cache/zpark/kafka).
cargo test -p zpark --features kafka --test kafka --locked --no-run
cargo test -p zpark-testkit --features kafka --test kill_and_resume --locked --no-run
trap 'scripts/kafka-broker.sh stop' EXIT
scripts/kafka-broker.sh start
ZPARK_KAFKA_BROKER=127.0.0.1:${ZPARK_KAFKA_PORT:-19092} ZPARK_KAFKA_PYTHON=$(scripts/kafka-broker.sh python) \
    ZPARK_KAFKA_TANSU=$(scripts/kafka-broker.sh tansu) \
    bounded 5 cargo test -p zpark --features kafka --test kafka --locked -- --include-ignored
# The kill test's Kafka case (its other cases ran with the workspace).
ZPARK_KAFKA_BROKER=127.0.0.1:${ZPARK_KAFKA_PORT:-19092} ZPARK_KAFKA_PYTHON=$(scripts/kafka-broker.sh python) \
    bounded 5 cargo test -p zpark-testkit --features kafka --test kill_and_resume --locked -- --ignored a_topic_read
bounded 5 cargo test -p zpark --features kafka --doc --locked -- kafka
scripts/kafka-broker.sh stop

section "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

echo
echo "all tests passed"
