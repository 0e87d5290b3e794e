#!/usr/bin/env bash
# What each part of a PostgreSQL write costs, at the database alone (no HTTP, no server): the toggle
# and create statements of 27ec1d4 (the commit before the change order), of the change order as it
# landed (migrations 0001-0003) and of today's schema, beside variants that each take one cost
# away. Every schema gets its own database of 64 accounts x 200 tasks loaded by SQL (the shape
# bench/run.py seeds); each variant runs with
#   pgbench -M prepared -c 64 -j 2 -T SECONDS
# and the variants are alternated round by round, so that the machine's drift falls on all alike.
#
#   bench/write_costs.sh [ROUNDS] [SECONDS]      default 3 rounds of 8 s
#
#   PG_ADMIN_URL   default postgres://postgres@127.0.0.1:5432 (a role that may create databases)
#   VARIANTS       a space-separated subset of the labels below (default: all)
#
# Creates the databases taskapi_wc_before, _order, _now, _now_nc, _hot and _hot_nc and drops them
# on exit. Prints tps per round and the median, and the median's change against "before".
#
#   before                  27ec1d4's schema (migrations 0001 and 0002, unchanged since) and statements
#   order                   0001-0003: the owner's counter row bumped in the write's statement
#   order_advisory          0001-0003, a sequence taken under a per-owner advisory lock held to commit
#   order_sequence          0001-0003, a sequence and no lock (loses per-owner commit order: reference)
#   now                     every migration, the server's statements (bench/sql/toggle.sql, create.sql)
#   now_advisory            the same with the change number taken as in order_advisory
#   now_no_counts           the same with the task_counts triggers disabled
#   hot                     every migration + bench/sql/costs/hot_schema.sql (toggle is a HOT update)
#   hot_no_counts           the same with the task_counts triggers disabled
#   hot_no_counts_no_order  and a constant for the change number: no change order at all
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
rounds="${1:-3}"
secs="${2:-8}"
admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432}"
case "$rounds$secs" in *[!0-9]*) echo "ROUNDS and SECONDS must be whole numbers" >&2; exit 2 ;; esac
for tool in psql pgbench; do
  command -v "$tool" >/dev/null || { echo "$tool not found (Debian: apt-get install -y postgresql-client)" >&2; exit 2; }
done

dbs=(before order now now_nc hot hot_nc)
url() { printf '%s/taskapi_wc_%s' "${admin%/}" "$1"; }
psql_on() { psql "$1" -X -q -v ON_ERROR_STOP=1 -A -t "${@:2}"; }
cleanup() { for d in "${dbs[@]}"; do psql_on "$admin/postgres" -c "DROP DATABASE IF EXISTS taskapi_wc_$d" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

migrate() { # database, how many migrations
  local f
  for f in $(ls "$root"/migrations/postgres/*.up.sql | sort | head -n "$2"); do psql_on "$1" -f "$f" >/dev/null; done
}

load() { # database: 64 accounts x 200 tasks, then the (user, task) pairs pgbench picks from
  psql_on "$1" >/dev/null <<'SQL'
INSERT INTO users (id, email, hashed_password, name)
SELECT 'bench-' || u, 'bench-' || u || '@example.com', 'not a hash', 'bench' FROM generate_series(1, 64) u;
INSERT INTO tasks (id, user_id, title, description, completed, priority, created_at, updated_at)
SELECT gen_random_uuid(), 'bench-' || u, 'seeded task ' || g || ': write the quarterly report',
       CASE WHEN g % 2 = 0 THEN 'Task number ' || g || ', created while seeding the benchmark data set.' END,
       g % 3 = 0, g % 3, now() - g * interval '1 minute', now()
  FROM generate_series(1, 64) u, generate_series(1, 200) g;
CREATE TABLE bench_pgbench_targets AS
  SELECT (row_number() OVER ())::int AS n, user_id AS uid, id::text AS tid FROM (SELECT * FROM tasks ORDER BY random()) s;
ALTER TABLE bench_pgbench_targets ADD PRIMARY KEY (n);
CREATE SEQUENCE bench_change_order;
SQL
}

echo "write_costs: setting up ${#dbs[@]} databases" >&2
cleanup
for d in before order now hot; do psql_on "$admin/postgres" -c "CREATE DATABASE taskapi_wc_$d" >/dev/null; done
migrate "$(url before)" 2
migrate "$(url order)" 3
migrate "$(url now)" 99
migrate "$(url hot)" 99
for d in before order now hot; do load "$(url "$d")"; done
psql_on "$(url hot)" -f "$here/sql/costs/hot_schema.sql" >/dev/null
for d in now hot; do
  psql_on "$(url "$d")" -c "VACUUM ANALYZE" >/dev/null
  psql_on "$admin/postgres" -c "CREATE DATABASE taskapi_wc_${d}_nc TEMPLATE taskapi_wc_$d" >/dev/null
  psql_on "$(url "${d}_nc")" \
    -c "ALTER TABLE tasks DISABLE TRIGGER tasks_count_insert, DISABLE TRIGGER tasks_count_update" >/dev/null
done
for d in before order; do psql_on "$(url "$d")" -c "VACUUM ANALYZE" >/dev/null; done

# label, database, statement (before, order: sql/costs/NAME.*.sql; server: sql/*.sql; hot: the
# server's statement writing the side row too), how the change number is taken
variants=(
  "before before before -"
  "order order order counter"
  "order_advisory order order advisory"
  "order_sequence order order sequence"
  "now now server counter"
  "now_advisory now server advisory"
  "now_no_counts now_nc server counter"
  "hot hot hot counter"
  "hot_no_counts hot_nc hot counter"
  "hot_no_counts_no_order hot_nc hot none"
)
if [ -n "${VARIANTS:-}" ]; then
  kept=()
  for v in "${variants[@]}"; do case " $VARIANTS before " in *" ${v%% *} "*) kept+=("$v") ;; esac; done
  variants=("${kept[@]}")
fi

counter='seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = :uid RETURNING change_seq AS next_seq)'
declare -A change_number=(
  [counter]="$counter"
  [advisory]="lock AS (SELECT pg_advisory_xact_lock(hashtextextended(:uid, 0)) AS held), seq AS (SELECT nextval('bench_change_order') AS next_seq FROM lock)"
  [sequence]="seq AS (SELECT nextval('bench_change_order') AS next_seq)"
  [none]="seq AS (SELECT 1::bigint AS next_seq)"
)
declare -A side_row=(
  [toggle]="UPDATE task_marks SET completed = t.completed, updated_at = t.updated_at, change_seq = t.change_seq FROM t WHERE task_id = t.id"
  [create]="INSERT INTO task_marks SELECT id, user_id, change_seq, updated_at, completed, created_at FROM t"
)

statement() { # source toggle|create -> the statement, comments dropped
  case "$1" in
    before|order) grep -v '^--' "$here/sql/costs/$1.$2.sql" ;;
    server) grep -v '^--' "$here/sql/$2.sql" ;;
    # WITH seq AS (…) <write> RETURNING …;  ->  WITH seq AS (…), t AS (<write> RETURNING …), m AS (<side row>) SELECT * FROM t;
    hot) statement server "$2" | sed '1s/$/,/; 2s/^/t AS (/; $s/;$/),/'
         printf 'm AS (%s)\nSELECT * FROM t;\n' "${side_row[$2]}" ;;
  esac
}

script_for() { # source statement change-number -> pgbench script on stdout
  local body
  body="$(statement "$1" "$2")"
  if [ "$3" != - ]; then
    case "$body" in *"$counter"*) ;; *) echo "write_costs: no change counter in the $1 $2 statement" >&2; exit 1 ;; esac
    body="${body/"$counter"/"${change_number[$3]}"}"
  fi
  printf '\\set n random(1, 12800)\n'
  printf 'SELECT uid, tid FROM bench_pgbench_targets WHERE n = :n \\gset\n'
  printf '%s\n' "$body"
}

out="$here/out/write_costs"
mkdir -p "$out"
: > "$out/results.txt"
for r in $(seq 1 "$rounds"); do
  for statement in toggle create; do
    for v in "${variants[@]}"; do
      read -r label db source number <<<"$v"
      script_for "$source" "$statement" "$number" > "$out/$label.$statement.script"
      tps="$(pgbench -n -M prepared -c 64 -j 2 -T "$secs" -f "$out/$label.$statement.script" "$(url "$db")" 2>&1 \
             | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')"
      echo "round $r $statement $label ${tps:-failed}" | tee -a "$out/results.txt" >&2
    done
  done
done

python3 - "$out/results.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    _, _, statement, label, tps = line.split()
    runs.setdefault((statement, label), []).append(float(tps) if tps != "failed" else float("nan"))
for statement in ("toggle", "create"):
    base = statistics.median(runs[(statement, "before")])
    print(f"\n{statement:<24} {'tps by round':>26} {'median':>8} {'vs before':>10}")
    for (s, label), v in runs.items():
        if s != statement:
            continue
        m = statistics.median(v)
        print(f"{label:<24} {' / '.join(f'{x:.0f}' for x in v):>26} {m:>8.0f} {100 * (m / base - 1):>+9.0f}%")
PY
