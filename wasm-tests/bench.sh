#!/usr/bin/env bash
# Edge cache-hit req/s and latency in workerd vs a static worker, in one run (see bench.js).
#   wasm-tests/bench.sh          # BENCH_SECONDS, BENCH_CONNECTIONS tune it
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
source "$here/lib/cores.sh"

"$here/workers/build.sh"
npm_ready
core_ready
start_core bench 0 STARLING__RATE_LIMITS__ENABLED=false
cd "$here"
node bench.js "$core_url"
