#!/usr/bin/env bash
# Conformance run: the server, started on a fresh SQLite database, against its own OpenAPI
# document at /openapi.json, with schemathesis (pinned below, installed into .venv-schemathesis).
#
# Checks: no server errors, every status code, content type, header and body as documented, with
# examples, boundary cases, fuzzing and stateful (links) phases. Exits non-zero on any failure.
#
# Environment: TASKAPI_BIN (default: build and use target/debug/taskapi), ST_MAX_EXAMPLES
# (default 200 per operation), ST_SEED (a fixed seed, to reproduce a run), ST_PHASES (default
# examples,coverage,fuzzing,stateful).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD

ST_VERSION=4.32.5
venv=$root/.venv-schemathesis
max_examples=${ST_MAX_EXAMPLES:-200}

log() { printf 'schemathesis.sh: %s\n' "$*" >&2; }

# --- the server binary
if [[ -n ${TASKAPI_BIN:-} ]]; then
    bin=$TASKAPI_BIN
else
    cargo build --quiet --bin taskapi
    bin=$root/target/debug/taskapi
fi
[[ -x $bin ]] || { log "no server binary at $bin"; exit 1; }

# --- schemathesis, pinned, in its own virtualenv
if [[ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != *" $ST_VERSION" ]]; then
    log "installing schemathesis $ST_VERSION into $venv"
    rm -rf "$venv"
    python3.11 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

# --- a server on a free port with a fresh database, stopped on exit whatever happens
tmp=$(mktemp -d)
server_pid=
cleanup() {
    local status=$?
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -s $tmp/server.log ]]; then
        log "server log (last 50 lines):"
        tail -n 50 "$tmp/server.log" >&2 || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

DATABASE_URL="sqlite://$tmp/s.db" \
BETTER_AUTH_SECRET="schemathesis-run-secret-$(date +%s%N)-0123456789abcdef" \
RATE_LIMIT_LOGIN_PER_MINUTE=0 \
RATE_LIMIT_SIGNUP_PER_MINUTE=0 \
HOST=127.0.0.1 \
PORT=$port \
RUST_LOG=warn \
    "$bin" serve >"$tmp/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
    curl -fsS "$base/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { log "the server exited at start"; exit 1; }
    sleep 0.1
done
curl -fsS "$base/health" >/dev/null || { log "the server did not come up on $base"; exit 1; }

# --- the user the run acts as; its password is random, so no generated body can delete it or
# change its password, and its token stays valid for the whole run
password="pw-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
signup=$(curl -sS -X POST "$base/api/auth/signup" -H 'Content-Type: application/json' \
    -d "{\"email\": \"conformance-$port@example.com\", \"password\": \"$password\", \"name\": \"Conformance\"}") ||
    { log "signup request failed"; exit 1; }
user_id= token=
read -r user_id token < <(python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["user_id"], d["token"])' <<<"$signup" 2>/dev/null) || true
[[ -n $user_id && -n $token ]] || { log "signup gave no user id or token: $signup"; exit 1; }

# --- the run
# Every check but two, excluded by name (so that .ci/schemathesis.toml can still turn a check off
# for one phase): `positive_data_acceptance`, since a well-formed `category_id` naming no
# category of the caller's is a 422 by the contract (the schema cannot say which ids exist), and
# `object_level_authorization`, which needs a second user's credentials (tests/ cover that).
# One worker: with several, Python 3.11's `ast.parse` (used by Hypothesis from threads) can fail
# with "AST constructor recursion depth mismatch".
# The event stream (`events`) is left out: it stays open by design, so every call would end in
# the request timeout; tests/events.rs covers it.
# Expected warnings: change-password and account deletion answer only 403 (the password is
# random), and generated task updates are mostly 422 (random category ids).
args=(
    --config-file "$root/.ci/schemathesis.toml"
    run "$base/openapi.json"
    --header "Authorization: Bearer $token"
    --exclude-checks positive_data_acceptance,object_level_authorization
    --phases "${ST_PHASES:-examples,coverage,fuzzing,stateful}"
    --exclude-operation-id events
    --max-examples "$max_examples"
    --workers 1
    --request-timeout 10
    --max-redirects 0
    --generation-database none
    --no-color
)
[[ -n ${ST_SEED:-} ]] && args+=(--seed "$ST_SEED")

log "running schemathesis $ST_VERSION against $base (user $user_id)"
ST_USER_ID=$user_id timeout 900 "$venv/bin/schemathesis" "${args[@]}"
