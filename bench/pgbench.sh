#!/usr/bin/env bash
# PostgreSQL's own ceiling for the statements the server issues: runs each bench/sql/*.sql
# (list, get, create, toggle, in that order; any other *.sql there too) with
#   pgbench -M prepared -c 64 -j 2 -T SECONDS
# against the server's database, which must already hold users and tasks (run bench/run.py first).
#
#   bench/pgbench.sh [DATABASE_URL] [SECONDS]
#
#   DATABASE_URL      the server's database (argument or environment); postgresql+asyncpg:// and
#                     friends are accepted as the servers accept them
#   SECONDS           per script, default 10 ($PGBENCH_SECONDS)
#   PGBENCH_CLIENTS   default 64      PGBENCH_JOBS  default 2
#   BENCH_NAME        results go to bench/out/pgbench-$BENCH_NAME.json (default: run)
#
# The .sql files use two variables: :uid (a user id) and :tid (a task id of that user). Each
# transaction first picks one row at random from a helper table, bench_pgbench_targets (up to
# 50 000 random (user, task) pairs sampled from `tasks`; created here, dropped on exit), then runs
# the file's statements. The table shows transactions per second (two round trips each: the pick and
# the statement), p50/p99 of the whole transaction, and the average latency of the file's own
# statements alone (pgbench -r), which is the figure to set against the server's.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
url="${1:-${DATABASE_URL:-}}"
secs="${2:-${PGBENCH_SECONDS:-10}}"
clients="${PGBENCH_CLIENTS:-64}"
jobs="${PGBENCH_JOBS:-2}"
name="${BENCH_NAME:-run}"

if [ -z "$url" ]; then
  echo "usage: bench/pgbench.sh DATABASE_URL [SECONDS]   (or set DATABASE_URL)" >&2
  exit 2
fi
case "$secs" in ''|*[!0-9]*) echo "SECONDS must be a whole number, got '$secs'" >&2; exit 2 ;; esac
if [ "$secs" -lt 1 ] || [ "$secs" -gt 3600 ]; then echo "SECONDS must be 1..3600" >&2; exit 2; fi
for tool in psql pgbench python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (Debian: apt-get install -y postgresql-client python3)" >&2; exit 2; }
done

# libpq does not know the SQLAlchemy driver suffixes nor asyncpg's ssl=; Neon's channel_binding is fine.
url="$(printf '%s' "$url" | sed -E 's#^postgres(ql)?\+[a-z0-9_]+://#postgresql://#; s#([?&])ssl=#\1sslmode=#')"

out="$here/out/pgbench-$name"
mkdir -p "$out"
rm -f "$out"/log.* "$out"/*.script

PSQL=(psql "$url" -X -q -v ON_ERROR_STOP=1 -A -t)

cleanup() { "${PSQL[@]}" -c 'DROP TABLE IF EXISTS bench_pgbench_targets' >/dev/null 2>&1 || true; }
trap cleanup EXIT

"${PSQL[@]}" >/dev/null <<'SQL'
DROP TABLE IF EXISTS bench_pgbench_targets;
CREATE TABLE bench_pgbench_targets AS
  SELECT (row_number() OVER ())::int AS n, uid, tid
    FROM (SELECT user_id::text AS uid, id::text AS tid FROM tasks ORDER BY random() LIMIT 50000) s;
ALTER TABLE bench_pgbench_targets ADD PRIMARY KEY (n);
ANALYZE bench_pgbench_targets;
SQL
targets="$("${PSQL[@]}" -c 'SELECT count(*) FROM bench_pgbench_targets')"
if [ "$targets" -lt 1 ]; then
  echo "the tasks table is empty: seed it first (python3 bench/run.py …)" >&2
  exit 1
fi
# Other clients of the same PostgreSQL (the server's idle pool, other databases' users) count
# against max_connections: with fewer slots free than clients, every run would fail outright.
free="$("${PSQL[@]}" -c "SELECT current_setting('max_connections')::int - count(*) - 2 FROM pg_stat_activity
                         WHERE backend_type = 'client backend'")"
if [ "$free" -lt "$clients" ]; then
  echo "pgbench: only $free connections free on the server: $clients clients lowered to $free" >&2
  clients="$free"
  [ "$clients" -ge "$jobs" ] || jobs=1
  [ "$clients" -ge 1 ] || { echo "pgbench: no connection free on the server" >&2; exit 1; }
fi
echo "pgbench: $targets (user, task) pairs to pick from; -M prepared -c $clients -j $jobs -T $secs" >&2

# list, get, create, toggle first, then any other script the directory holds
scripts=()
for s in list get create toggle; do [ -f "$here/sql/$s.sql" ] && scripts+=("$s"); done
for f in "$here"/sql/*.sql; do
  s="$(basename "$f" .sql)"
  case " ${scripts[*]} " in *" $s "*) ;; *) scripts+=("$s") ;; esac
done

for s in "${scripts[@]}"; do
  script="$out/$s.script"
  {
    printf '\\set n random(1, %s)\n' "$targets"
    printf 'SELECT uid, tid FROM bench_pgbench_targets WHERE n = :n \\gset\n'
    cat "$here/sql/$s.sql"
    printf '\n'
  } > "$script"
  echo "pgbench: $s …" >&2
  # bounded by -T; timeout is a safety net
  if ! (cd "$out" && timeout $((secs + 120)) pgbench -n -M prepared -c "$clients" -j "$jobs" -T "$secs" -r \
          -l --log-prefix="log.$s" -f "$script" "$url") > "$out/$s.txt" 2>&1; then
    echo "pgbench failed for $s (see $out/$s.txt):" >&2
    tail -5 "$out/$s.txt" >&2
  fi
done

python3 - "$out" "$here/out/pgbench-$name.json" "$secs" "$clients" "${scripts[@]}" <<'PY'
import glob, json, re, sys

out, dest, secs, clients, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
results = {}
for s in names:
    try:
        text = open(f"{out}/{s}.txt").read()
    except OSError:
        continue
    m = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", text, re.M)
    if not m:
        results[s] = {"error": text.strip().splitlines()[-1] if text.strip() else "no output"}
        continue
    r = {"tps": float(m.group(1))}
    m = re.search(r"^number of failed transactions: (\d+)", text, re.M)
    r["failed"] = int(m.group(1)) if m else 0
    # per-statement latencies (-r): the first two lines are \set and the pick
    stmt = re.findall(r"^\s+([\d.]+)\s+\d+\s+(.*)$", text.split("latencies in milliseconds")[-1], re.M) \
        or re.findall(r"^\s+([\d.]+)\s+(.*)$", text.split("latencies in milliseconds")[-1], re.M)
    body = [float(v) for v, cmd in stmt if not cmd.startswith("\\set") and "bench_pgbench_targets" not in cmd]
    r["statement_ms"] = round(sum(body), 3)
    lat = []
    for f in glob.glob(f"{out}/log.{s}*"):
        with open(f) as fh:
            for line in fh:
                p = line.split()
                if len(p) >= 3 and p[2].isdigit():
                    lat.append(int(p[2]))
    lat.sort()
    if lat:
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000
        r.update(p50_ms=round(pick(0.50), 3), p99_ms=round(pick(0.99), 3), transactions=len(lat))
    results[s] = r

json.dump({"seconds": secs, "clients": clients, "scripts": results}, open(dest, "w"), indent=2)
print(f"clients: {clients}")
print(f"{'statement':<10} {'tps':>9} {'p50 ms':>8} {'p99 ms':>8} {'stmt ms':>8} {'failed':>7}")
for s, r in results.items():
    if "error" in r:
        print(f"{s:<10} error: {r['error']}")
    else:
        print(f"{s:<10} {r['tps']:>9.0f} {r.get('p50_ms', 0):>8.2f} {r.get('p99_ms', 0):>8.2f} "
              f"{r['statement_ms']:>8.3f} {r['failed']:>7}")
print(f"\nwritten {dest}")
PY
rm -f "$out"/log.*
