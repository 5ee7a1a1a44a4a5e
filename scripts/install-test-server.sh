#!/usr/bin/env bash
# Create/refresh the Python venv that holds the local MongoDB-wire-protocol
# test server (nx-27017) and mockupdb. pip runs only when the pinned
# requirements differ from what the venv was last installed with.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo_root/.venv-testserver"
requirements="$repo_root/scripts/test-server-requirements.txt"
stamp="$venv/.tendril-requirements.sha256"

want=$(sha256sum "$requirements" | cut -d' ' -f1)

# A venv is usable if its interpreter runs (a moved/upgraded python breaks it).
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi

# Stamp matches and the server entry point exists: nothing to do.
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/nx-27017" ]]; then
    exit 0
fi

echo "install-test-server: installing $(grep -v '^#' "$requirements" | xargs) into .venv-testserver" >&2
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$requirements"
echo "$want" >"$stamp"
