#!/usr/bin/env python3
"""Startup-to-ready time of a server: spawn it, poll a URL until it answers 200, stop it with
SIGTERM, repeat.

    python3 bench/startup.py [--runs 3] [--url http://127.0.0.1:8000/health/ready] [--log FILE] -- CMD [ARG...]

The command inherits the environment (DATABASE_URL, PORT, …). Prints one JSON object: each run's
spawn→first-200 time, the median, and how long SIGTERM took to end the process and with which exit
code. Standard library only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse


def ready(host: str, port: int, path: str) -> bool:
    try:
        c = http.client.HTTPConnection(host, port, timeout=1)
        c.request("GET", path)
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except (OSError, http.client.HTTPException):
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--url", default="http://127.0.0.1:8000/health/ready")
    ap.add_argument("--timeout", type=float, default=30, help="give up on one start after this many seconds")
    ap.add_argument("--log", default="/dev/null", help="append the server's output here")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command given")
    u = urllib.parse.urlsplit(a.url)
    if u.hostname not in ("127.0.0.1", "localhost"):
        ap.error("only 127.0.0.1 / localhost")
    host, port, path = u.hostname, u.port or 80, u.path or "/"
    if ready(host, port, path):
        print(f"something already answers on {a.url}; stop it first", file=sys.stderr)
        return 2

    runs, stops = [], []
    with open(a.log, "a") as logf:
        for _ in range(max(1, min(a.runs, 20))):
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
            ms = None
            while time.perf_counter() - t0 < a.timeout:
                if p.poll() is not None:
                    break
                if ready(host, port, path):
                    ms = (time.perf_counter() - t0) * 1000
                    break
                time.sleep(0.002)
            t1 = time.perf_counter()
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                code = p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                code = p.wait()
            stops.append({"ms": round((time.perf_counter() - t1) * 1000, 1), "exit_code": code})
            if ms is None:
                print(json.dumps({"error": f"not ready within {a.timeout:.0f}s (exit code {code})", "stops": stops}))
                return 1
            runs.append(round(ms, 1))
            time.sleep(0.2)
    print(json.dumps({"runs_ms": runs, "median_ms": round(statistics.median(runs), 1), "sigterm": stops}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
