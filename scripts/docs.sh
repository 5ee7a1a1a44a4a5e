#!/usr/bin/env bash
# Builds the DocC documentation of both library modules, every DocC warning an error (a broken
# symbol link, an undocumented parameter): what CI checks. Archives land in
# .build/plugins/Swift-DocC/outputs/. Pass --target NAME to build one module.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-system-deps.sh
targets=(TendrilDriver Tendril)
if [[ "${1:-}" == "--target" && -n "${2:-}" ]]; then targets=("$2"); fi
for target in "${targets[@]}"; do
    swift package --disable-sandbox generate-documentation --target "$target" --warnings-as-errors
done
