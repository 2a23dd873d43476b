#!/usr/bin/env bash
# Make a wasm32 Rust toolchain available. Idempotent; fast when already done.
#
# Two routes, tried in this order:
#   rustup  - `rustup target add wasm32-unknown-unknown wasm32-wasip2` (needs rustup's dist server)
#   debian  - Debian's rustc-web/cargo-web 1.96 + std source, built with -Zbuild-std
#             (packages: rustc-web cargo-web rust-web-src lld-19 wasi-libc)
# Build with scripts/wasm-cargo.sh, which picks the matching cargo and environment.
#
# Env: STARLING_WASM_ROUTE=rustup|debian forces a route (default: whichever works first).
set -euo pipefail

readonly WASM_TARGETS=(wasm32-unknown-unknown wasm32-wasip2)
readonly DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src lld-19 wasi-libc)

log() { printf 'setup-wasm: %s\n' "$*" >&2; }

if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    log "need root for: $*"
    return 1
  fi
}

rustup_has_targets() {
  command -v rustup >/dev/null 2>&1 || return 1
  local installed
  installed="$(rustup target list --installed 2>/dev/null)" || return 1
  grep -qx 'wasm32-unknown-unknown' <<<"$installed"
}

debian_packages_installed() {
  local pkg status
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" || return 1
    [[ "$status" == "install ok installed" ]] || return 1
  done
  [[ -x /usr/bin/cargo && -x /usr/bin/rustc && -x /usr/lib/llvm-19/bin/wasm-ld ]]
}

# Another apt/dpkg (e.g. a provisioning job) holds the lock: wait for it rather than fight it.
wait_for_apt() {
  local waited=0
  while pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null; do
    if (( waited == 0 )); then log "another apt/dpkg is running; waiting for it"; fi
    if (( waited >= 1200 )); then log "gave up waiting for apt after ${waited}s"; return 1; fi
    sleep 5
    waited=$(( waited + 5 ))
  done
}

try_rustup() {
  command -v rustup >/dev/null 2>&1 || return 1
  log "trying: rustup target add ${WASM_TARGETS[*]}"
  RUSTUP_MAX_RETRIES=1 timeout 300 rustup target add "${WASM_TARGETS[@]}" >/dev/null 2>&1 || return 1
  rustup_has_targets
}

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o DPkg::Lock::Timeout=600 "${DEBIAN_PACKAGES[@]}"
}

install_debian() {
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get: cannot install ${DEBIAN_PACKAGES[*]}"; return 1; }
  wait_for_apt
  debian_packages_installed && return 0
  local pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      log "package lists lack $pkg: apt-get update"
      as_root apt-get update -q -o DPkg::Lock::Timeout=600 >&2
      break
    fi
  done
  log "apt-get install -y ${DEBIAN_PACKAGES[*]}"
  if ! apt_install >&2; then
    # apt sometimes fails with "failed to read archive" when another apt ran concurrently.
    log "apt-get install failed; retrying once"
    sleep 5
    wait_for_apt
    apt_install >&2
  fi
  debian_packages_installed
}

route_done() {
  log "route: $1 ($2)"
  log "build for wasm with: scripts/wasm-cargo.sh build --target wasm32-unknown-unknown ..."
  echo "$1"
}

case "${STARLING_WASM_ROUTE:-}" in
  rustup)
    rustup_has_targets && { route_done rustup "already installed"; exit 0; }
    try_rustup && { route_done rustup "targets just added"; exit 0; }
    log "STARLING_WASM_ROUTE=rustup but rustup could not add the wasm targets"
    exit 1
    ;;
  debian)
    debian_packages_installed && { route_done debian "already installed"; exit 0; }
    install_debian && { route_done debian "packages just installed"; exit 0; }
    log "STARLING_WASM_ROUTE=debian but the packages could not be installed"
    exit 1
    ;;
  "") ;;
  *) log "unknown STARLING_WASM_ROUTE=${STARLING_WASM_ROUTE} (want rustup or debian)"; exit 2 ;;
esac

if rustup_has_targets; then
  route_done rustup "already installed"
elif debian_packages_installed; then
  route_done debian "already installed"
elif try_rustup; then
  route_done rustup "targets just added"
else
  log "rustup could not add the wasm targets (offline?); falling back to Debian packages"
  if install_debian; then
    route_done debian "packages just installed"
  else
    log "no wasm32 toolchain: both rustup and apt failed"
    exit 1
  fi
fi
