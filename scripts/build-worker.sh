#!/usr/bin/env bash
# Builds the Worker bundle (actors/build) with the pinned tools, never downloading a binary:
# worker-build would fetch wasm-bindgen, wasm-opt and esbuild from GitHub, so each is named here.
set -euo pipefail
cd "$(dirname "$0")/.."

export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/@esbuild/linux-x64/bin/esbuild}"
if [ ! -x "$ESBUILD_BIN" ]; then
  ESBUILD_BIN="$(ls -d "$PWD"/node_modules/@esbuild/*/bin/esbuild 2>/dev/null | head -n1)"
fi
opt_flag=--no-opt
if [ -x "$PWD/node_modules/.bin/wasm-opt" ]; then
  export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
  opt_flag=
fi

cd actors
worker-build --release $opt_flag >&2
wasm=$(ls build/*.wasm build/**/*.wasm 2>/dev/null | head -n1 || true)
if [ -n "$wasm" ]; then
  raw=$(stat -c %s "$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  printf 'worker bundle: %s  %d bytes, %d bytes gzipped (Workers free plan limit: 3 MB gzipped)\n' \
    "$wasm" "$raw" "$gz" >&2
fi
