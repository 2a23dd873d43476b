#!/usr/bin/env bash
# The edge compiled to Wasm, tested inside real runtimes in front of real core processes:
#   workers/   edge/workers (wasm32-unknown-unknown + wasm-bindgen) in workerd, via miniflare
#   spin/      edge/spin (wasm32-wasip2 component, WASI 0.2) under `jco serve`
#
#   wasm-tests/run.sh         # builds both shims and core, runs both suites; exit status: theirs
#
# Installs what it needs (skipping what is already there at the right version): the wasm32
# toolchain (scripts/setup-wasm.sh), wasm-bindgen-cli (workers/build.sh), the npm packages from
# package-lock.json (npm ci), and moto's S3 server (a Python venv) for presigned uploads.
#
# Env: STARLING_BIN            use this core binary instead of building one
#      STARLING_WASM_SUITES    which suites to run (default: "workers spin")
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
source "$here/lib/cores.sh"
suites=(${STARLING_WASM_SUITES:-workers spin})

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if (( node_major < 20 )); then
  log "needs Node >= 20.3 (miniflare, wrangler, jco); found: $(node --version 2>/dev/null || echo none)"
  exit 1
fi

t=$SECONDS
for suite in "${suites[@]}"; do
  "$here/$suite/build.sh"
done
log "shims built ($((SECONDS - t)) s)"

t=$SECONDS
npm_ready
moto_ready
core_ready
log "tools and core ready ($((SECONDS - t)) s)"

short_ttl=5
start_core main 0 STARLING__RATE_LIMITS__ENABLED=false
main_url=$core_url
start_core short 0 STARLING__RATE_LIMITS__ENABLED=false "STARLING__AUTH__ACCESS_TOKEN_TTL_SECS=$short_ttl"
short_url=$core_url
# Core's own limits on (5 sign-ups per address per 30 min), trusting addresses from an edge that
# shows this secret (scripts/edge-dev.sh's setup).
guarded_secret="wasm-tests-edge-secret"
start_core guarded 0 "STARLING__SERVER__EDGE_SECRET=$guarded_secret"
guarded_url=$core_url
start_moto
s3_url=$moto_url

dirs=()
for suite in "${suites[@]}"; do dirs+=("$suite/test/"); done
t=$SECONDS
tap="$work/results.tap"
cd "$here"
status=0
STARLING_TEST_CORE_URL="$main_url" \
STARLING_TEST_SHORT_TOKENS_CORE_URL="$short_url" \
STARLING_TEST_SHORT_TOKEN_TTL_SECS="$short_ttl" \
STARLING_TEST_S3_URL="$s3_url" \
STARLING_TEST_GUARDED_CORE_URL="$guarded_url" \
STARLING_TEST_GUARDED_CORE_SECRET="$guarded_secret" \
  timeout "${STARLING_WASM_TESTS_TIMEOUT:-1200}" node --test --test-concurrency=1 --test-timeout=120000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "${dirs[@]}" || status=$?
pass=$(awk '/^# pass / { print $3 }' "$tap")
fail=$(awk '/^# fail / { print $3 }' "$tap")
log "suites ${suites[*]}: $((SECONDS - t)) s"
echo "wasm-tests: ${pass:-0} passed, ${fail:-?} failed"
if [[ $status -eq 0 && "${fail:-1}" != 0 ]]; then status=1; fi
exit "$status"
