#!/usr/bin/env bash
# A Spark Connect server for zpark's Spark tests, on 127.0.0.1 only.
#
#   scripts/spark-server.sh install   Java 17 (Debian package) and pyspark (pip, in a cached venv)
#   scripts/spark-server.sh start     installs if needed, starts local[2] on 127.0.0.1:PORT, waits until it answers
#   scripts/spark-server.sh stop      stops the server started by `start` (by its PID)
#
# PORT: ZPARK_SPARK_PORT (15002). The venv: ZPARK_SPARK_VENV (~/.cache/zpark/pyspark-<version>).
set -euo pipefail

PYSPARK_VERSION=4.3.0
PORT=${ZPARK_SPARK_PORT:-15002}
VENV=${ZPARK_SPARK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/zpark/pyspark-$PYSPARK_VERSION}
RUN_DIR=${ZPARK_SPARK_RUN:-${TMPDIR:-/tmp}/zpark-spark-$PORT}
PID_FILE=$RUN_DIR/server.pid
LOG_FILE=$RUN_DIR/server.log

say() { printf 'spark-server: %s\n' "$*" >&2; }

install() {
    if ! java -version 2>&1 | grep -q 'version "17'; then
        say "installing Java 17"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    fi
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import pyspark" 2>/dev/null; then
        say "installing pyspark $PYSPARK_VERSION into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check "pyspark==$PYSPARK_VERSION"
    fi
}

spark_home() {
    "$VENV/bin/python" -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))"
}

answers() {
    "$VENV/bin/python" - "$PORT" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

# Whether the process of PID $1 runs (a killed server nobody has reaped yet is a zombie: not running).
alive() {
    kill -0 "$1" 2>/dev/null && ! ps -o stat= -p "$1" 2>/dev/null | grep -q '^Z'
}

start() {
    install
    mkdir -p "$RUN_DIR"
    if [ -f "$PID_FILE" ] && alive "$(cat "$PID_FILE")"; then
        say "already running (PID $(cat "$PID_FILE"))"
        return 0
    fi
    if answers; then
        say "port $PORT is taken by another process: set ZPARK_SPARK_PORT"
        return 1
    fi
    local home jar
    home=$(spark_home)
    jar=$(ls "$home"/jars/spark-connect_*.jar)
    SPARK_HOME=$home nohup "$home/bin/spark-submit" \
        --class org.apache.spark.sql.connect.service.SparkConnectServer \
        --master 'local[2]' \
        --conf spark.connect.grpc.binding.address=127.0.0.1 \
        --conf spark.connect.grpc.binding.port="$PORT" \
        --conf spark.ui.enabled=false \
        "$jar" >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    say "starting (PID $(cat "$PID_FILE")), log in $LOG_FILE"
    for _ in $(seq 1 240); do
        if answers; then
            say "answers on 127.0.0.1:$PORT"
            return 0
        fi
        if ! alive "$(cat "$PID_FILE")"; then
            say "the server exited; its log ends with:"
            tail -n 30 "$LOG_FILE" >&2
            return 1
        fi
        sleep 0.5
    done
    say "no answer after 120 s; its log ends with:"
    tail -n 30 "$LOG_FILE" >&2
    stop
    return 1
}

stop() {
    [ -f "$PID_FILE" ] || return 0
    local pid
    pid=$(cat "$PID_FILE")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -9 "$pid" 2>/dev/null || true
        say "stopped (PID $pid)"
    fi
    rm -f "$PID_FILE"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
