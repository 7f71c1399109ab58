#!/usr/bin/env bash
# Builds the Worker bundle (actors/build) with the pinned tools, never downloading a binary:
# worker-build would fetch wasm-bindgen, wasm-opt and esbuild from GitHub, so each is named here.
#   scripts/build-worker.sh [CRATE_DIR]   (default actors; the bench-only e2e/bare-object-rs is
#                                          built the same way, so both pay the same glue)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
crate_dir="${1:-actors}"

export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/@esbuild/linux-x64/bin/esbuild}"
if [ ! -x "$ESBUILD_BIN" ]; then
  ESBUILD_BIN="$(ls -d "$PWD"/node_modules/@esbuild/*/bin/esbuild 2>/dev/null | head -n1)"
fi
# binaryen's wasm-opt from the npm package (package-lock.json pins it); WASM_OPT_BIN may name
# another build, e.g. a native one, which is faster than this one compiled to JavaScript.
WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
if [ ! -x "$WASM_OPT_BIN" ]; then
  echo "wasm-opt not found at $WASM_OPT_BIN: run scripts/install-tools.sh (npm ci)" >&2
  exit 1
fi
# The shipped module with its function names: what `make bundle-profile` reads, and what maps
# a trap's function index in the Worker's logs back to a name (the shipped module has none).
NAMED_COPY=target/worker-named.wasm
if [ "$crate_dir" != actors ]; then
  NAMED_COPY="target/$(basename "$crate_dir")-named.wasm"
fi

cd "$crate_dir"
# worker-build's own wasm-opt step always keeps the name section (--debuginfo) and runs -O, so
# it is skipped and wasm-opt runs below.
worker-build --release --no-opt >&2
wasm=build/index_bg.wasm
if [ ! -f "$wasm" ]; then
  echo "worker-build left no $wasm" >&2
  exit 1
fi

# The feature set is worker-build's (rustc's wasm32 defaults plus the exception handling of
# wasm-bindgen's catch wrappers), named rather than --all-features so binaryen never emits an
# encoding workerd does not run yet.
features=(--enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling
  --enable-simd)
# -Oz, but no inlining of functions that have one caller (-ocimfs=0): that inlining takes 1% more
# off the raw module yet adds 15% to the gzipped one (serde's near-identical monomorphisations
# compress well side by side, not spread into their callers), and the gzipped size is what the
# platform limits. Then the functions are sorted by name, which puts the monomorphisations of
# one generic side by side, within gzip's window of each other: 6% less gzipped, the same raw.
# Names are kept here (--debuginfo) and dropped below, so both copies have the same code and
# function indices.
mkdir -p "$root/$(dirname "$NAMED_COPY")"
"$WASM_OPT_BIN" "$wasm" -o "$root/$NAMED_COPY" -Oz -ocimfs=0 "${features[@]}" --debuginfo \
  --reorder-functions-by-name --strip-producers >&2
# Without the name section: about 330 KB less gzipped.
"$WASM_OPT_BIN" "$root/$NAMED_COPY" -o "$wasm" --strip-debug "${features[@]}" >&2

raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
printf 'worker bundle: %s  %d bytes, %d bytes gzipped (Workers free plan limit: 3 MB gzipped)\n' \
  "$wasm" "$raw" "$gz" >&2
