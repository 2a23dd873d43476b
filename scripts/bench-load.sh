#!/usr/bin/env bash
# Whole-system benchmark: a release `starling` on its embedded default (edge in process, rate
# limits off so the load is not refused), loaded by `starling-load` with the Reed98 social graph
# and the DeathStarBench mix, next to a `GET /health` baseline in the same run.
#
#   scripts/bench-load.sh [starling-load run flags…]     e.g. --clients 32 --duration 30s
#
# Writes the markdown report to target/bench/load.md (and prints it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
edges="${STARLING_EDGES:-$root/../shared/datasets/socfb-Reed98.edges}"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --locked -p core-server -p loadgen
data="$(mktemp -d "${TMPDIR:-/tmp}/starling-bench.XXXXXX")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
STARLING__RATE_LIMITS__ENABLED=false STARLING_LOG=warn \
  "$target/release/starling" serve --listen "127.0.0.1:$port" --data-dir "$data" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done

mkdir -p "$target/bench"
"$target/release/starling-load" run --base "http://127.0.0.1:$port" --edges "$edges" \
  --server-pid "$server" --server-data-dir "$data" --report "$target/bench/load.md" "$@"
