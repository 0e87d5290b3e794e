#!/usr/bin/env python3
"""Instructions per request, counted by callgrind: repeatable on a busy machine, where wall-clock
throughput is not. Also, per configuration, the median latency of sequential requests (no
valgrind), which shows round trips that instruction counts cannot.

Runs the release binary (`cargo build --release` first) in each configuration on a fresh database
of the local PostgreSQL, with instrumentation off until the server is up and a user and a task
exist, then for each scenario: counters zeroed, N requests one after another on one keep-alive
connection, counters dumped. Prints a table and writes bench/out/callgrind.json.

  python3 bench/callgrind.py                   # every configuration, 300 requests per scenario
  python3 bench/callgrind.py --requests 500 --configs plain,metrics
  TASKAPI_BIN=/path/to/other/taskapi python3 bench/callgrind.py --configs plain   # another build

Configurations: plain (defaults), metrics (METRICS_TOKEN set: the recorder on), pgbouncer
(DATABASE_URL through PgBouncer with pgbouncer=true, started by .ci/pgbouncer.sh unless
PGBOUNCER_URL is given). Needs valgrind, psql, and PgBouncer for the last one.
"""

import argparse
import glob
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TASKAPI_BIN") or os.path.join(ROOT, "target", "release", "taskapi")
OUT = os.path.join(ROOT, "bench", "out")
ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432")
SECRET = "callgrind-bench-secret-0123456789abcdef"
DB = "bench_callgrind"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, token=None, body=None):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        res = self.conn.getresponse()
        data = res.read()
        return res.status, (json.loads(data) if data else None)


def recreate_database():
    for sql in (f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', f'CREATE DATABASE "{DB}"'):
        subprocess.run(["psql", f"{ADMIN}/postgres", "-qc", sql], check=True, capture_output=True)


def wait_health(port: int, proc, timeout: float = 300.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"taskapi exited early ({proc.returncode})")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("taskapi not healthy in time")


def scenarios(client: Client):
    """Seeds a user and a task; returns the scenarios as (name, one-request function)."""
    status, body = client.call("POST", "/api/auth/signup", body={"email": "cg@example.com", "password": "password123"})
    assert status == 201, (status, body)
    uid, token = body["user_id"], body["token"]
    status, task = client.call("POST", f"/api/{uid}/tasks", token, {"title": "measured", "priority": "high"})
    assert status == 201, (status, task)
    tid = task["id"]
    return [
        ("health", lambda: client.call("GET", "/health")),
        ("get", lambda: client.call("GET", f"/api/{uid}/tasks/{tid}", token)),
        ("list", lambda: client.call("GET", f"/api/{uid}/tasks?limit=20", token)),
        ("create", lambda: client.call("POST", f"/api/{uid}/tasks", token, {"title": "one more"})),
        ("toggle", lambda: client.call("PATCH", f"/api/{uid}/tasks/{tid}/complete", token)),
    ]


def env_for(config: str, port: int, pgbouncer_url: str | None) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BETTER_AUTH_SECRET": SECRET,
        "DATABASE_URL": f"{ADMIN}/{DB}",
        "RATE_LIMIT_LOGIN_PER_MINUTE": "0",
        "RATE_LIMIT_SIGNUP_PER_MINUTE": "0",
        "DB_ACQUIRE_TIMEOUT": "5s",
    }
    if config == "metrics":
        env["METRICS_TOKEN"] = "bench-metrics-token"
    if config == "pgbouncer":
        env["DATABASE_URL"] = f"{pgbouncer_url.rstrip('/').rsplit('/', 1)[0]}/{DB}?pgbouncer=true"
        env["DATABASE_DIRECT_URL"] = f"{ADMIN}/{DB}"
    return env


def control(pid: int, env: dict, *args: str):
    # valgrind names its control pipe after the user and host in its environment: callgrind_control
    # must run with the same one to find it.
    out = subprocess.run(["callgrind_control", *args, str(pid)], env=env, capture_output=True, text=True, timeout=60)
    if "OK" not in out.stdout or "error" in out.stderr:
        sys.exit(f"callgrind_control {' '.join(args)}: {out.stdout}{out.stderr}")


def instructions(dump_prefix: str, before: set) -> int:
    """The Ir total of the dump written since `before` was listed."""
    for _ in range(100):
        new = sorted(set(glob.glob(dump_prefix + "*")) - before)
        if new:
            time.sleep(0.5)
            with open(new[-1]) as f:
                for line in f:
                    m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                    if m:
                        return int(m.group(1))
        time.sleep(0.2)
    sys.exit(f"no callgrind dump under {dump_prefix}")


def measure_callgrind(config: str, n: int, pgbouncer_url, workdir: str) -> dict:
    recreate_database()
    port = free_port()
    prefix = os.path.join(workdir, f"{config}.out")
    env = env_for(config, port, pgbouncer_url)
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={prefix}.%p", BIN, "serve"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(workdir, f"{config}.log"), "w"),
    )
    try:
        wait_health(port, proc)
        client = Client(port)
        result = {}
        for name, one in scenarios(client):
            for _ in range(20):  # warm caches and statements outside the count
                one()
            control(proc.pid, env, "-i", "on")
            control(proc.pid, env, "-z")
            for _ in range(n):
                status, _ = one()
                assert status in (200, 201), (config, name, status)
            before = set(glob.glob(prefix + "*"))
            control(proc.pid, env, "-d")
            result[name] = instructions(prefix, before) / n
            control(proc.pid, env, "-i", "off")
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def measure_latency(config: str, n: int, pgbouncer_url, workdir: str) -> dict:
    recreate_database()
    port = free_port()
    proc = subprocess.Popen(
        [BIN, "serve"],
        env=env_for(config, port, pgbouncer_url),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_health(port, proc)
        client = Client(port)
        result = {}
        for name, one in scenarios(client):
            for _ in range(50):
                one()
            took = []
            for _ in range(n):
                started = time.perf_counter()
                one()
                took.append((time.perf_counter() - started) * 1e6)
            result[name] = statistics.median(took)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=300, help="requests per scenario (default 300)")
    ap.add_argument("--configs", default="plain,metrics,pgbouncer")
    ap.add_argument("--no-latency", action="store_true", help="instruction counts only")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build the release binary first: cargo build --release")
    configs = args.configs.split(",")
    os.makedirs(OUT, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="taskapi-callgrind-")
    pgbouncer_url = os.environ.get("PGBOUNCER_URL")
    started_pgbouncer = None
    if "pgbouncer" in configs and not pgbouncer_url:
        # A directory of its own: PgBouncer runs as the postgres user, which must reach it.
        started_pgbouncer = tempfile.mkdtemp(prefix="taskapi-pgbouncer-")
        pgbouncer_url = subprocess.run(
            [os.path.join(ROOT, ".ci", "pgbouncer.sh"), "start", started_pgbouncer, str(free_port())],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    try:
        results = {}
        for config in configs:
            results[config] = {"instructions": measure_callgrind(config, args.requests, pgbouncer_url, workdir)}
            if not args.no_latency:
                results[config]["latency_us"] = measure_latency(config, args.requests, pgbouncer_url, workdir)
    finally:
        if started_pgbouncer:
            subprocess.run([os.path.join(ROOT, ".ci", "pgbouncer.sh"), "stop", started_pgbouncer])
    with open(os.path.join(OUT, "callgrind.json"), "w") as f:
        json.dump(results, f, indent=2)
    names = list(next(iter(results.values()))["instructions"])
    base = results.get("plain", {}).get("instructions")
    print(f"{'config':<10} " + " ".join(f"{n:>22}" for n in names))
    for config, r in results.items():
        cells = []
        for n in names:
            ir = r["instructions"][n]
            delta = f" ({(ir / base[n] - 1) * 100:+.1f}%)" if base and config != "plain" else ""
            cells.append(f"{ir / 1000:>12.1f}k{delta:>9}")
        print(f"{config:<10} " + " ".join(cells) + "   instructions per request")
        if "latency_us" in r:
            print(f"{'':<10} " + " ".join(f"{r['latency_us'][n]:>21.0f}µ" for n in names) + "   median latency (µs)")


if __name__ == "__main__":
    main()
