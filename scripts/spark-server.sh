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
PYTHON=$VENV/bin/python
# shellcheck source=scripts/service.sh
. "$(dirname "$0")/service.sh"

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

start() {
    install
    mkdir -p "$RUN_DIR"
    already_running && return 0
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
    await_answer 240
}

stop() {
    stop_service
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
