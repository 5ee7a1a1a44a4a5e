#!/usr/bin/env bash
# Builds the example service (Examples/PeopleService, a package of its own depending on Tendril
# by path) and runs its route tests against a private test server (or $MONGODB_URI if set).
# Idempotent; installs nothing beyond scripts/install-system-deps.sh and the test server.
#
#   bash scripts/example.sh [swift test arguments]
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
bash scripts/install-system-deps.sh
example="$repo_root/Examples/PeopleService"
swift build --package-path "$example" --build-tests
# The time limit turns a hang into a failure long before CI's own limit.
exec bash scripts/with-test-server.sh timeout --kill-after=30 600 \
    swift test --package-path "$example" --skip-build --disable-xctest "$@"
