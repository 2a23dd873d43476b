# Sourced by wasm-tests/run.sh, wasm-tests/bench.sh and scripts/edge-dev.sh: install npm packages
# and moto, build core, start cores and moto, and stop all of it on exit.
# Expects `here` (wasm-tests/) and `root` (the repository) to be set.

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi

# npm packages, installed from the lock file when missing or older than it.
npm_ready() {
  if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
    log "npm ci"
    (cd "$here" && npm ci --no-audit --no-fund)
  fi
}

work="$(mktemp -d "${TMPDIR:-/tmp}/starling-workers.XXXXXX")"
pids=()

# Stops every process started here, shows core logs on failure, removes the temp dir.
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ $status -ne 0 ]]; then
    for f in "$work"/*.log; do
      [[ -f "$f" ]] || continue
      log "last lines of $(basename "$f"):"
      tail -n 20 "$f" >&2 || true
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

# Builds core (debug: the main workspace is never built --release here) and copies the binary,
# so that another build replacing target/debug/starling mid-run cannot touch this one.
core_ready() {
  if [[ -z "${STARLING_BIN:-}" ]]; then
    local start=$SECONDS
    log "cargo build -p core-server"
    (cd "$root" && cargo build -q -p core-server)
    log "core built ($((SECONDS - start)) s)"
  fi
  cp "${STARLING_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/starling}" "$work/starling"
}

# moto's S3 emulator: the one on PATH when there is one, else a venv under target/ (once).
moto_version="5.2.5"
moto_ready() {
  if command -v moto_server >/dev/null 2>&1; then
    moto_bin="$(command -v moto_server)"
    return 0
  fi
  local venv="${CARGO_TARGET_DIR:-$root/target}/venv-moto"
  moto_bin="$venv/bin/moto_server"
  if [[ ! -x "$moto_bin" ]]; then
    log "installing moto[server]==$moto_version into $venv"
    python3 -m venv --clear "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$moto_version"
  fi
}

# start_moto: moto's S3 on a free loopback port; sets moto_url.
start_moto() {
  local port
  port="$(free_port)"
  "$moto_bin" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
      moto_url="http://127.0.0.1:$port"
      log "moto S3: $moto_url"
      return 0
    fi
    sleep 0.1
  done
  log "moto did not answer on port $port"
  return 1
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# start_core NAME PORT [VAR=VALUE...]: starts a core answering alone (no in-process edge) with
# its own data dir under $work, waits for /health, and sets core_url. PORT 0 picks a free one.
start_core() {
  local name=$1 port=$2
  shift 2
  if [[ "$port" == 0 ]]; then port="$(free_port)"; fi
  mkdir -p "$work/$name"
  env STARLING__EDGE__ENABLED=false STARLING_LOG="${STARLING_LOG:-info}" "$@" \
    "$work/starling" serve --listen "127.0.0.1:$port" --data-dir "${STARLING_DATA_DIR:-$work/$name}" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      core_url="http://127.0.0.1:$port"
      log "core $name: $core_url (log: $work/$name.log)"
      return 0
    fi
    sleep 0.1
  done
  log "core $name did not answer on port $port"
  return 1
}
