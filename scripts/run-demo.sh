#!/usr/bin/env bash
# Build and run the tendril-demo executable against a private test server
# (or $MONGODB_URI if set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-system-deps.sh
exec bash scripts/with-test-server.sh swift run -c release tendril-demo "$@"
