#!/usr/bin/env bash
# One command to run the test suite on a fresh machine: system libraries,
# then `swift test` against a private test server (or $MONGODB_URI if set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-system-deps.sh
exec bash scripts/with-test-server.sh swift test --disable-xctest "$@"
