#!/usr/bin/env python3
"""Memory and fan-out of open event streams (GET /api/{uid}/events).

Signs up --users users, opens --streams streams spread over them (at most SSE_MAX_PER_USER each,
8 by default), waits for every stream's `ready`, and reads the server's resident memory
(/proc/PID/status VmRSS) before and after. Then writes one task per user and times how long each
stream takes to see its `change`. Standard library only; traffic goes to 127.0.0.1 only.

    SERVER_PID=$(pgrep -n taskapi) python3 bench/streams.py http://127.0.0.1:8000 --streams 1000

The server must not rate-limit signups (RATE_LIMIT_SIGNUP_PER_MINUTE=0).
"""

import argparse
import asyncio
import json
import os
import sys
import time
import urllib.parse
import urllib.request


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def post(base: str, path: str, body: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())


class Stream:
    def __init__(self, user: dict):
        self.user = user
        self.reader = None
        self.writer = None
        self.buf = b""

    async def open(self, host: str, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(host, port)
        path = f"/api/{urllib.parse.quote(self.user['id'], safe='')}/events"
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {self.user['token']}\r\n"
            f"Accept: text/event-stream\r\n\r\n".encode()
        )
        await self.writer.drain()
        await self.until(b"event: ready")

    async def until(self, marker: bytes) -> None:
        while marker not in self.buf:
            chunk = await self.reader.read(4096)
            if not chunk:
                raise RuntimeError("stream closed")
            self.buf += chunk
        self.buf = self.buf[self.buf.index(marker) + len(marker):]


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", nargs="?", default=os.environ.get("BASE_URL", "http://127.0.0.1:8000"))
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--per-user", type=int, default=8, help="streams per user (SSE_MAX_PER_USER)")
    ap.add_argument("--server-pid", type=int, default=int(os.environ.get("SERVER_PID", "0")))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out", "streams.json"))
    a = ap.parse_args()
    if not a.server_pid:
        print("streams.py: --server-pid (or SERVER_PID) is required to read memory", file=sys.stderr)
        return 2
    url = urllib.parse.urlparse(a.base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    users_needed = -(-a.streams // a.per_user)
    stamp = int(time.time() * 1000)
    users = []
    for i in range(users_needed):
        r = post(a.base, "/api/auth/signup", {"email": f"stream-{stamp}-{i}@example.com", "password": "bench-password-1"})
        users.append({"id": r["user_id"], "token": r["token"]})
    before = rss_kib(a.server_pid)
    streams = [Stream(users[i // a.per_user]) for i in range(a.streams)]
    started = time.monotonic()
    for i in range(0, len(streams), 100):
        await asyncio.gather(*(s.open(host, port) for s in streams[i:i + 100]))
    opened_s = time.monotonic() - started
    await asyncio.sleep(1)
    after = rss_kib(a.server_pid)

    # Fan-out: one write per user; every one of its streams must see a change.
    t0 = time.monotonic()
    for u in users:
        post(a.base, f"/api/{urllib.parse.quote(u['id'], safe='')}/tasks", {"title": "fan-out"}, u["token"])
    lat = []

    async def seen(s: Stream) -> None:
        await s.until(b"event: change")
        lat.append(time.monotonic() - t0)

    await asyncio.wait_for(asyncio.gather(*(seen(s) for s in streams)), timeout=30)
    lat.sort()
    for s in streams:
        s.writer.close()
    result = {
        "streams": a.streams,
        "users": users_needed,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "rss_delta_mib": round((after - before) / 1024, 2),
        "per_stream_kib": round((after - before) / a.streams, 2),
        "open_all_s": round(opened_s, 2),
        "fanout_p50_ms": round(lat[len(lat) // 2] * 1000, 1),
        "fanout_max_ms": round(lat[-1] * 1000, 1),
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
