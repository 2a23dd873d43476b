#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster (Debian's `postgresql` package) on a free
# loopback port, in a temp dir, exported as STARLING_TEST_PG_URL; removes it afterwards. The
# server speaks TLS (as Redshift does) with a certificate for 127.0.0.1 from a throwaway CA,
# exported as STARLING_TEST_PG_CA; it accepts plain connections too.
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

# A CA and a server certificate for 127.0.0.1 (rustls wants the SAN, and CA:TRUE on the CA).
tls="$dir/tls"
mkdir "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=Starling test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
chmod 600 "$tls/server.key"
if [[ "$(id -u)" == "0" ]]; then chown -R postgres "$tls"; fi

"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=50 -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" start >/dev/null
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U starling starling
export STARLING_TEST_PG_URL="postgres://starling@127.0.0.1:$port/starling"
export STARLING_TEST_PG_CA="$tls/ca.crt"
"$@"
