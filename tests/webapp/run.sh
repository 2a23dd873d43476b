#!/usr/bin/env bash
# The web app's checks: its counter's unit test (node --test), its type check (tsc --checkJs
# against webapp/wire.d.ts, generated from shared::wire), then the browser tests
# (test_webapp.py: Playwright for Python driving Debian's Chromium against a real starling).
# Closes with "webapp: N passed, N failed"; screenshots in $STARLING_WEBAPP_SCREENSHOTS
# (default target/webapp-screenshots/).
#
#   tests/webapp/run.sh                                  # everything
#   tests/webapp/run.sh WebAppTest.test_the_first_load_is_fast_and_small
#
# Installs what it needs when missing: chromium (apt), playwright into the venv (VIRTUAL_ENV, else
# target/venv), axe-core and typescript (npm ci, here). Playwright's own browser download is not
# used: the tests launch /usr/bin/chromium (STARLING_CHROMIUM to change it).
# Env: STARLING_BIN  the starling binary (else: cargo build -p core-server)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
playwright_version="1.65.3"
mastodon_py_version="2.3.3"

if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi

# ---- tools ----------------------------------------------------------------------------------------
if [[ ! -x "${STARLING_CHROMIUM:-/usr/bin/chromium}" ]]; then
  echo "webapp: installing chromium (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium >/dev/null; }
fi
venv="${VIRTUAL_ENV:-$repo/target/venv}"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
python="$venv/bin/python"
if ! "$python" -c 'import playwright, mastodon' 2>/dev/null; then
  echo "webapp: installing playwright and Mastodon.py into $venv"
  "$python" -m pip install -q --disable-pip-version-check "playwright==$playwright_version" "Mastodon.py==$mastodon_py_version"
fi
if [[ ! -f "$here/node_modules/axe-core/axe.min.js" || ! -x "$here/node_modules/.bin/tsc" ]]; then
  echo "webapp: npm ci (axe-core, typescript)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- the app's own checks -------------------------------------------------------------------------
echo "webapp: node --test (the character counter)"
node --test "$repo/webapp/"*.test.mjs
echo "webapp: tsc --noEmit --checkJs (webapp/*.js against webapp/wire.d.ts)"
"$here/node_modules/.bin/tsc" -p "$here/tsconfig.json"

# ---- the server -----------------------------------------------------------------------------------
if [[ -z "${STARLING_BIN:-}" ]]; then
  locked=()
  if [[ -f "$repo/Cargo.lock" ]]; then locked=(--locked); fi
  echo "webapp: cargo build -p core-server ${locked[*]}"
  (cd "$repo" && cargo build -p core-server "${locked[@]}")
  STARLING_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/starling"
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/starling-webapp.XXXXXX")"
mkdir -p "$tmp/pids"
py_pid=""
cleanup() {
  local rc=$? f pid
  if [[ -n "$py_pid" ]] && kill -0 "$py_pid" 2>/dev/null; then
    kill -TERM "$py_pid" 2>/dev/null || true
    wait "$py_pid" 2>/dev/null || true
  fi
  for f in "$tmp"/pids/*; do
    [[ -e "$f" ]] || continue
    pid="$(basename "$f")"
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "starling serve"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  [[ "${STARLING_E2E_KEEP:-}" == "1" ]] || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$STARLING_BIN" "$tmp/starling"

export STARLING_BIN="$tmp/starling" STARLING_E2E_TMP="$tmp" STARLING_E2E_PIDS="$tmp/pids"
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
export STARLING_WEBAPP_SCREENSHOTS="${STARLING_WEBAPP_SCREENSHOTS:-${CARGO_TARGET_DIR:-$repo/target}/webapp-screenshots}"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
"$python" "$here/test_webapp.py" "$@" &
py_pid=$!
wait "$py_pid"
