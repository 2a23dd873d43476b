#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster (Debian's `postgresql` package) on a free
# loopback port, in a temp dir, exported as STARLING_TEST_PG_URL; removes it afterwards.
#
#   scripts/pg-test.sh cargo test -p core-analytics -- --ignored
#
# Installs postgresql when missing (apt-get, retried once). initdb refuses to run as root, so
# as root the cluster belongs to the `postgres` user the package creates.
set -euo pipefail

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql >/dev/null 2>&1 || { sleep 5; apt-get update -q >/dev/null; apt-get install -y -q postgresql >/dev/null; }
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi

dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as=()
if [[ "$(id -u)" == "0" ]]; then
  chown postgres "$dir"
  as=(runuser -u postgres --)
fi
"${as[@]}" "$bin/initdb" -D "$dir/data" -U starling --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=50" start >/dev/null
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U starling starling
export STARLING_TEST_PG_URL="postgres://starling@127.0.0.1:$port/starling"
"$@"
