#!/usr/bin/env bash
# Runs the test suite under a sanitizer, against a private test server (or $MONGODB_URI):
#   bash scripts/sanitize.sh address    # ASan + LeakSanitizer (XCTest's own leaks suppressed)
#   bash scripts/sanitize.sh thread     # ThreadSanitizer
# Each sanitizer builds in its own scratch folder (.build-asan, .build-tsan).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
sanitizer=${1:-}
case "$sanitizer" in
    address) scratch=.build-asan ;;
    thread) scratch=.build-tsan ;;
    *) echo "usage: $0 address|thread [swift test args...]" >&2; exit 2 ;;
esac
shift
bash scripts/install-system-deps.sh
export LSAN_OPTIONS="suppressions=$PWD/Tests/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
exec bash scripts/with-test-server.sh swift test --disable-xctest --sanitize="$sanitizer" --scratch-path "$scratch" "$@"
