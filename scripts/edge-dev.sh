#!/usr/bin/env bash
# The production request path on localhost: the edge compiled to Wasm, in workerd (Cloudflare's
# runtime, via miniflare), in front of a core process with its in-process edge off.
#
#   scripts/edge-dev.sh                       # edge on http://127.0.0.1:8787, core on :8080
#   EDGE_PORT=9000 CORE_PORT=9001 STARLING_DATA_DIR=./data scripts/edge-dev.sh
#
# Point a Mastodon client at the edge URL. Builds the worker (wasm-tests/workers/build.sh) and core
# (cargo build -p core-server) first and installs the npm packages; Ctrl-C stops everything.
# Data lives in a temp dir unless STARLING_DATA_DIR is set. Core is told the edge URL is the
# public one (STARLING__INSTANCE__BASE_URL), so links in responses point at the edge.
#
# Settings pass through: edge ones by their edge names (edge/app/src/config.rs), e.g.
#   STARLING_RATE_SIGN_UPS=50/1800 STARLING_HOME_CACHE_TTL_MS=2000 \
#   STARLING_S3_BUCKET=media STARLING_S3_ENDPOINT=http://127.0.0.1:5000 \
#   STARLING_S3_ACCESS_KEY_ID=… STARLING_S3_SECRET_ACCESS_KEY=… scripts/edge-dev.sh
# and core ones as STARLING__SECTION__KEY (STARLING__RATE_LIMITS__SIGN_UPS__LIMIT=50). The edge and
# core share a fresh secret (STARLING_CORE_SECRET / STARLING__SERVER__EDGE_SECRET, unless set), so
# core's own limiter judges each client by the address the edge saw, not by 127.0.0.1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$root/wasm-tests"
source "$here/lib/cores.sh"

edge_port="${EDGE_PORT:-8787}"
core_port="${CORE_PORT:-8080}"

"$here/workers/build.sh"
npm_ready
core_ready
export STARLING_CORE_SECRET="${STARLING_CORE_SECRET:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
start_core dev "$core_port" \
  "STARLING__INSTANCE__DOMAIN=127.0.0.1:$edge_port" "STARLING__INSTANCE__BASE_URL=http://127.0.0.1:$edge_port" \
  "STARLING__SERVER__EDGE_SECRET=$STARLING_CORE_SECRET"
log "core log: $work/dev.log"
node "$here/lib/serve-worker.js" "$edge_port" "$core_url" &
pids+=($!)
wait "${pids[-1]}"
