# What the scripts that run a test service on 127.0.0.1 share (spark-server.sh, kafka-broker.sh):
# sourced by them, with PORT, PID_FILE, LOG_FILE, PYTHON (a python3 to probe the port) and a
# `say` function set.

# Whether something answers on 127.0.0.1:$PORT.
answers() {
    "$PYTHON" - "$PORT" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

# Whether the process of PID $1 runs (a killed service nobody has reaped yet is a zombie: not running).
alive() {
    kill -0 "$1" 2>/dev/null && ! ps -o stat= -p "$1" 2>/dev/null | grep -q '^Z'
}

# Whether the service of $PID_FILE runs already; refuses a port that another process holds.
already_running() {
    if [ -f "$PID_FILE" ] && alive "$(cat "$PID_FILE")"; then
        say "already running (PID $(cat "$PID_FILE"))"
        return 0
    fi
    if answers; then
        say "port $PORT is taken by another process: set the port variable"
        exit 1
    fi
    return 1
}

# Waits (half-seconds: $1) until the service of $PID_FILE answers; on failure shows its log,
# stops it and fails.
await_answer() {
    for _ in $(seq 1 "$1"); do
        if answers; then
            say "answers on 127.0.0.1:$PORT"
            return 0
        fi
        if ! alive "$(cat "$PID_FILE")"; then
            say "it exited; its log ends with:"
            tail -n 30 "$LOG_FILE" >&2
            return 1
        fi
        sleep 0.5
    done
    say "no answer on 127.0.0.1:$PORT; its log ends with:"
    tail -n 30 "$LOG_FILE" >&2
    stop_service
    return 1
}

# Stops the service of $PID_FILE: SIGTERM, then SIGKILL after 10 s.
stop_service() {
    [ -f "$PID_FILE" ] || return 0
    local pid
    pid=$(cat "$PID_FILE")
    if alive "$pid"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do
            alive "$pid" || break
            sleep 0.25
        done
        kill -9 "$pid" 2>/dev/null || true
        say "stopped (PID $pid)"
    fi
    rm -f "$PID_FILE"
}
