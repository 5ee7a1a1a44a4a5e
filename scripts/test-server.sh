#!/usr/bin/env bash
# Start/stop a local MongoDB-wire-protocol test server (nx-27017, in-memory)
# on a free loopback port. See docs/test-server.md.
#
#   scripts/test-server.sh start    # prints mongodb://127.0.0.1:PORT/
#   scripts/test-server.sh status
#   scripts/test-server.sh stop
#
# State lives in a run directory (default .testserver/ in the repo root,
# override with TENDRIL_TESTSERVER_DIR), so several servers can run side by
# side in different run directories:
#   server.pid     PID of the server process (the only thing `stop` kills)
#   env            MONGODB_URI=mongodb://127.0.0.1:PORT/
#   server.log     the server's stdout/stderr
#   nx-27017.log   nx-27017's own --log-file (same messages, without tracebacks)
#   nx-27017.pid   nx-27017's own --pid-file
# Fault tests restart a server where it was, with its data:
#   TENDRIL_TESTSERVER_PORT=N       listen on port N instead of a free one
#   TENDRIL_TESTSERVER_DATA_DIR=D   keep the databases in files under D (default: in memory)
# Only the URI goes to stdout; everything else goes to stderr.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo_root/.venv-testserver"
rundir=${TENDRIL_TESTSERVER_DIR:-"$repo_root/.testserver"}
startup_timeout=${TENDRIL_TESTSERVER_TIMEOUT:-30}
fixed_port=${TENDRIL_TESTSERVER_PORT:-}
data_dir=${TENDRIL_TESTSERVER_DATA_DIR:-}

pid_file="$rundir/server.pid"
env_file="$rundir/env"
log_file="$rundir/server.log"

log() { echo "test-server: $*" >&2; }

# True while PID is a process that has not exited yet. `kill -0` is not
# enough: the server is orphaned as soon as `start` returns, so once it exits
# it stays a zombie until PID 1 reaps it (1-2 s on these machines, longer when
# PID 1 is busy), and `kill -0` succeeds on a zombie. State Z or X in
# /proc/PID/stat (the field after the command's closing parenthesis) means
# it has exited.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ -n "$stat" && ${stat:0:1} != Z && ${stat:0:1} != X ]]
}

# PID recorded in the run dir, if it names a live nx-27017 process. The
# cmdline check guards against killing an unrelated process that reused
# the PID after the server died.
running_pid() {
    [[ -f "$pid_file" ]] || return 1
    local pid
    pid=$(tr -dc '0-9' <"$pid_file")
    [[ -n "$pid" ]] || return 1
    alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'nx-27017' || return 1
    echo "$pid"
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# One MongoDB handshake (`hello`) against the server; exit 0 if it answers ok.
# pymongo is always in the venv (nx-27017 depends on it).
handshake() {
    env -u PYTHONPATH -u PYTHONHOME "$venv/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys
from pymongo import MongoClient
client = MongoClient(sys.argv[1], directConnection=True,
                     serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
try:
    reply = client.admin.command("hello")
    sys.exit(0 if reply.get("ok") == 1 else 1)
finally:
    client.close()
PY
}

# nx-27017 exits within about 0.2 s of SIGTERM (its handler calls sys.exit;
# open client connections and in-flight requests do not hold it), so poll
# often; SIGKILL only if it is still running (not a zombie) after 10 s.
stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 200); do
        alive "$pid" || return 0
        sleep 0.05
    done
    log "PID $pid ignored SIGTERM for 10 s; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
}

cmd_start() {
    local pid
    if pid=$(running_pid); then
        # Already running in this run dir: report it, start nothing.
        # shellcheck disable=SC1090
        (source "$env_file" && echo "$MONGODB_URI")
        return 0
    fi

    # Idempotent and fast when already installed.
    bash "$repo_root/scripts/install-test-server.sh"
    mkdir -p "$rundir"
    rm -f "$pid_file" "$env_file" "$rundir/nx-27017.pid"
    : >"$log_file"

    # The port is picked before the server binds it, so another process can
    # grab it in between; retry a few times with a fresh port if that happens.
    local attempt port uri deadline
    for attempt in 1 2 3; do
        port=${fixed_port:-$(free_port)}
        uri="mongodb://127.0.0.1:$port/"
        local storage=(--db memory)
        if [[ -n "$data_dir" ]]; then
            mkdir -p "$data_dir"
            storage=(--data-dir "$data_dir")
        fi
        # Foreground mode (no --daemon), backgrounded here: nx-27017's --daemon
        # double-forks, which would lose the PID. All fds are redirected so the
        # server never holds a caller's pipe open (e.g. `$(... start)` or CI).
        # A caller's PYTHONPATH/PYTHONHOME must not leak into the venv.
        # --default-signal unblocks TERM and INT: fork and exec keep the
        # caller's signal mask, and a caller running on a thread that blocks
        # them (a Swift concurrency or Dispatch worker thread, as when the
        # benchmarks re-run themselves under with-test-server.sh) would give
        # the server a SIGTERM that stays pending until stop's SIGKILL.
        env -u PYTHONPATH -u PYTHONHOME --default-signal=TERM,INT "$venv/bin/nx-27017" \
            --host 127.0.0.1 --port "$port" "${storage[@]}" \
            --pid-file "$rundir/nx-27017.pid" \
            --log-file "$rundir/nx-27017.log" \
            </dev/null >>"$log_file" 2>&1 &
        pid=$!
        echo "$pid" >"$pid_file"

        deadline=$((SECONDS + startup_timeout))
        while ((SECONDS < deadline)); do
            if ! alive "$pid"; then
                break
            fi
            if handshake "$uri"; then
                echo "MONGODB_URI=$uri" >"$env_file"
                log "nx-27017 (PID $pid) ready at $uri"
                echo "$uri"
                return 0
            fi
            sleep 0.2
        done

        if alive "$pid"; then
            log "nx-27017 (PID $pid) did not answer a handshake within ${startup_timeout}s"
            stop_pid "$pid"
            rm -f "$pid_file"
            break
        fi
        rm -f "$pid_file"
        if [[ -z "$fixed_port" ]] && grep -q 'Address already in use' "$log_file" 2>/dev/null && ((attempt < 3)); then
            log "port $port was taken before nx-27017 bound it; retrying"
            continue
        fi
        log "nx-27017 exited during startup"
        break
    done

    log "failed to start; server log ($log_file):"
    cat "$log_file" >&2 || true
    return 1
}

cmd_stop() {
    local pid
    if pid=$(running_pid); then
        stop_pid "$pid"
        log "stopped nx-27017 (PID $pid)"
    fi
    rm -f "$pid_file" "$env_file"
}

cmd_status() {
    local pid
    if pid=$(running_pid); then
        # shellcheck disable=SC1090
        echo "running (PID $pid) $(source "$env_file" && echo "$MONGODB_URI")"
    else
        echo "not running"
        return 1
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 start|stop|status   (run dir: \$TENDRIL_TESTSERVER_DIR, default .testserver/)" >&2
        exit 2
        ;;
esac
