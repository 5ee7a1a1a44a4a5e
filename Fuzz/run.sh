#!/usr/bin/env bash
# Builds the libFuzzer target (with AddressSanitizer) and fuzzes Tendril's decoding of untrusted
# BSON into documents, from a seed corpus made of MongoDB's BSON corpus and model-shaped
# documents:
#   bash Fuzz/run.sh            # 60 seconds
#   bash Fuzz/run.sh 600        # 10 minutes
# Any crash, leak or timeout stops it with a non-zero exit and the input in Fuzz/.build/artifacts/.
set -euo pipefail
package=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seconds=${1:-60}
bash "$package/../scripts/install-system-deps.sh"
echo "Building TendrilFuzz (libFuzzer + AddressSanitizer)..." >&2
swift build --package-path "$package" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address >&2
binary="$package/.build/debug/TendrilFuzz"
work="$package/.build/fuzz"
mkdir -p "$work/corpus" "$package/.build/artifacts"
python3 "$package/make-seeds.py" "$work/seeds" "$package/../../shared/bson-corpus"
export LSAN_OPTIONS="suppressions=$package/../Tests/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# New inputs go to corpus/, seeds are read from seeds/; -timeout flags any input slower than 10 s.
exec "$binary" "$work/corpus" "$work/seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$package/.build/artifacts/" -print_final_stats=1
