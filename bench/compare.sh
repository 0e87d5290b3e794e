#!/usr/bin/env bash
# taskapi against the FastAPI reference, one run, same machine, same harness:
#
#   bench/compare.sh [--duration S] [--scale] [--no-fastapi] [--no-pgbench] [--no-build]
#
# 1. builds the release binary (cargo build --release), creates fresh databases bench_taskapi and
#    bench_fastapi on the local PostgreSQL ($PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432),
# 2. applies taskapi's migrations, measures its startup-to-ready time (spawn → first 200 from
#    /health/ready, 3 starts) and starts it for the benchmark,
# 3. runs bench/run.py against it (with its PID for peak RSS), then bench/pgbench.sh on its database,
#    then (--scale) the 10^6-task scale mode,
# 4. starts the FastAPI reference (2 uvicorn workers; venv made on first use in bench/out/) and runs
#    the same harness (and --scale) against it,
# 5. prints both tables side by side, the pgbench ceilings and the startup time; everything is also
#    in bench/out/ (results-taskapi.json, results-fastapi.json, pgbench-taskapi.json, compare.txt).
#
# Environment: BENCH_DURATION (10), BENCH_WARMUP (2), TASKAPI_PORT (18080), FASTAPI_PORT (18081),
# FASTAPI_DIR (../shared/peers/fastapi beside the repository), PG_ADMIN_URL, PYTHON311 (python3.11).
# Servers are stopped on exit, by PID.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/out"
mkdir -p "$out"

duration="${BENCH_DURATION:-10}"
warmup="${BENCH_WARMUP:-2}"
scale=0 fastapi=1 pgbench=1 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --duration=*) duration="${1#*=}"; shift ;;
    --scale) scale=1; shift ;;
    --no-fastapi) fastapi=0; shift ;;
    --no-pgbench) pgbench=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

pg_admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432}"
pg_admin="${pg_admin%/}"
tport="${TASKAPI_PORT:-18080}"
fport="${FASTAPI_PORT:-18081}"
fastapi_dir="${FASTAPI_DIR:-$(cd "$root/.." && pwd)/shared/peers/fastapi}"
secret="bench-secret-0123456789abcdef0123456789abcdef"
t_db="$pg_admin/bench_taskapi"
f_db="$pg_admin/bench_fastapi"
bin="$root/target/release/taskapi"

say() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
command -v psql >/dev/null || { echo "psql not found: apt-get install -y postgresql-client" >&2; exit 2; }

pids=()
stop_pid() {
  # SIGTERM, then wait (bounded), then SIGKILL: only the processes this script started
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() { local p; for p in "${pids[@]}"; do stop_pid "$p"; done; }
trap cleanup EXIT

wait_http() { # url seconds
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1 within $2 s" >&2
  return 1
}

port_free() {
  if curl -s -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; then
    echo "port $1 is already in use; set ${2}_PORT" >&2
    exit 2
  fi
}
port_free "$tport" TASKAPI
[ "$fastapi" = 1 ] && port_free "$fport" FASTAPI

fresh_db() {
  psql "$pg_admin/postgres" -X -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

scale_flag=()
[ "$scale" = 1 ] && scale_flag=(--scale)

# ---------------------------------------------------------------------------------------- taskapi
if [ "$build" = 1 ]; then
  say "cargo build --release"
  (cd "$root" && cargo build --release --quiet)
fi
[ -x "$bin" ] || { echo "$bin missing: cargo build --release" >&2; exit 2; }

say "fresh database bench_taskapi; migrations"
fresh_db bench_taskapi
export BETTER_AUTH_SECRET="$secret" RATE_LIMIT_LOGIN_PER_MINUTE=0 RATE_LIMIT_SIGNUP_PER_MINUTE=0
DATABASE_URL="$t_db" "$bin" migrate up >"$out/taskapi-migrate.log" 2>&1 || {
  echo "taskapi migrate up failed:" >&2; tail -5 "$out/taskapi-migrate.log" >&2; exit 1; }

say "taskapi startup-to-ready (3 starts, migrations already applied)"
: > "$out/taskapi.log"
startup_json="$(DATABASE_URL="$t_db" PORT="$tport" python3 "$here/startup.py" --runs 3 \
  --url "http://127.0.0.1:$tport/health/ready" --log "$out/taskapi.log" -- "$bin" serve)" || {
  echo "taskapi did not become ready: $startup_json" >&2; tail -5 "$out/taskapi.log" >&2; exit 1; }
startup_ms="$(printf '%s' "$startup_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')"
say "startup-to-ready: $startup_json"

DATABASE_URL="$t_db" PORT="$tport" "$bin" serve >>"$out/taskapi.log" 2>&1 &
tpid=$!
pids+=("$tpid")
wait_http "http://127.0.0.1:$tport/health/ready" 30

say "harness against taskapi (pid $tpid)"
python3 "$here/run.py" "http://127.0.0.1:$tport" --name taskapi --duration "$duration" --warmup "$warmup" \
  --server-pid "$tpid" --extra "startup_to_ready_ms=$startup_ms" >"$out/taskapi-run.txt"

if [ "$pgbench" = 1 ]; then
  say "pgbench on bench_taskapi"
  BENCH_NAME=taskapi "$here/pgbench.sh" "$t_db" "${duration%.*}" >"$out/pgbench-taskapi.txt"
fi
if [ "$scale" = 1 ]; then
  say "scale mode against taskapi"
  python3 "$here/run.py" "http://127.0.0.1:$tport" --name taskapi --duration "$duration" --warmup "$warmup" \
    --server-pid "$tpid" --scale-only --database-url "$t_db" >/dev/null
fi
stop_pid "$tpid"
set +e; wait "$tpid" 2>/dev/null; tcode=$?; set -e
say "taskapi stopped (exit code $tcode)"

# ---------------------------------------------------------------------------------------- FastAPI
if [ "$fastapi" = 1 ]; then
  [ -x "$fastapi_dir/run.sh" ] || { echo "FastAPI reference not found at $fastapi_dir (FASTAPI_DIR)" >&2; exit 2; }
  venv="$out/fastapi-venv"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the FastAPI venv in $venv"
    "${PYTHON311:-python3.11}" -m venv "$venv"
    "$venv/bin/pip" install -q -r "$fastapi_dir/requirements.txt"
  fi
  say "fresh database bench_fastapi; starting FastAPI (2 workers)"
  fresh_db bench_fastapi
  PYTHONDONTWRITEBYTECODE=1 PYTHON="$venv/bin/python" WORKERS=2 DATABASE_URL="postgresql://${f_db#*://}" \
    "$fastapi_dir/run.sh" "$fport" >"$out/fastapi.log" 2>&1 &
  fpid=$!
  pids+=("$fpid")
  wait_http "http://127.0.0.1:$fport/health" 60
  say "harness against FastAPI (pid $fpid)"
  python3 "$here/run.py" "http://127.0.0.1:$fport" --name fastapi --duration "$duration" --warmup "$warmup" \
    --server-pid "$fpid" >"$out/fastapi-run.txt"
  if [ "$scale" = 1 ]; then
    say "scale mode against FastAPI"
    python3 "$here/run.py" "http://127.0.0.1:$fport" --name fastapi --duration "$duration" --warmup "$warmup" \
      --server-pid "$fpid" --scale-only --database-url "$f_db" >/dev/null
  fi
  stop_pid "$fpid"
fi

# ---------------------------------------------------------------------------------------- report
{
  echo "taskapi vs FastAPI reference — $(date -u +%Y-%m-%dT%H:%M:%SZ), ${duration}s per scenario, 64 connections, $(nproc) CPUs"
  echo
  files=("$out/results-taskapi.json")
  [ "$fastapi" = 1 ] && files+=("$out/results-fastapi.json")
  python3 "$here/run.py" --table "${files[@]}"
  echo
  echo "taskapi startup-to-ready: median ${startup_ms} ms ($startup_json)"
  if [ "$pgbench" = 1 ]; then
    echo
    echo "PostgreSQL ceiling (pgbench -M prepared -c 64 -j 2 -T ${duration%.*}, bench/sql/*.sql on bench_taskapi):"
    grep -v '^written' "$out/pgbench-taskapi.txt" | sed '/^$/d'
  fi
} | tee "$out/compare.txt"
say "written bench/out/compare.txt"
