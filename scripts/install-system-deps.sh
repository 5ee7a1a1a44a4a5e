#!/usr/bin/env bash
# Install the C libraries Tendril links against (libmongoc/libbson) plus
# pkg-config, which SwiftPM uses to find them. Quiet and fast when already
# installed; runs `apt-get update` only when something has to be installed.
set -euo pipefail

packages=(libmongoc-dev libbson-dev pkg-config)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

# Root (CI, containers) runs apt-get directly; otherwise use sudo if present.
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "install-system-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Sanity check: SwiftPM's system library target resolves via pkg-config.
if ! pkg-config --exists libmongoc-1.0; then
    echo "install-system-deps: pkg-config cannot find libmongoc-1.0 after install" >&2
    exit 1
fi
