#!/usr/bin/env bash
# Starts a PgBouncer in transaction mode in front of the local PostgreSQL (127.0.0.1:5432), the
# strict kind that cannot carry named prepared statements (Debian's 1.18), and prints its admin
# URL. Usage: .ci/pgbouncer.sh start DIR PORT | .ci/pgbouncer.sh stop DIR
set -euo pipefail
action=$1 dir=$2
case "$action" in
start)
  port=$3
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
ignore_startup_parameters = extra_float_digits
max_client_conn = 2000
default_pool_size = 20
max_db_connections = 40
server_idle_timeout = 10
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  echo '"postgres" ""' >"$dir/userlist.txt"
  chown -R postgres "$dir"
  # PgBouncer refuses to run as root.
  runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini"
  for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p "$port" -q && break; sleep 0.1; done
  echo "postgres://postgres@127.0.0.1:$port/postgres"
  ;;
stop)
  if [ -f "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
  ;;
esac
