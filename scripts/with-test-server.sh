#!/usr/bin/env bash
# Run CMD with MONGODB_URI pointing at a MongoDB-wire-protocol server.
#
#   scripts/with-test-server.sh CMD [ARGS...]
#
# If MONGODB_URI is already set (e.g. a real mongod), CMD runs against it and
# nothing is started. Otherwise a private nx-27017 server is started in its own
# run dir under .testserver/, and stopped (by PID) when CMD finishes or the
# script is interrupted. CMD's exit status is propagated.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

if [[ -n "${MONGODB_URI:-}" ]]; then
    exec "$@"
fi

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
server="$repo_root/scripts/test-server.sh"

bash "$repo_root/scripts/install-test-server.sh"

# A unique run dir per invocation, so concurrent runs never share a server.
mkdir -p "$repo_root/.testserver"
TENDRIL_TESTSERVER_DIR=$(mktemp -d "$repo_root/.testserver/run.XXXXXX")
export TENDRIL_TESTSERVER_DIR

status=1
cleanup() {
    trap - EXIT INT TERM
    bash "$server" stop || true
    # Keep the logs of a failed run for inspection; drop them otherwise.
    if [[ $status -eq 0 ]]; then
        rm -rf "$TENDRIL_TESTSERVER_DIR"
    else
        echo "with-test-server: server logs kept in $TENDRIL_TESTSERVER_DIR" >&2
    fi
}
trap cleanup EXIT
trap 'status=130; exit 130' INT
trap 'status=143; exit 143' TERM

MONGODB_URI=$(bash "$server" start)
export MONGODB_URI
# Tells the tests which server they face, so the known differences of nx-27017 from
# MongoDB (docs/server-compatibility.md) are recorded as known issues, not failures.
export TENDRIL_TEST_SERVER=nx-27017

# Not `exec`: the trap has to run after CMD to stop the server.
set +e
"$@"
status=$?
set -e
exit "$status"
