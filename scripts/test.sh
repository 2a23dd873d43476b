#!/usr/bin/env bash
# Starling's whole test suite: installs what the tests need, then runs them.
#
#   ./scripts/test.sh
#
# Sections (each can be skipped for local iteration; CI=true ignores the skips and runs all):
#   setup   STARLING_SKIP_SETUP=1   wasm toolchain (scripts/setup-wasm.sh), Python venv with Mastodon.py
#   native  STARLING_SKIP_NATIVE=1  cargo test --workspace (Redis adapter tests start their own
#                                   redis-server; STARLING_SKIP_REDIS=1 skips them outside CI)
#   redis   STARLING_SKIP_REDIS=1   the API suite again, timelines + rate limits in redis-server
#   wasm    STARLING_SKIP_WASM=1    shared/ and edge/app build for wasm32-unknown-unknown and wasm32-wasip2
#   s3      STARLING_SKIP_S3=1      the S3 media store and the SQS upload intake against moto_server
#                                   (an AWS wire-protocol emulator)
#   dynamodb STARLING_SKIP_DYNAMODB=1 core-dynamodb's contract tests, then the whole API suite with
#                                   STARLING_TEST_BACKEND=dynamodb, against moto_server (an AWS
#                                   wire-protocol emulator, not DynamoDB)
#   opensearch STARLING_SKIP_OPENSEARCH=1  the API suite again, search in OpenSearch's recorded-contract
#                                   fake (no OpenSearch server runs here)
#   events  STARLING_SKIP_EVENTS=1  Kinesis relay/consumer and SNS push against moto_server, the
#                                   analytics loader against Debian's PostgreSQL (scripts/pg-test.sh)
#   infra   STARLING_SKIP_INFRA=1   cfn-lint (pinned, in target/venv) on infra/**/*.yaml: zero errors, zero warnings
#   e2e     STARLING_SKIP_E2E=1     tests/e2e/run.sh
#   e2e-production STARLING_SKIP_E2E_PRODUCTION=1  tests/e2e/run.sh again, each server on every
#                                   production backend: DynamoDB, S3, Kinesis, SNS (moto_server, an
#                                   AWS wire-protocol emulator), Redis, PostgreSQL analytics, the
#                                   OpenSearch recorded-contract fake (tests/e2e/backends.py)
#   wasm-tests STARLING_SKIP_WASM_TESTS=1  wasm-tests/run.sh: edge/workers in workerd, edge/spin
#                                   under jco serve, in front of real core processes
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ -z "${CARGO_HOME:-}" && -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi
export PATH
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

venv="$root/target/venv"
mastodon_py_version="2.3.3"
cfn_lint_version="1.51.0"

suite_start=$SECONDS
section_start=$SECONDS
section_name=""
finished=()

section() {
  section_end
  section_name="$1"
  section_start=$SECONDS
  printf '\n==== %s ====\n' "$section_name"
}

section_end() {
  if [[ -n "$section_name" ]]; then
    finished+=("$section_name ($(( SECONDS - section_start ))s)")
    section_name=""
  fi
}

# Servers a section started in the background (moto, redis-server, the OpenSearch fake):
# stop_background ends them, and so does any exit in between.
background_pids=()

stop_background() {
  (( ${#background_pids[@]} > 0 )) || return 0
  kill "${background_pids[@]}" 2>/dev/null || true
  wait "${background_pids[@]}" 2>/dev/null || true
  background_pids=()
}

on_exit() {
  local rc=$?
  stop_background
  if (( rc != 0 )); then
    printf '\n==== FAILED in section: %s (exit %d) ====\n' "${section_name:-?}" "$rc" >&2
  fi
}
trap on_exit EXIT

skipped() {
  local var="STARLING_SKIP_$1"
  if [[ "${!var:-}" == "1" ]]; then
    if [[ "${CI:-}" == "true" ]]; then
      echo "note: $var=1 ignored because CI=true (CI runs everything)"
      return 1
    fi
    section_end
    printf '\n==== %s: skipped (%s=1) ====\n' "${1,,}" "$var"
    finished+=("${1,,} (SKIPPED)")
    return 0
  fi
  return 1
}

locked=()
if [[ -f Cargo.lock ]]; then locked=(--locked); fi

# Sums the "test result:" lines of cargo's output in $2 into one closing count labelled $1.
count_results() {
  awk -v label="$1" '/^test result:/ {
         for (i = 1; i <= NF; i++) {
           if ($(i+1) ~ /^passed/) p += $i
           if ($(i+1) ~ /^failed/) f += $i
           if ($(i+1) ~ /^ignored/) s += $i
         }
       }
       END { printf "%s: %d passed, %d failed, %d skipped\n", label, p, f, s }' "$2"
}

# A free loopback port.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts moto (an emulator of the AWS wire protocol) on a free loopback port, installing it into
# the venv when missing: `start_moto` runs moto_server, `start_moto scripts/moto-serial.py` that
# launcher. Sets moto_url; stop_background ends it.
start_moto() {
  if [[ ! -x "$venv/bin/moto_server" ]]; then
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check 'moto[server]'
  fi
  local port
  port="$(free_port)"
  if [[ $# -gt 0 ]]; then
    "$venv/bin/python" "$@" -H 127.0.0.1 -p "$port" >"$(mktemp)" 2>&1 &
  else
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$(mktemp)" 2>&1 &
  fi
  background_pids+=("$!")
  moto_url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "$moto_url/" && break
    sleep 0.2
  done
}

# ---- setup ----------------------------------------------------------------------------------
if ! skipped SETUP; then
  section "setup: wasm toolchain"
  if [[ "${STARLING_SKIP_WASM:-}" == "1" && "${CI:-}" != "true" ]]; then
    echo "wasm section skipped: not checking the wasm toolchain"
  else
    scripts/setup-wasm.sh
  fi

  section "setup: redis-server (+ openssl: the TLS tests make their certificates with it)"
  if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v openssl >/dev/null; then
    echo "$(redis-server --version) already installed"
  else
    # Retried once: a concurrent apt run can make the first attempt fail.
    for attempt in 1 2; do
      if { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 redis-server redis-tools openssl; }; then break; fi
      (( attempt == 2 )) && exit 1
      sleep 5
    done
    redis-server --version
  fi

  section "setup: python venv ($venv)"
  if [[ ! -x "$venv/bin/python" ]]; then
    if ! python3 -m venv --clear "$venv"; then
      # Debian's system python ships venv/ensurepip separately.
      rm -rf "$venv"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 python3-venv
      python3 -m venv "$venv"
    fi
  fi
  installed="$("$venv/bin/python" -c 'import importlib.metadata as m, mastodon; print(m.version("Mastodon.py"))' 2>/dev/null || true)"
  if [[ "$installed" == "$mastodon_py_version" ]]; then
    echo "Mastodon.py $installed already installed"
  else
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "Mastodon.py==$mastodon_py_version"
    "$venv/bin/python" -c 'import mastodon'
    echo "installed Mastodon.py $mastodon_py_version"
  fi
fi

# ---- native tests ---------------------------------------------------------------------------
native_ran=""
if ! skipped NATIVE; then
  native_ran=1
  section "native: cargo test --workspace ${locked[*]}"
  cargo_log="$(mktemp)"
  cargo test --workspace "${locked[@]}" 2>&1 | tee "$cargo_log"
  count_results cargo "$cargo_log"
  rm -f "$cargo_log"
fi

# ---- S3 media store against moto ----------------------------------------------------------
if ! skipped S3; then
  section "s3: core-s3 against moto_server"
  start_moto
  STARLING_TEST_S3_ENDPOINT="$moto_url" cargo test -p core-s3 "${locked[@]}" -- --ignored
  stop_background
fi

# ---- DynamoDB store against moto ------------------------------------------------------------
if ! skipped DYNAMODB; then
  section "dynamodb: core-dynamodb and the API suite against moto_server"
  # Serialised: moto's TransactWriteItems is not atomic under its threads (scripts/moto-serial.py).
  start_moto scripts/moto-serial.py
  export STARLING_TEST_DYNAMODB_ENDPOINT="$moto_url"
  cargo test -p core-dynamodb "${locked[@]}" -- --ignored
  dynamo_log="$(mktemp)"
  STARLING_TEST_BACKEND=dynamodb cargo test -p core-server --test it "${locked[@]}" 2>&1 | tee "$dynamo_log"
  count_results dynamodb "$dynamo_log"
  rm -f "$dynamo_log"
  unset STARLING_TEST_DYNAMODB_ENDPOINT
  stop_background
fi

# ---- Kinesis, SNS and the analytics loader against moto + PostgreSQL ---------------------------
if ! skipped EVENTS; then
  section "events: core-kinesis, SNS push (moto_server) and core-analytics (PostgreSQL)"
  start_moto
  export STARLING_TEST_KINESIS_ENDPOINT="$moto_url"
  export STARLING_TEST_SNS_ENDPOINT="$moto_url"
  cargo test -p core-kinesis "${locked[@]}" -- --ignored
  scripts/pg-test.sh cargo test -p core-analytics "${locked[@]}" -- --ignored --nocapture
  scripts/pg-test.sh cargo test -p core-server --test it "${locked[@]}" -- --ignored events:: push::
  unset STARLING_TEST_KINESIS_ENDPOINT STARLING_TEST_SNS_ENDPOINT
  stop_background
fi

# ---- the API suite on Redis -------------------------------------------------------------------
if ! skipped REDIS; then
  section "redis: API tests with STARLING_TEST_BACKEND=redis"
  redis_log="$(mktemp)"
  STARLING_TEST_BACKEND=redis cargo test -p core-server --test it "${locked[@]}" 2>&1 | tee "$redis_log"
  count_results redis "$redis_log"
  rm -f "$redis_log"
fi

# ---- the API suite with search on OpenSearch (its recorded-contract fake) -------------------------
if ! skipped OPENSEARCH; then
  section "opensearch: API tests with STARLING_TEST_SEARCH=opensearch (recorded-contract fake)"
  opensearch_log="$(mktemp)"
  STARLING_TEST_SEARCH=opensearch cargo test -p core-server --test it "${locked[@]}" 2>&1 | tee "$opensearch_log"
  count_results opensearch "$opensearch_log"
  rm -f "$opensearch_log"
fi

# ---- wasm build -----------------------------------------------------------------------------
if ! skipped WASM; then
  section "wasm: shared and edge-app build for wasm32-unknown-unknown and wasm32-wasip2"
  scripts/wasm-cargo.sh build -p shared -p edge-app --target wasm32-unknown-unknown "${locked[@]}"
  scripts/wasm-cargo.sh build -p shared -p edge-app --target wasm32-wasip2 "${locked[@]}"
fi

# ---- infra/ templates ------------------------------------------------------------------------
if ! skipped INFRA; then
  section "infra: cfn-lint $cfn_lint_version on infra/**/*.yaml"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
  installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("cfn-lint"))' 2>/dev/null || true)"
  if [[ "$installed" == "$cfn_lint_version" ]]; then
    echo "cfn-lint $installed already installed"
  else
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "cfn-lint==$cfn_lint_version"
  fi
  shopt -s globstar nullglob
  templates=(infra/**/*.yaml)
  shopt -u globstar nullglob
  (( ${#templates[@]} > 0 )) || { echo "no templates under infra/" >&2; exit 1; }
  # Any finding (error, warning or informational) fails: suppressions live in the templates,
  # next to what they excuse.
  "$venv/bin/cfn-lint" --format parseable -- "${templates[@]}"
  echo "cfn-lint: ${#templates[@]} templates, no findings"
fi

# ---- end-to-end -----------------------------------------------------------------------------
# The API tests built `starling` from this tree already (with the test features on, which only
# add test helpers): both e2e sections reuse it rather than compile the dependency graph again.
target_dir="${CARGO_TARGET_DIR:-$root/target}"
if [[ -n "$native_ran" && -z "${STARLING_BIN:-}" && -x "$target_dir/debug/starling" ]]; then
  export STARLING_BIN="$target_dir/debug/starling"
fi

if ! skipped E2E; then
  section "e2e: tests/e2e/run.sh"
  VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" bash tests/e2e/run.sh
fi

# ---- end-to-end on the production backends ------------------------------------------------------
if ! skipped E2E_PRODUCTION; then
  section "e2e-production: tests/e2e/run.sh on DynamoDB, S3, Kinesis, SNS (moto), Redis, PostgreSQL, OpenSearch fake"
  # `cargo test --workspace` (native) builds opensearch-fake too (core-opensearch's tests turn
  # its `fake` feature on); otherwise build it here.
  if [[ -z "$native_ran" ]]; then
    cargo build -p core-opensearch --features fake --bin opensearch-fake "${locked[@]}"
  fi
  # The store's moto is serialised (see the dynamodb section); S3, Kinesis and SNS get their own,
  # so Kinesis polling does not queue behind the store's requests.
  start_moto scripts/moto-serial.py
  export STARLING_E2E_DYNAMODB="$moto_url"
  start_moto
  export STARLING_E2E_AWS="$moto_url"
  redis_port="$(free_port)"
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --databases 1024 >"$(mktemp)" 2>&1 &
  background_pids+=("$!")
  export STARLING_E2E_REDIS="redis://127.0.0.1:$redis_port"
  opensearch_out="$(mktemp)"
  "$target_dir/debug/opensearch-fake" >"$opensearch_out" &
  background_pids+=("$!")
  for _ in $(seq 1 100); do
    [[ -s "$opensearch_out" ]] && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export STARLING_E2E_OPENSEARCH="$(head -1 "$opensearch_out")"
  STARLING_E2E_BACKENDS=production VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    scripts/pg-test.sh bash -c 'STARLING_E2E_PG="$STARLING_TEST_PG_URL" STARLING_E2E_PG_CA="$STARLING_TEST_PG_CA" exec bash tests/e2e/run.sh'
  stop_background
  unset STARLING_E2E_DYNAMODB STARLING_E2E_AWS STARLING_E2E_REDIS STARLING_E2E_OPENSEARCH
fi

# ---- edge as Wasm in real runtimes ---------------------------------------------------------
if ! skipped WASM_TESTS; then
  section "wasm-tests: wasm-tests/run.sh (workerd, jco serve)"
  bash wasm-tests/run.sh
fi

section_end
printf '\n==== all sections passed in %ds ====\n' "$(( SECONDS - suite_start ))"
printf '  %s\n' "${finished[@]}"
