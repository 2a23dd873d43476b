#!/usr/bin/env bash
# Run cargo for a wasm32 build with the toolchain scripts/setup-wasm.sh made available.
#
#   scripts/wasm-cargo.sh build -p shared --target wasm32-unknown-unknown
#   scripts/wasm-cargo.sh --env        # print the environment as `export` lines, run nothing
#
# Route: rustup, when `rustup target list --installed` has the requested --target (default
# wasm32-unknown-unknown; plain cargo);
# otherwise debian: /usr/bin/cargo + /usr/bin/rustc 1.96 building std from source
# (-Zbuild-std), wasm-ld from lld-19, and its own target dir so that native builds in target/
# (made by rustup's compiler) are not invalidated.
#
# Env:
#   STARLING_WASM_ROUTE=rustup|debian   force a route
#   STARLING_WASM_TARGET_DIR            debian route's target dir (default: ${CARGO_TARGET_DIR:-target}/wasm)
#   STARLING_BUILD_STD                  debian route's -Zbuild-std crates (default: std,panic_abort;
#                                       for `test` use std,panic_abort,test plus -Zpanic-abort-tests)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi

# The target asked for (`--target T` or `--target=T`): the rustup route needs that one installed.
target=wasm32-unknown-unknown
prev=
for arg in "$@"; do
  case "$arg" in
    --target=*) target="${arg#--target=}" ;;
    *) [[ "$prev" == --target ]] && target="$arg" ;;
  esac
  prev="$arg"
done

route="${STARLING_WASM_ROUTE:-}"
if [[ -z "$route" ]]; then
  if command -v rustup >/dev/null 2>&1 \
    && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    route=rustup
  else
    route=debian
  fi
fi

envs=()
case "$route" in
  rustup)
    cargo_bin=cargo
    cargo_pre=()
    ;;
  debian)
    for f in /usr/bin/cargo /usr/bin/rustc /usr/lib/llvm-19/bin/wasm-ld /usr/lib/rustlib/src/rust/library; do
      if [[ ! -e "$f" ]]; then
        echo "wasm-cargo: $f missing: run scripts/setup-wasm.sh first" >&2
        exit 1
      fi
    done
    wasm_ld=/usr/lib/llvm-19/bin/wasm-ld
    cargo_bin=/usr/bin/cargo
    cargo_pre=("-Zbuild-std=${STARLING_BUILD_STD:-std,panic_abort}")
    # /usr/bin first so that rustup's proxies in ~/.cargo/bin never stand in for Debian's tools.
    envs+=(
      "PATH=/usr/bin:$PATH"
      "RUSTC=/usr/bin/rustc"
      "RUSTDOC=/usr/bin/rustdoc"
      "RUSTC_BOOTSTRAP=1"
      "CARGO_TARGET_DIR=${STARLING_WASM_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/wasm}"
      "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=$wasm_ld"
    )
    # wasm32-wasip2 components: rustup's wasm-component-ld wrapping Debian's wasm-ld and wasi-libc.
    component_ld="$(command -v wasm-component-ld 2>/dev/null || true)"
    if [[ -z "$component_ld" ]]; then
      for f in "${RUSTUP_HOME:-$HOME/.rustup}"/toolchains/*/lib/rustlib/*/bin/wasm-component-ld; do
        if [[ -x "$f" ]]; then component_ld="$f"; break; fi
      done
    fi
    if [[ -n "$component_ld" ]]; then
      envs+=(
        "CARGO_TARGET_WASM32_WASIP2_LINKER=$component_ld"
        "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS=-C link-self-contained=no -L native=/usr/lib/wasm32-wasi -C link-arg=--wasm-ld-path=$wasm_ld"
      )
    fi
    ;;
  *)
    echo "wasm-cargo: unknown STARLING_WASM_ROUTE=$route (want rustup or debian)" >&2
    exit 2
    ;;
esac

if [[ "${1:-}" == "--env" ]]; then
  echo "# wasm route: $route"
  for kv in "${envs[@]}"; do
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
  printf '# cargo: %s %s\n' "$cargo_bin" "${cargo_pre[*]}"
  exit 0
fi

echo "wasm-cargo: route $route: $cargo_bin ${cargo_pre[*]} $*" >&2
exec env "${envs[@]}" "$cargo_bin" "${cargo_pre[@]}" "$@"
