#!/usr/bin/env bash
# Build the edge for Cloudflare Workers into edge/workers/build/:
#   worker.js              entry module (edge/workers/js/worker.js): the Workers `fetch` handler
#   edge_workers.js        wasm-bindgen glue (--target module)
#   edge_workers_bg.wasm   the edge (edge/workers, release, wasm32-unknown-unknown)
#
# Idempotent; prints how long each step took. Installs what it needs:
#   - a wasm32 toolchain (scripts/setup-wasm.sh: rustup target, or Debian's fallback),
#   - wasm-bindgen-cli at exactly the version edge/workers/Cargo.lock pins (8–15 min, once;
#     skipped when `wasm-bindgen --version` already matches).
#
# Env: STARLING_WORKERS_TARGET_DIR   cargo target dir (default: ${CARGO_TARGET_DIR:-target}/wasm-workers)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
crate="$root/edge/workers"
out="$crate/build"
target_dir="${STARLING_WORKERS_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/wasm-workers}"

if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi

log() { printf 'build.sh: %s\n' "$*" >&2; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

total=$(now)

t=$(now)
"$root/scripts/setup-wasm.sh" >/dev/null
log "wasm toolchain ready ($(took "$t"))"

bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$crate/Cargo.lock")"
if [[ -z "$bindgen_version" ]]; then
  log "no wasm-bindgen in $crate/Cargo.lock"
  exit 1
fi
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]]; then
  log "installing wasm-bindgen-cli $bindgen_version (8–15 min, once)"
  t=$(now)
  # Not --locked: the registry mirror lacks one of its locked dependencies.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
  log "wasm-bindgen-cli $bindgen_version installed ($(took "$t"))"
fi

t=$(now)
STARLING_WASM_TARGET_DIR="$target_dir" CARGO_TARGET_DIR="$target_dir" \
  "$root/scripts/wasm-cargo.sh" build --release --locked --target wasm32-unknown-unknown \
  --manifest-path "$crate/Cargo.toml"
log "cargo build ($(took "$t"))"

t=$(now)
staging="$(mktemp -d "$crate/.build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
# The reset-state function and abort handler let js/worker.js start a fresh instance after a
# trap or panic instead of failing every later request on a poisoned one.
wasm-bindgen "$target_dir/wasm32-unknown-unknown/release/edge_workers.wasm" \
  --out-dir "$staging" --target module --no-typescript \
  --experimental-reset-state-function --force-enable-abort-handler
# `--target module` imports the Wasm with a source-phase import; workerd imports a compiled
# WebAssembly.Module from a plain import of a .wasm module.
sed -i 's/^import source /import /' "$staging/edge_workers.js"
cp "$crate/js/worker.js" "$staging/worker.js"
rm -rf "$out"
mv "$staging" "$out"
trap - EXIT
log "wasm-bindgen ($(took "$t"))"

wasm_bytes=$(wc -c <"$out/edge_workers_bg.wasm")
gz_bytes=$(gzip -9c "$out/edge_workers_bg.wasm" | wc -c)
log "built $out: edge_workers_bg.wasm $((wasm_bytes / 1024)) KiB ($((gz_bytes / 1024)) KiB gzipped)"
log "total $(took "$total")"
