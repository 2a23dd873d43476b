#!/usr/bin/env bash
# Fanout deliveries per second into Redis (core-redis's RedisTimelineCache::fan_out, the call
# the fanout consumer makes) next to `redis-benchmark -t zadd -P 16` against the same
# redis-server, in one run, printed as a markdown table (docs/benchmarks.md, "Redis fanout").
#
#   scripts/bench-fanout-redis.sh            # TIMELINES=2000 BENCH_REQUESTS=2000000 by default
#   BENCH_SKIP_BUILD=1 scripts/bench-fanout-redis.sh   # reuse the built example
#
# Starts its own redis-server (no persistence) on a free loopback port and stops it on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (Debian: redis-server redis-tools)" >&2; exit 1; }
done
requests="${BENCH_REQUESTS:-2000000}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

bench="$target_dir/release/examples/fanout_bench"
if [[ "${BENCH_SKIP_BUILD:-}" == "1" && -x "$bench" ]]; then
  echo "using the existing $bench (BENCH_SKIP_BUILD=1)" >&2
else
  echo "building the fanout bench (release)..." >&2
  cargo build --release --locked -q -p core-redis --features test-server --example fanout_bench
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
work="$(mktemp -d)"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null

# 1. The adapter: timelines pre-filled to the cap (every delivery also trims), 1,000 timelines
#    per call, one call in flight and four statuses in flight.
echo "fanout bench on port $port..." >&2
fanout_out="$(STARLING_BENCH_REDIS_URL="redis://127.0.0.1:$port" STARLING_BENCH_FANOUT_ONLY=1 "$bench")"
echo "$fanout_out" >&2
sequential="$(sed -n 's/.*1 call in flight: \([0-9.]*\) deliveries\/s.*/\1/p' <<<"$fanout_out")"
concurrent="$(sed -n 's/.*4 statuses in flight: \([0-9.]*\) deliveries\/s.*/\1/p' <<<"$fanout_out")"
[[ -n "$sequential" && -n "$concurrent" ]] || { echo "cannot parse the fanout bench output" >&2; exit 1; }

# 2. redis-benchmark's pipelined ZADD on the same (flushed) server.
redis-cli -p "$port" flushall >/dev/null
echo "redis-benchmark -t zadd -P 16 -n $requests..." >&2
zadd_out="$(redis-benchmark -h 127.0.0.1 -p "$port" -t zadd -P 16 -n "$requests" -q | tr '\r' '\n')"
zadd="$(sed -n 's/^ZADD: \([0-9.]*\) requests per second.*/\1/p' <<<"$zadd_out" | tail -1)"
[[ -n "$zadd" ]] || { echo "cannot parse redis-benchmark output: $zadd_out" >&2; exit 1; }

cores="$(nproc)"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%s, %s cores, load average %s at the end, %s\n\n' "$(date -u +%F)" "$cores" "$load" "$(redis-server --version | cut -d' ' -f3)"
printf '| measure | per second | ratio to redis-benchmark ZADD |\n| --- | ---: | ---: |\n'
awk -v z="$zadd" -v s="$sequential" -v c="$concurrent" 'BEGIN {
  printf "| redis-benchmark `-t zadd -P 16` (ZADD) | %.0f | 1.00 |\n", z
  printf "| fanout deliveries, 1 call in flight (1,000 timelines per call) | %.0f | %.2f |\n", s, s / z
  printf "| fanout deliveries, 4 statuses in flight | %.0f | %.2f |\n", c, c / z
}'
