#!/usr/bin/env bash
# Build the edge for Spin (edge/spin, release, wasm32-wasip2 component) into edge/spin/build/:
#   edge_spin.wasm        production build (feature `spin`: Spin key-value + variables); what
#                         edge/spin/spin.toml serves
#   edge_spin_wasi.wasm   the same handler importing only standard WASI 0.2 (in-instance store,
#                         environment config): what wasm-tests/spin runs under `jco serve`
#
# Idempotent; prints how long each step took. Installs the wasm32 toolchain when missing
# (scripts/setup-wasm.sh).
#
# Env: STARLING_SPIN_TARGET_DIR   cargo target dir (default: ${CARGO_TARGET_DIR:-target}/wasm-spin)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
crate="$root/edge/spin"
out="$crate/build"
target_dir="${STARLING_SPIN_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/wasm-spin}"

log() { printf 'spin/build.sh: %s\n' "$*" >&2; }

start=$SECONDS
"$root/scripts/setup-wasm.sh" >/dev/null
mkdir -p "$out"
build() {
  local t=$SECONDS
  STARLING_WASM_TARGET_DIR="$target_dir" CARGO_TARGET_DIR="$target_dir" \
    "$root/scripts/wasm-cargo.sh" build --release --locked --target wasm32-wasip2 \
    --manifest-path "$crate/Cargo.toml" "$@"
  log "cargo build $* ($((SECONDS - t)) s)"
}
build
cp "$target_dir/wasm32-wasip2/release/edge_spin.wasm" "$out/edge_spin.wasm"
build --no-default-features
cp "$target_dir/wasm32-wasip2/release/edge_spin.wasm" "$out/edge_spin_wasi.wasm"
for f in "$out"/*.wasm; do
  log "built $f: $(( $(wc -c <"$f") / 1024 )) KiB"
done
log "total $((SECONDS - start)) s"
