#!/usr/bin/env bash
# Builds tendril-bench in release mode and runs one of its subcommands (paths given to --csv
# and --plot are relative to where you run this from):
#   bash Benchmarks/run.sh growth --quick            # the README's main job
#   bash Benchmarks/run.sh growth --csv growth.csv --plot docs/growth.svg
#   bash Benchmarks/run.sh hydrate [--quick] [--csv F]
#   bash Benchmarks/run.sh queries [--quick] [--csv F]
#   bash Benchmarks/run.sh scale [--quick] [--refs N,...] [--csv F]   # long reference lists (issue 13)
#   bash Benchmarks/run.sh soak [--quick] [--cycles N]   # nothing may accumulate (docs/reliability.md)
#   bash Benchmarks/run.sh lab [--quick] [--csv F] [--plot DIR]   # cache-policy miss ratios, no server (docs/cache-policy-lab.md)
#   bash Benchmarks/run.sh sharing [--quick] [--csv F] [--plot F.svg]   # many parents sharing targets: pool, bytes kept (issue 16)
#   bash Benchmarks/run.sh overhead [--quick] [--csv F]   # one kept document against its BSON at 5, 7 and 20 fields
#   bash Benchmarks/run.sh hydration [--quick]       # in memory, no server
#   bash Benchmarks/run.sh micro [--filter REGEX]    # package-benchmark micro-benchmarks, no server
# Server benchmarks start a private test server themselves unless MONGODB_URI is set.
set -euo pipefail
package=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$package/../scripts/install-system-deps.sh"
if [[ "${1:-}" == "micro" ]]; then
    shift
    # package-benchmark's plugin builds and runs the TendrilMicro target (malloc metrics included).
    exec swift package --package-path "$package" --disable-sandbox benchmark --target TendrilMicro "$@"
fi
if [[ "${1:-}" == "hydration" ]]; then
    shift
    echo "Building tendril-hydration (release)..." >&2
    swift build -c release --package-path "$package" --product tendril-hydration >&2
    # Allocation counts come from ordo-one's malloc-interposer, which must be preloaded.
    interposer=$(find "$package/.build/release/" -maxdepth 1 -name 'libMallocInterposerSwift.so' | head -n 1)
    exec env LD_PRELOAD="$interposer" "$package/.build/release/tendril-hydration" "$@"
fi
echo "Building tendril-bench (release)..." >&2
swift build -c release --package-path "$package" --product tendril-bench >&2
exec "$package/.build/release/tendril-bench" "$@"
