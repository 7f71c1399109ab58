#!/usr/bin/env bash
# Installs what the build needs, pinned, and only what is missing. Quick when all is present.
# Nothing here downloads from outside the package registries (crates.io, npm).
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# wasm-bindgen-cli must match the wasm-bindgen library in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
NODE_MIN_MAJOR=20

say() { printf '  [tools] %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null; then
  say "cargo not found: install Rust with rustup first (https://rustup.rs)"; exit 1
fi

# rust-toolchain.toml pins the compiler and asks for the wasm target; make sure it is there.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# `worker-build --version` prints the bare version.
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (about 4 minutes on 2 cores)"
  cargo install --quiet --locked --force worker-build --version "$WORKER_BUILD_VERSION"
fi

if [ -z "$WASM_BINDGEN_VERSION" ]; then
  say "no wasm-bindgen in Cargo.lock"; exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $NF}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes on 2 cores)"
  # Not --locked: the CLI's own lockfile names a yanked crate version; the CLI version is pinned.
  cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! command -v node >/dev/null; then
  say "node not found: install Node.js ${NODE_MIN_MAJOR} or later"; exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt "$NODE_MIN_MAJOR" ]; then
  say "Node.js $(node --version) is too old: wrangler needs ${NODE_MIN_MAJOR}.3 or later"; exit 1
fi

# npm ci only when node_modules does not match package-lock.json.
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (wrangler, workerd) from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
fi
