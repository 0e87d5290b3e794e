#!/usr/bin/env bash
# taskapi on PostgreSQL and on SQLite against the FastAPI reference, one run, same machine, same
# harness:
#
#   bench/compare.sh [--duration S] [--heavy] [--scale] [--no-sqlite] [--no-fastapi] [--no-pgbench]
#                    [--no-build]
#
# 1. builds the release binary (cargo build --release), creates fresh databases bench_taskapi and
#    bench_fastapi on the local PostgreSQL ($PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432),
# 2. applies taskapi's migrations, measures its startup-to-ready time (spawn → first 200 from
#    /health/ready, 3 starts) and starts it for the benchmark,
# 3. runs bench/run.py against it (with its PID for peak RSS and CPU per request), then
#    bench/pgbench.sh on its database, then (--heavy) the heavy-user mode, then (--scale) the
#    10^6-task scale mode,
# 4. the same harness (and --heavy) against taskapi on a fresh SQLite file, bench/out/bench-sqlite.db
#    (its secret generated beside it), and counts "database is locked" in its log,
# 5. starts the FastAPI reference (2 uvicorn workers; venv made on first use in bench/out/) and runs
#    the same harness (and --scale) against it,
# 6. prints the three tables side by side with taskapi ÷ FastAPI ratios and the budgets, the pgbench
#    ceilings and the startup time; everything is also in bench/out/ (results-taskapi-pg.json,
#    results-taskapi-sqlite.json, results-fastapi.json, pgbench-taskapi.json, compare.txt).
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
scale=0 heavy=0 sqlite=1 fastapi=1 pgbench=1 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --duration=*) duration="${1#*=}"; shift ;;
    --scale) scale=1; shift ;;
    --heavy) heavy=1; shift ;;
    --no-sqlite) sqlite=0; shift ;;
    --no-fastapi) fastapi=0; shift ;;
    --no-pgbench) pgbench=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
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
s_file="$out/bench-sqlite.db"
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

harness() { # NAME BASE_URL PID DATABASE_URL [run.py options…]
  local name="$1" url="$2" pid="$3" db="$4"
  shift 4
  python3 "$here/run.py" "$url" --name "$name" --duration "$duration" --warmup "$warmup" \
    --server-pid "$pid" --database-url "$db" "$@"
}

say "harness against taskapi on PostgreSQL (pid $tpid)"
harness taskapi-pg "http://127.0.0.1:$tport" "$tpid" "$t_db" --extra "startup_to_ready_ms=$startup_ms" \
  >"$out/taskapi-pg-run.txt"

if [ "$pgbench" = 1 ]; then
  say "pgbench on bench_taskapi"
  BENCH_NAME=taskapi "$here/pgbench.sh" "$t_db" "${duration%.*}" >"$out/pgbench-taskapi.txt"
fi
# after pgbench, whose random (user, task) picks would otherwise mostly land on the heavy user
if [ "$heavy" = 1 ]; then
  say "heavy-user mode against taskapi on PostgreSQL"
  harness taskapi-pg "http://127.0.0.1:$tport" "$tpid" "$t_db" --heavy-only >/dev/null
fi
if [ "$scale" = 1 ]; then
  say "scale mode against taskapi on PostgreSQL"
  harness taskapi-pg "http://127.0.0.1:$tport" "$tpid" "$t_db" --scale-only >/dev/null
fi
stop_pid "$tpid"
set +e; wait "$tpid" 2>/dev/null; tcode=$?; set -e
say "taskapi stopped (exit code $tcode)"

# ---------------------------------------------------------------------------------------- SQLite
locked=""
if [ "$sqlite" = 1 ]; then
  say "fresh SQLite database $s_file; migrations"
  rm -f "$s_file" "$s_file-wal" "$s_file-shm" "$s_file.secret"
  # the default set-up: no secret given, taskapi generates one beside the file
  DATABASE_URL="sqlite://$s_file" env -u BETTER_AUTH_SECRET "$bin" migrate up >"$out/taskapi-sqlite-migrate.log" 2>&1 || {
    echo "taskapi migrate up (SQLite) failed:" >&2; tail -5 "$out/taskapi-sqlite-migrate.log" >&2; exit 1; }
  DATABASE_URL="sqlite://$s_file" PORT="$tport" env -u BETTER_AUTH_SECRET "$bin" serve >"$out/taskapi-sqlite.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  wait_http "http://127.0.0.1:$tport/health/ready" 30
  say "harness against taskapi on SQLite (pid $spid)"
  harness taskapi-sqlite "http://127.0.0.1:$tport" "$spid" "sqlite://$s_file" >"$out/taskapi-sqlite-run.txt"
  if [ "$heavy" = 1 ]; then
    say "heavy-user mode against taskapi on SQLite"
    harness taskapi-sqlite "http://127.0.0.1:$tport" "$spid" "sqlite://$s_file" --heavy-only >/dev/null
  fi
  stop_pid "$spid"
  set +e; wait "$spid" 2>/dev/null; scode=$?; set -e
  locked="$(grep -c 'database is locked' "$out/taskapi-sqlite.log" || true)"
  say "taskapi on SQLite stopped (exit code $scode); \"database is locked\" in its log: $locked"
  if [ "$pgbench" = 1 ]; then
    say "SQLite ceiling (bench/sqlite_ceiling.py)"
    python3 "$here/sqlite_ceiling.py" >"$out/sqlite-ceiling.txt"
  fi
fi

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
  harness fastapi "http://127.0.0.1:$fport" "$fpid" "$f_db" >"$out/fastapi-run.txt"
  if [ "$scale" = 1 ]; then
    say "scale mode against FastAPI"
    harness fastapi "http://127.0.0.1:$fport" "$fpid" "$f_db" --scale-only >/dev/null
  fi
  stop_pid "$fpid"
fi

# ---------------------------------------------------------------------------------------- report
{
  echo "taskapi (PostgreSQL, SQLite) vs FastAPI reference — $(date -u +%Y-%m-%dT%H:%M:%SZ)," \
    "${duration}s per scenario, 64 connections (heavy: 1), $(nproc) CPUs, commit $(git -C "$root" rev-parse --short HEAD)"
  echo
  files=("$out/results-taskapi-pg.json")
  [ "$sqlite" = 1 ] && files+=("$out/results-taskapi-sqlite.json")
  [ "$fastapi" = 1 ] && files+=("$out/results-fastapi.json")
  python3 "$here/run.py" --table "${files[@]}"
  echo
  echo "taskapi startup-to-ready: median ${startup_ms} ms ($startup_json)"
  [ "$sqlite" = 1 ] && echo "taskapi-sqlite: \"database is locked\" in the server log: $locked"
  if [ "$pgbench" = 1 ]; then
    echo
    echo "PostgreSQL ceiling (pgbench -M prepared -j 2 -T ${duration%.*}, bench/sql/*.sql on bench_taskapi):"
    grep -v '^written' "$out/pgbench-taskapi.txt" | sed '/^$/d'
    if [ "$sqlite" = 1 ]; then
      echo "SQLite ceiling (bench/sqlite_ceiling.py: the same statements, one connection, no server):"
      cat "$out/sqlite-ceiling.txt"
    fi
  fi
} | tee "$out/compare.txt"
say "written bench/out/compare.txt"
