#!/usr/bin/env bash
# What is big in the Worker's wasm: twiggy's largest items and generic functions, read from
# the copy of the shipped module that build-worker.sh keeps with its function names. Installs
# twiggy, pinned, from crates.io when it is missing. For generic arguments in the names (which
# Deserializer a serde function serves), build once with `-C symbol-mangling-version=v0` added to
# the wasm target's rustflags.
set -euo pipefail
cd "$(dirname "$0")/.."

TWIGGY_VERSION=0.8.0
wasm=target/worker-named.wasm
items=${ITEMS:-30}

say() { printf '  [bundle-profile] %s\n' "$*" >&2; }

# `twiggy --version` prints "twiggy-opt 0.8.0".
if [ "$(twiggy --version 2>/dev/null | awk 'NR == 1 {print $NF}')" != "$TWIGGY_VERSION" ]; then
  say "installing twiggy $TWIGGY_VERSION (about 5 minutes on 2 cores)"
  cargo install --quiet --locked --force twiggy --version "$TWIGGY_VERSION"
fi
if [ ! -f "$wasm" ]; then
  say "no $wasm: run make worker"; exit 1
fi

twiggy top -n "$items" "$wasm"
echo
twiggy monos -m "$items" -n 0 "$wasm"
