#!/usr/bin/env bash
# Browser end-to-end tests of the web app at /app/.
# Builds the server, starts it on a free loopback port with a throwaway SQLite
# database, runs e2e/*.spec.mjs against it in Debian's Chromium (and the browserless
# e2e/*.test.mjs), stops it. Arguments name spec files to run instead of all of them.
# Exit code = test result. SAVE_README_SCREENSHOT=1 also writes the README's docs/screenshot*.png.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

log() { printf '[e2e] %s\n' "$*" >&2; }

# --- Chromium (Debian's package; no browser download) -------------------------
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium"
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium
fi

# --- node dependencies ----------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  log "node is required (Node.js 18 or newer)"
  exit 2
fi
if [ ! -d "$here/node_modules" ]; then
  log "npm ci"
  (cd "$here" && npm ci --no-audit --no-fund)
fi

# --- server -----------------------------------------------------------------------
log "cargo build"
cargo build
bin="$root/target/debug/taskapi"

tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/taskapi-e2e.XXXXXX")"
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -f "$tmpdir/server.log" ]; then
    log "server log (last 40 lines):"
    tail -n 40 "$tmpdir/server.log" >&2 || true
  fi
  rm -rf "$tmpdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})")"
secret="${BETTER_AUTH_SECRET:-$(node -e "console.log(require('crypto').randomBytes(32).toString('hex'))")}"

log "starting server on 127.0.0.1:$port"
(
  cd "$tmpdir"
  exec env DATABASE_URL="sqlite://$tmpdir/e2e.db" HOST=127.0.0.1 PORT="$port" \
    BETTER_AUTH_SECRET="$secret" RATE_LIMIT_SIGNUP_PER_MINUTE=0 \
    "$bin" serve
) >"$tmpdir/server.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
ready=0
for _ in $(seq 1 60); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    log "server exited before it was ready"
    exit 1
  fi
  if node -e "fetch('$base/health').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ "$ready" != 1 ]; then
  log "server did not answer GET /health with 200 within 30 s"
  exit 1
fi

log "running browser tests against $base"
cd "$here"
if [ "$#" -gt 0 ]; then specs=("$@"); else specs=(*.test.mjs *.spec.mjs); fi
BASE_URL="$base" node --test --test-concurrency=1 "${specs[@]}"
