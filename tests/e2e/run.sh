#!/usr/bin/env bash
# End-to-end tests: real `starling` servers driven by the unmodified Mastodon.py client, plus
# SIGKILL durability checks. Closes with "e2e: N passed, N failed, N skipped"; exits non-zero
# when anything failed.
#
#   tests/e2e/run.sh                      # everything
#   tests/e2e/run.sh test_durability      # one module (or module.Class.test_name)
#   tests/e2e/run.sh -k burst             # tests whose name contains "burst"
#
# Environment:
#   STARLING_BIN=path        use this binary instead of building (cargo build -p core-server)
#   VIRTUAL_ENV=dir          use this venv if it already has Mastodon.py (scripts/test.sh passes
#                            target/venv); otherwise $REPO/.venv is created and used
#   STARLING_E2E_STRICT=1    run tests marked @known_server_bug as ordinary tests
#   STARLING_E2E_KEEP=1      keep the servers' data directories and logs
#   STARLING_E2E_HANG_SECS   dump stacks and abort when the run exceeds this (default 600)
#
# Every server runs on a free 127.0.0.1 port with a temporary data directory; the EXIT trap
# kills any that are still running, whatever way the run ends.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/tests/e2e"
mastodon_py_version="${MASTODON_PY_VERSION:-2.3.3}"

if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/starling-e2e.XXXXXX")"
mkdir -p "$tmp/pids"

py_pid=""
cleanup() {
  local rc=$?
  local f pid
  if [[ -n "$py_pid" ]] && kill -0 "$py_pid" 2>/dev/null; then
    kill -TERM "$py_pid" 2>/dev/null || true  # the runner kills its servers on SIGTERM
    wait "$py_pid" 2>/dev/null || true
  fi
  for f in "$tmp"/pids/*; do
    [[ -e "$f" ]] || continue
    pid="$(basename "$f")"
    # Only a still-running starling that this run started (pids can be reused).
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "starling serve"; then
      echo "e2e: killing leftover server $pid" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [[ "${STARLING_E2E_KEEP:-}" == "1" ]]; then
    echo "e2e: kept data and logs in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Python with Mastodon.py ------------------------------------------------------------------
python=""
if [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]] && "$VIRTUAL_ENV/bin/python" -c 'import mastodon' 2>/dev/null; then
  python="$VIRTUAL_ENV/bin/python"
else
  venv="$repo/.venv"
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "e2e: creating $venv"
    if ! python3 -m venv "$venv"; then
      # Debian's system python ships venv/ensurepip separately.
      rm -rf "$venv"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 python3-venv
      python3 -m venv "$venv"
    fi
  fi
  python="$venv/bin/python"
  if ! "$python" -c 'import mastodon' 2>/dev/null; then
    echo "e2e: installing Mastodon.py $mastodon_py_version into $venv"
    "$python" -m pip install -q --disable-pip-version-check "Mastodon.py==$mastodon_py_version"
  fi
fi
echo "e2e: $("$python" -c 'import importlib.metadata as m, sys; print("Mastodon.py", m.version("Mastodon.py"), "on Python", sys.version.split()[0])')"

# ---- the server binary ------------------------------------------------------------------------
if [[ -n "${STARLING_BIN:-}" ]]; then
  bin="$STARLING_BIN"
else
  locked=()
  if [[ -f "$repo/Cargo.lock" ]]; then locked=(--locked); fi
  echo "e2e: cargo build -p core-server ${locked[*]}"
  (cd "$repo" && cargo build -p core-server "${locked[@]}")
  bin="$repo/target/debug/starling"
fi
[[ -x "$bin" ]] || { echo "e2e: no executable starling at $bin" >&2; exit 1; }
# Run a private copy: a concurrent cargo build must not replace the binary under the tests.
cp "$bin" "$tmp/starling"

# ---- run --------------------------------------------------------------------------------------
export STARLING_BIN="$tmp/starling"
export STARLING_E2E_TMP="$tmp"
export STARLING_E2E_PIDS="$tmp/pids"
export PYTHONDONTWRITEBYTECODE=1
# Servers are on loopback: never send their traffic through a configured proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
export PYTHONUNBUFFERED=1
# In the background, so a signal to this script runs the trap at once.
"$python" "$here/runner.py" "$@" &
py_pid=$!
wait "$py_pid"
