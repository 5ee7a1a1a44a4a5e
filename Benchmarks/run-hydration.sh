#!/usr/bin/env bash
# Builds tendril-bench in release mode and runs the in-memory hydration benchmark with
# ordo-one's malloc-interposer preloaded (for allocations per document). Needs no server.
#   bash Benchmarks/run-hydration.sh            # 100,000 documents
#   bash Benchmarks/run-hydration.sh --quick    # 20,000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash ../scripts/install-system-deps.sh
swift build -c release --product tendril-bench >&2
interposer=$(find .build/release/ -maxdepth 1 -name 'libMallocInterposerSwift.so' | head -n 1)
LD_PRELOAD="$interposer" .build/release/tendril-bench hydration "$@"
