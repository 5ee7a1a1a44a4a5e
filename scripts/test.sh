#!/usr/bin/env bash
# One command to run the test suite on a fresh machine: system libraries,
# then `swift test` against a private test server (or $MONGODB_URI if set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-system-deps.sh
# The time limit turns a hang into a failure long before CI's own limit.
exec bash scripts/with-test-server.sh timeout --kill-after=30 1800 swift test --disable-xctest "$@"
