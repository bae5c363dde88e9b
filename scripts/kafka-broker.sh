#!/usr/bin/env bash
# A Kafka-protocol broker for zpark's Kafka tests, on 127.0.0.1 only: tansu (crates.io,
# Apache-2.0), since Apache Kafka's own distribution cannot be downloaded here, and pip's
# confluent-kafka (librdkafka) as the independent producer and consumer of the tests.
#
#   scripts/kafka-broker.sh install   tansu (cargo install, about 11 minutes once; cached) and
#                                     confluent-kafka (pip, in a cached venv)
#   scripts/kafka-broker.sh start     installs if needed, starts the broker on 127.0.0.1:PORT
#                                     with in-memory storage, waits until it answers
#   scripts/kafka-broker.sh stop      stops the broker started by `start` (by its PID)
#   scripts/kafka-broker.sh python    prints the path of the venv's python (confluent-kafka)
#   scripts/kafka-broker.sh tansu     prints the path of the tansu binary (tests that stop and
#                                     restart a broker of their own)
#
# PORT: ZPARK_KAFKA_PORT (19092). The cache: ZPARK_KAFKA_CACHE (~/.cache/zpark/kafka).
set -euo pipefail

TANSU_VERSION=0.6.0
CONFLUENT_KAFKA_VERSION=2.16.1
PORT=${ZPARK_KAFKA_PORT:-19092}
CACHE=${ZPARK_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zpark/kafka}
TANSU=$CACHE/tansu-$TANSU_VERSION/bin/tansu
VENV=$CACHE/venv-confluent-kafka-$CONFLUENT_KAFKA_VERSION
RUN_DIR=${ZPARK_KAFKA_RUN:-${TMPDIR:-/tmp}/zpark-kafka-$PORT}
PID_FILE=$RUN_DIR/broker.pid
LOG_FILE=$RUN_DIR/broker.log

say() { printf 'kafka-broker: %s\n' "$*" >&2; }
PYTHON=$VENV/bin/python
# shellcheck source=scripts/service.sh
. "$(dirname "$0")/service.sh"

install() {
    if [ ! -x "$TANSU" ]; then
        say "installing tansu $TANSU_VERSION into $(dirname "$(dirname "$TANSU")") (about 11 minutes, once)"
        cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore,libsql \
            --root "$(dirname "$(dirname "$TANSU")")" --quiet
    fi
    if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
    fi
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import confluent_kafka" 2>/dev/null; then
        say "installing confluent-kafka $CONFLUENT_KAFKA_VERSION into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check "confluent-kafka==$CONFLUENT_KAFKA_VERSION"
    fi
}

start() {
    install
    mkdir -p "$RUN_DIR"
    already_running && return 0
    nohup "$TANSU" broker \
        --listener-url "tcp://127.0.0.1:$PORT" \
        --advertised-listener-url "tcp://127.0.0.1:$PORT" \
        --storage-engine memory://tansu/ \
        >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    say "starting (PID $(cat "$PID_FILE")), log in $LOG_FILE"
    await_answer 120
}

stop() {
    stop_service
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    python) echo "$VENV/bin/python" ;;
    tansu) echo "$TANSU" ;;
    *)
        echo "usage: $0 install|start|stop|python|tansu" >&2
        exit 2
        ;;
esac
