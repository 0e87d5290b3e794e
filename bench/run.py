#!/usr/bin/env python3
"""Load benchmark for a running taskapi (or any server speaking the same HTTP contract).

    python3 bench/run.py [BASE_URL] [options]          # BASE_URL or $BASE_URL, default http://127.0.0.1:8000
    python3 bench/run.py --table bench/out/results-a.json [bench/out/results-b.json ...]

It signs up users, seeds tasks through the API, then drives each scenario with wrk for a fixed time
after a short warm-up, prints a table and writes bench/out/results-<name>.json. See bench/README.md.

Python 3 standard library only; needs `wrk` on PATH (Debian: apt-get install -y wrk) and, for
--scale, `psql`.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(BENCH_DIR, "out")
LUA = os.path.join(BENCH_DIR, "wrk", "scenario.lua")
PASSWORD = "bench-Password-0123"

# The order scenarios run in. Read-only ones first, login and the storm before create/delete so
# that every list is measured on the same data (200 tasks per user).
SCENARIOS = ["health", "list", "get", "update", "toggle", "login", "login_storm", "create", "delete"]

SCENARIO_HELP = {
    "health": "GET /health",
    "list": "GET /api/{uid}/tasks?limit=20",
    "get": "GET /api/{uid}/tasks/{id}",
    "update": "PATCH /api/{uid}/tasks/{id} (title, priority, description)",
    "toggle": "PATCH /api/{uid}/tasks/{id}/complete",
    "login": "POST /api/auth/login",
    "login_storm": "list measured while 64 connections POST /api/auth/login",
    "create": "POST /api/{uid}/tasks",
    "delete": "DELETE /api/{uid}/tasks/{id}, each task once",
    "scale_list": "list with 10^6 tasks / 10^4 users in the table",
    "scale_get": "get with 10^6 tasks / 10^4 users in the table",
    "heavy_*": "GET /api/{uid}/tasks?limit=20&… of one user with 10^5 tasks, one connection (HEAVY_QUERIES)",
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# HTTP client used for seeding and probes (keep-alive connection per worker thread)
# --------------------------------------------------------------------------------------------
class Client:
    def __init__(self, base_url: str, timeout: float = 60.0):
        u = urllib.parse.urlsplit(base_url)
        if u.scheme != "http":
            raise SystemExit(f"only http:// base URLs are supported, got {base_url!r}")
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing to send load to {u.hostname!r}: only 127.0.0.1 / localhost")
        self.host = u.hostname
        self.port = u.port or 80
        self.timeout = timeout
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.local.conn = c
        return c

    def request(self, method: str, path: str, token: str | None = None, body=None):
        headers = {"Accept": "application/json"}
        data = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                parsed = None
                if raw:
                    try:
                        parsed = json.loads(raw)
                    except ValueError:
                        parsed = raw.decode(errors="replace")
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("unreachable")


def settle(client: Client, limit_s: float = 120.0) -> float:
    """Wait until the server answers /health quickly again (work queued by an earlier scenario, such
    as logins abandoned when wrk stopped, is drained). Returns the seconds waited."""
    t0 = time.monotonic()
    fast = 0
    while time.monotonic() - t0 < limit_s and fast < 3:
        t = time.monotonic()
        try:
            c = http.client.HTTPConnection(client.host, client.port, timeout=limit_s)
            c.request("GET", "/health")
            c.getresponse().read()
            c.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
            continue
        fast = fast + 1 if time.monotonic() - t < 0.05 else 0
        time.sleep(0.05)
    return time.monotonic() - t0


def wait_ready(client: Client, path: str = "/health", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _, _ = client.request("GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"server at {client.host}:{client.port} did not answer 200 on {path} within {timeout:.0f}s")


# --------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------
def signup_users(client: Client, run_id: str, count: int, workers: int, prefix: str = "u") -> list[dict]:
    """Sign up `count` users; returns [{user_id, token, email, password}]. Logs in when the signup
    answer carries no token (the FastAPI reference answers signup without one)."""

    def one(i: int) -> dict:
        email = f"bench-{run_id}-{prefix}{i}@example.com"
        status, _, body = client.request("POST", "/api/auth/signup", body={"email": email, "password": PASSWORD})
        if status not in (200, 201):
            raise RuntimeError(f"signup {email}: HTTP {status} {body}")
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        uid = body.get("user_id") or body.get("id")
        if not token:
            status, _, lb = client.request("POST", "/api/auth/login", body={"email": email, "password": PASSWORD})
            if status != 200:
                raise RuntimeError(f"login {email}: HTTP {status} {lb}")
            token = lb.get("token") or lb.get("access_token")
            uid = uid or lb.get("user_id")
        return {"user_id": str(uid), "token": token, "email": email, "password": PASSWORD}

    with cf.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(one, range(count)))


PRIOS = ["low", "medium", "high"]


def task_body(i: int, label: str = "seed") -> dict:
    body = {"title": f"{label} task {i}: write the quarterly report", "priority": PRIOS[i % 3]}
    if i % 2 == 0:
        body["description"] = f"Task number {i}, created while seeding the benchmark data set."
    if i % 4 == 0:
        body["due_date"] = f"2030-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}T09:30:00Z"
    return body


def seed_tasks(client: Client, users: list[dict], per_user: int, workers: int) -> list[tuple[str, str, str]]:
    """Create `per_user` tasks for each user; returns [(user_id, token, task_id)]."""
    jobs = [(u, i) for i in range(per_user) for u in users]

    def one(job):
        u, i = job
        status, _, body = client.request("POST", f"/api/{u['user_id']}/tasks", u["token"], task_body(i))
        if status != 201:
            raise RuntimeError(f"create task: HTTP {status} {body}")
        return (u["user_id"], u["token"], str(body["id"]))

    out = []
    with cf.ThreadPoolExecutor(max_workers=workers) as ex:
        for n, r in enumerate(ex.map(one, jobs, chunksize=64), 1):
            out.append(r)
            if n % 2000 == 0:
                log(f"  seeded {n}/{len(jobs)} tasks")
    return out


# --------------------------------------------------------------------------------------------
# Memory of the server process (and its children: uvicorn workers, for instance)
# --------------------------------------------------------------------------------------------
def _proc_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int | None) -> int | None:
    """CPU time of the server's process tree so far, in clock ticks: utime + stime of every process,
    plus cutime + cstime (children that exited and were reaped, whose time moved to their parent)."""
    if not pid:
        return None
    total = 0
    for p in _proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited between the walk and the read
        fields = stat[stat.rindex(")") + 2:].split()
        # after the ")": state is field 3 of stat(5), so utime (14) .. cstime (17) are [11:15]
        total += sum(int(x) for x in fields[11:15])
    return total


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples VmRSS of the server's process tree every `interval` s while running."""

    def __init__(self, pid: int | None, interval: float = 0.5):
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.phase_peak: dict[str, int] = {}
        self.phase = "start"
        self.samples = 0
        self._stop = threading.Event()
        self._thread = None
        self.nprocs = 0

    def start(self):
        if not self.pid:
            return
        if not os.path.exists(f"/proc/{self.pid}"):
            raise SystemExit(f"server PID {self.pid} does not exist")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        tree = _proc_tree(self.pid)
        self.nprocs = len(tree)
        kb = sum(_status_kb(p, "VmRSS") for p in tree)
        self.samples += 1
        self.peak_kb = max(self.peak_kb, kb)
        self.phase_peak[self.phase] = max(self.phase_peak.get(self.phase, 0), kb)
        return kb

    def stop(self) -> dict | None:
        if not self.pid:
            return None
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        tree = _proc_tree(self.pid)
        return {
            "pid": self.pid,
            "processes": len(tree),
            "vmrss_peak_sampled_mb": round(self.peak_kb / 1024, 1),
            "vmrss_end_mb": round(sum(_status_kb(p, "VmRSS") for p in tree) / 1024, 1),
            "vmhwm_mb": round(sum(_status_kb(p, "VmHWM") for p in tree) / 1024, 1),
            "vmrss_peak_by_phase_mb": {k: round(v / 1024, 1) for k, v in self.phase_peak.items()},
            "samples": self.samples,
            "note": "sums over the server process and its children; VmHWM is each process's own high-water mark since it started",
        }


# --------------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.base = args.base_url.rstrip("/")
        self.client = Client(self.base)
        self.work = os.path.join(OUT_DIR, args.name)
        os.makedirs(self.work, exist_ok=True)
        self.results: dict[str, dict] = {}
        self.rss = RssSampler(args.server_pid)

    # wrk invocation --------------------------------------------------------------------------
    def wrk_cmd(self, scenario: str, datafile: str, seconds: float, connections: int, threads: int,
                outprefix: str = "-") -> list[str]:
        return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(round(seconds)))}s", "--latency",
                f"--timeout", f"{self.args.timeout}s", "-s", LUA, self.base, "--",
                scenario, datafile, outprefix, str(threads)]

    def run_wrk(self, label: str, scenario: str, datafile: str, seconds: float, connections: int | None = None,
                threads: int | None = None, outprefix: str = "-", background: bool = False):
        cmd = self.wrk_cmd(scenario, datafile, seconds, connections or self.args.connections,
                           threads or self.args.threads, outprefix)
        logpath = os.path.join(self.work, f"wrk-{label}.txt")
        if background:
            f = open(logpath, "w")
            return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=self.work), logpath
        # bounded: wrk stops itself after `seconds`; the timeout is a safety net
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=self.work,
                           timeout=seconds + self.args.timeout + 60)
        with open(logpath, "w") as f:
            f.write(" ".join(cmd) + "\n" + p.stdout + p.stderr)
        return parse_wrk(p.stdout, p.stderr, logpath)

    def measure(self, key: str, scenario: str, datafile: str, warmup: bool = True, outprefix: str = "-",
                connections: int | None = None, threads: int | None = None, cpu: bool = True) -> dict:
        """One scenario: warm-up, then the measured run. With the server's PID, also the server's CPU
        time during the measured run per response (`cpu=False` when something else loads the server
        at the same time, as in the login storm)."""
        a = self.args
        if warmup and a.warmup > 0:
            self.rss.phase = f"{key}:warmup"
            self.run_wrk(f"{key}-warmup", scenario, datafile, a.warmup, connections, threads,
                         outprefix=outprefix + "w" if outprefix != "-" else "-")
        self.rss.phase = key
        t0 = cpu_ticks(a.server_pid)
        r = summarize(self.run_wrk(key, scenario, datafile, a.duration, connections, threads, outprefix),
                      connections or a.connections)
        t1 = cpu_ticks(a.server_pid)
        if cpu and t0 is not None and t1 is not None:
            r["cpu_s"] = round((t1 - t0) / CLK_TCK, 2)
            r["cpu_ticks"] = t1 - t0
            r["cpu_us_per_req"] = round((t1 - t0) * 1e6 / CLK_TCK / r["requests"], 1) if r["requests"] else None
        return r

    # the run ---------------------------------------------------------------------------------
    def write_tsv(self, name: str, rows) -> str:
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            for r in rows:
                f.write("\t".join(r) + "\n")
        return path

    def probe(self, scenario: str, user: dict, task_id: str) -> str | None:
        """None when the target supports the scenario, else the reason it is skipped."""
        c, uid, tok = self.client, user["user_id"], user["token"]
        try:
            if scenario == "health":
                s, _, _ = c.request("GET", "/health")
            elif scenario in ("list", "login_storm", "scale_list"):
                s, _, _ = c.request("GET", f"/api/{uid}/tasks?limit=20", tok)
            elif scenario in ("get", "scale_get"):
                s, _, _ = c.request("GET", f"/api/{uid}/tasks/{task_id}", tok)
            elif scenario == "update":
                s, _, _ = c.request("PATCH", f"/api/{uid}/tasks/{task_id}", tok, {"priority": "high"})
            elif scenario == "toggle":
                s, _, _ = c.request("PATCH", f"/api/{uid}/tasks/{task_id}/complete", tok)
                if 200 <= s < 300:
                    c.request("PATCH", f"/api/{uid}/tasks/{task_id}/complete", tok)
            elif scenario == "login":
                s, _, _ = c.request("POST", "/api/auth/login", body={"email": user["email"], "password": user["password"]})
            elif scenario in ("create", "delete"):
                s, _, b = c.request("POST", f"/api/{uid}/tasks", tok, {"title": "probe"})
                if scenario == "delete" and s == 201:
                    s, _, _ = c.request("DELETE", f"/api/{uid}/tasks/{b['id']}", tok)
            else:
                return "unknown scenario"
        except (OSError, http.client.HTTPException) as e:
            return f"probe failed: {e}"
        if 200 <= s < 300:
            return None
        return f"not supported by the target (probe answered HTTP {s})"

    def run(self) -> dict:
        a = self.args
        if not shutil.which("wrk"):
            raise SystemExit("wrk not found: apt-get install -y wrk")
        wait_ready(self.client, timeout=a.ready_timeout)
        self.loadavg_start = read_loadavg()
        if self.loadavg_start[0] > 0.5:
            log(f"note: load average {self.loadavg_start[0]:.2f} before the run (other work on the machine "
                f"skews the figures)")
        started = datetime.now(timezone.utc)
        run_id = started.strftime("%m%d%H%M%S") + f"{os.getpid() % 1000:03d}"
        self.rss.start()
        selected = [s for s in SCENARIOS if s in a.scenarios]

        prev = None
        seed_info = None
        if a.scale_only or a.heavy_only:
            prev_path = os.path.join(OUT_DIR, f"results-{a.name}.json")
            if os.path.exists(prev_path):
                with open(prev_path) as f:
                    prev = json.load(f)
                self.results = dict(prev.get("scenarios", {}))
            else:
                log(f"note: no {os.path.relpath(prev_path)} to add these figures to")
        else:
            t0 = time.monotonic()
            self.rss.phase = "seed"
            log(f"signing up {a.users} users at {self.base}")
            users = signup_users(self.client, run_id, a.users, a.seed_workers)
            t_signup = time.monotonic() - t0
            log(f"  {a.users} signups in {t_signup:.1f}s; seeding {a.tasks_per_user} tasks each")
            t1 = time.monotonic()
            tasks = seed_tasks(self.client, users, a.tasks_per_user, a.seed_workers)
            t_seed = time.monotonic() - t1
            log(f"  {len(tasks)} tasks in {t_seed:.1f}s ({len(tasks) / max(t_seed, 1e-9):.0f}/s)")

            users_tsv = self.write_tsv("users.tsv", [(u["user_id"], u["token"]) for u in users])
            tasks_tsv = self.write_tsv("tasks.tsv", tasks)
            logins_tsv = self.write_tsv("logins.tsv", [(u["email"], u["password"]) for u in users])

            datafiles = {"health": users_tsv, "list": users_tsv, "get": tasks_tsv, "update": tasks_tsv,
                         "toggle": tasks_tsv, "login": logins_tsv, "create": users_tsv}
            by_token = {u["user_id"]: u["token"] for u in users}

            for sc in selected:
                waited = settle(self.client)
                if waited > 2:
                    log(f"  waited {waited:.0f}s for the server to drain its queue before {sc}")
                reason = self.probe(sc, users[0], tasks[0][2])
                if reason:
                    log(f"{sc}: skipped, {reason}")
                    self.results[sc] = {"skipped": reason}
                    continue
                log(f"{sc}: " + ("" if sc == "delete" else f"{a.warmup:g}s warm-up + ") + f"{a.duration:g}s")
                if sc == "login_storm":
                    self.results.update(self.login_storm(users_tsv, logins_tsv))
                elif sc == "create":
                    prefix = os.path.join(self.work, "create")
                    self.results["create"] = self.measure("create", "create", users_tsv, outprefix=prefix)
                    if "delete" in selected:
                        # pre-phase for delete: one more (unmeasured) create run of the same length
                        log(f"delete pre-phase: creating tasks to delete for {a.duration:g}s")
                        self.rss.phase = "delete:pre-phase"
                        self.run_wrk("delete-prephase", "create", users_tsv, a.duration, outprefix=prefix + "p")
                elif sc == "delete":
                    pool = self.collect_created(by_token)
                    if not pool:
                        pool = self.create_pool(users, a.delete_pool)
                    delete_tsv = self.write_tsv("delete.tsv", pool)
                    r = self.measure("delete", "delete", delete_tsv, warmup=False)
                    r["pool"] = len(pool)
                    self.results["delete"] = r
                else:
                    self.results[sc] = self.measure(sc, sc, datafiles[sc])
                self.print_row(sc)
            seed_info = {"signup_s": round(t_signup, 2), "tasks": len(tasks), "tasks_s": round(t_seed, 2),
                         "tasks_per_s": round(len(tasks) / max(t_seed, 1e-9), 1)}

        # heavy before scale: its figures should not depend on whether --scale ran too
        if a.heavy or a.heavy_only:
            self.results.update(self.heavy_mode(run_id))
        if a.scale or a.scale_only:
            self.results.update(self.scale_mode(run_id))

        rss = self.rss.stop()
        doc = {
            "name": a.name,
            "backend": backend_of(a.database_url),
            "loadavg_at_start": self.loadavg_start,
            "loadavg_at_end": read_loadavg(),
            "base_url": self.base,
            "started_at": started.isoformat().replace("+00:00", "Z"),
            "settings": {"duration_s": a.duration, "warmup_s": a.warmup, "connections": a.connections,
                         "wrk_threads": a.threads, "users": a.users, "tasks_per_user": a.tasks_per_user,
                         "timeout_s": a.timeout},
            "seed": seed_info,
            "scenarios": self.results,
            "server_memory": rss,
        }
        if prev:
            # --scale-only / --heavy-only: keep the earlier run's figures, add the new ones
            for k in ("seed", "started_at", "settings", "loadavg_at_start", "backend"):
                doc[k] = prev.get(k) or doc.get(k)
            doc["extra"] = dict(prev.get("extra") or {})
            pm, m = prev.get("server_memory"), rss
            if pm and m and pm.get("pid") != m.get("pid"):
                doc["server_memory"] = pm
                doc["scale_server_memory"] = m
            elif pm and m:
                m["vmrss_peak_sampled_mb"] = max(m["vmrss_peak_sampled_mb"], pm["vmrss_peak_sampled_mb"])
                m["vmrss_peak_by_phase_mb"] = {**pm.get("vmrss_peak_by_phase_mb", {}), **m["vmrss_peak_by_phase_mb"]}
            elif pm:
                doc["server_memory"] = pm
        if a.extra:
            for kv in a.extra:
                k, _, v = kv.partition("=")
                doc.setdefault("extra", {})[k] = try_number(v)
        return doc

    def print_row(self, sc):
        r = self.results.get(sc)
        if r and "rps" in r:
            c = cells(r)
            log(f"  {sc}: {c[0]} req/s, p50 {c[1]} ms, p99 {c[2]} ms, non-2xx {c[3]}")

    def login_storm(self, users_tsv: str, logins_tsv: str) -> dict:
        a = self.args
        storm_secs = a.warmup + a.duration + 2
        self.rss.phase = "login_storm"
        proc, logpath = self.run_wrk("login_storm-logins", "login", logins_tsv, storm_secs, background=True)
        try:
            time.sleep(1.0)
            lst = self.measure("login_storm_list", "list", users_tsv, cpu=False)
        finally:
            try:
                proc.wait(timeout=storm_secs + a.timeout + 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with open(logpath) as f:
            logins = summarize(parse_wrk(f.read(), "", logpath), a.connections)
        base = self.results.get("list", {})
        if base.get("p99_ms") and lst.get("p99_ms"):
            lst["p99_vs_list"] = round(lst["p99_ms"] / max(base["p99_ms"], 1e-9), 2)
        return {"login_storm": lst, "login_storm_logins": logins}

    def collect_created(self, by_token: dict) -> list[tuple[str, str, str]]:
        pool = []
        for fn in sorted(os.listdir(self.work)):
            if fn.startswith("create") and ".created." in fn:
                with open(os.path.join(self.work, fn)) as f:
                    for line in f:
                        parts = line.rstrip("\n").split("\t")
                        if len(parts) == 2 and parts[1] in by_token:
                            pool.append((parts[1], by_token[parts[1]], parts[0]))
                os.remove(os.path.join(self.work, fn))
        # interleave users so consecutive deletes hit different users
        pool.sort(key=lambda r: (hash(r[2]) & 0xFFFF, r[2]))
        return pool

    def create_pool(self, users, n) -> list[tuple[str, str, str]]:
        log(f"delete pre-phase: creating {n} tasks through the API")
        per = max(1, n // len(users))
        return seed_tasks(self.client, users, per, self.args.seed_workers)

    # heavy user ------------------------------------------------------------------------------
    def heavy_mode(self, run_id: str) -> dict:
        a = self.args
        db = a.database_url
        if not db:
            raise SystemExit("--heavy needs the server's database: --database-url or DATABASE_URL")
        out = {}
        self.rss.phase = "heavy:load"
        user = signup_users(self.client, run_id, 1, 1, prefix="h")[0]
        uid = user["user_id"]
        plan = heavy_plan(a.heavy_tasks)
        log(f"heavy: inserting {plan['n']} tasks for one new user into the database")
        t0 = time.monotonic()
        if db.startswith("sqlite:"):
            heavy_sqlite_load(sqlite_path(db), uid, plan)
        else:
            sql = heavy_pg_sql(psql_url(db), uid, plan)
            with open(os.path.join(self.work, "heavy-load.sql"), "w") as f:
                f.write(sql)
            psql(psql_url(db), sql, timeout=1800)
        load_s = time.monotonic() - t0
        counts = heavy_counts(db, uid)
        log(f"  loaded in {load_s:.1f}s; {counts['heavy_default']} tasks, {counts['heavy_completed']} completed, "
            f"{counts['heavy_q']} matching q={HEAVY_WORD}")
        meta = {"load_s": round(load_s, 1), "tasks": counts["heavy_default"], "user_id": uid}
        for key, query, budget in HEAVY_QUERIES:
            path = f"/api/{uid}/tasks?limit=20" + (f"&{query}" if query else "")
            check = self.heavy_check(path, user["token"], counts[key], query)
            if check.get("error"):
                log(f"{key}: skipped, {check['error']}")
                out[key] = {"skipped": check["error"], "total_check": check}
                continue
            datafile = self.write_tsv(f"{key}.tsv", [(path, user["token"])])
            log(f"{key}: {a.warmup:g}s warm-up + {a.duration:g}s, one connection: GET {path.replace(uid, '{uid}')}")
            r = self.measure(key, "path", datafile, connections=1, threads=1)
            r.update({"query": query, "p50_budget_ms": budget, "total_check": check, "heavy": meta})
            out[key] = r
            self.results[key] = r
            self.print_row(key)
        bad = [k for k, r in out.items() if not r["total_check"].get("ok")]
        if bad:
            log(f"!!! heavy: X-Total-Count or page check FAILED for {', '.join(bad)} (see the JSON's total_check)")
        return out

    def heavy_check(self, path: str, token: str, expected: int, query: str) -> dict:
        """One request: status, X-Total-Count against the count made in SQL, and that the page holds
        20 tasks that satisfy the filter, in the requested order."""
        status, headers, body = self.client.request("GET", path, token)
        if status != 200 or not isinstance(body, list):
            return {"error": f"HTTP {status}", "ok": False}
        got = headers.get("x-total-count")
        problems = []
        if got is None or not got.isdigit() or int(got) != expected:
            problems.append(f"X-Total-Count {got}, SQL counted {expected}")
        if len(body) != min(20, expected):
            problems.append(f"page of {len(body)} tasks, expected {min(20, expected)}")
        if query == "completed=true" and not all(t.get("completed") for t in body):
            problems.append("a task on the page is not completed")
        if query == "completed=false" and any(t.get("completed") for t in body):
            problems.append("a task on the page is completed")
        if query.startswith("q=") and not all(HEAVY_WORD in (t.get("title") or "").lower() for t in body):
            problems.append(f"a task on the page has no {HEAVY_WORD!r} in its title")
        order = {"": ("created_at", True), "sort=due_date": ("due_date", False),
                 "sort=priority": ("priority", False), "sort=title": ("title", False)}.get(query)
        if order:
            field, desc = order
            rank = {"low": 0, "medium": 1, "high": 2}
            vals = [t.get(field) for t in body]
            vals = [rank.get(v, v) if field == "priority" else (v.lower() if field == "title" and v else v)
                    for v in vals]
            if None not in vals and vals != sorted(vals, reverse=desc):
                problems.append(f"page not sorted by {field}")
        for p in problems:
            log(f"!!! {path.split('?')[1]}: {p}")
        return {"x_total_count": int(got) if got and got.isdigit() else got, "sql_count": expected,
                "ok": not problems, **({"problems": problems} if problems else {})}

    # scale mode ------------------------------------------------------------------------------
    def scale_mode(self, run_id: str) -> dict:
        a = self.args
        if not a.database_url:
            raise SystemExit("--scale needs the server's database: --database-url or DATABASE_URL")
        if backend_of(a.database_url) == "sqlite":
            raise SystemExit("--scale loads with psql: PostgreSQL only (--heavy works on SQLite too)")
        out = {}
        dburl = psql_url(a.database_url)
        log(f"scale: signing up {a.users} users through the API")
        self.rss.phase = "scale:load"
        api_users = signup_users(self.client, run_id, a.users, a.seed_workers, prefix="s")
        t0 = time.monotonic()
        log(f"scale: inserting {a.scale_users - len(api_users)} users and {a.scale_tasks} tasks with psql")
        sql = scale_sql(dburl, run_id, [u["user_id"] for u in api_users], a.scale_users, a.scale_tasks)
        with open(os.path.join(self.work, "scale-load.sql"), "w") as f:
            f.write(sql)
        psql(dburl, sql, timeout=1800)
        load_s = time.monotonic() - t0
        log(f"  loaded in {load_s:.1f}s")
        ids = ",".join(f"'{u['user_id']}'" for u in api_users)
        rows = psql(dburl, f"SELECT user_id::text, id::text FROM tasks WHERE user_id::text IN ({ids})").split("\n")
        by_token = {u["user_id"]: u["token"] for u in api_users}
        targets = [(r.split("|")[0], by_token[r.split("|")[0]], r.split("|")[1]) for r in rows if "|" in r]
        counts = psql(dburl, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks)").strip()
        nu, nt = (int(x) for x in counts.split("|"))
        log(f"  table sizes now: {nu} users, {nt} tasks; {len(targets)} tasks owned by the {len(api_users)} API users")
        users_tsv = self.write_tsv("scale-users.tsv", [(u["user_id"], u["token"]) for u in api_users])
        tasks_tsv = self.write_tsv("scale-tasks.tsv", targets)
        meta = {"load_s": round(load_s, 1), "users_in_table": nu, "tasks_in_table": nt,
                "api_users": len(api_users), "tasks_of_api_users": len(targets)}
        for key, sc, df in (("scale_list", "list", users_tsv), ("scale_get", "get", tasks_tsv)):
            owner = next((u for u in api_users if targets and u["user_id"] == targets[0][0]), api_users[0])
            reason = self.probe(key, owner, targets[0][2]) if targets else "no tasks loaded"
            if reason:
                out[key] = {"skipped": reason}
                continue
            log(f"{key}: {a.warmup:g}s warm-up + {a.duration:g}s")
            r = self.measure(key, sc, df)
            r["scale"] = meta
            small = self.results.get(sc, {})
            if small.get("p99_ms") and r.get("p99_ms"):
                r["vs_small"] = {"p50_ratio": round(r["p50_ms"] / max(small["p50_ms"], 1e-9), 2),
                                 "p99_ratio": round(r["p99_ms"] / max(small["p99_ms"], 1e-9), 2),
                                 "rps_ratio": round(r["rps"] / max(small["rps"], 1e-9), 2)}
            out[key] = r
            self.results[key] = r
            self.print_row(key)
        return out


def parse_wrk(stdout: str, stderr: str, logpath: str) -> dict:
    m = re.search(r"^BENCHJSON (.*)$", stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk produced no result (see {logpath}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return json.loads(m.group(1))


def summarize(r: dict, connections: int) -> dict:
    secs = r["duration_us"] / 1e6
    lat = r["latency_us"]
    rps = r["requests"] / secs if secs > 0 else 0.0
    if r["requests"] == 0:
        # nothing came back before wrk stopped: every latency is longer than the run itself
        return {"rps": 0.0, "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None,
                "requests": 0, "sent": r.get("sent", 0), "non2xx": r["non2xx"], "status_codes": r["status_codes"],
                "socket_errors": {k: v for k, v in r["errors"].items() if k != "status" and v},
                "duration_s": round(secs, 2),
                "note": f"no response completed within {secs:.0f} s ({r.get('sent', 0)} requests sent): "
                        f"latency > {secs * 1000:.0f} ms"}
    out = {
        "rps": round(rps, 1),
        "p50_ms": round(lat["p50"] / 1000, 3),
        "p90_ms": round(lat["p90"] / 1000, 3),
        "p99_ms": round(lat["p99"] / 1000, 3),
        "max_ms": round(lat["max"] / 1000, 3),
        "mean_ms": round(lat["mean"] / 1000, 3),
        "requests": r["requests"],
        "non2xx": r["non2xx"],
        "socket_errors": {k: v for k, v in r["errors"].items() if k != "status" and v},
        "status_codes": r["status_codes"],
        "duration_s": round(secs, 2),
    }
    if r.get("exhausted"):
        # the pool ran out before the end: requests/duration undercounts; use Little's law
        # (closed loop: throughput = connections / mean latency) and say so
        out["exhausted"] = True
        if lat["mean"] > 0:
            out["rps"] = round(min(connections / (lat["mean"] / 1e6), rps * 1e6), 1)
        out["note"] = "task pool exhausted before the end; req/s estimated as connections / mean latency"
    return out


def backend_of(url: str | None) -> str | None:
    if not url:
        return None
    return "sqlite" if url.lower().startswith("sqlite") else "postgres"


def read_loadavg() -> list[float]:
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return []


def try_number(v: str):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


# --------------------------------------------------------------------------------------------
# psql helpers for --scale
# --------------------------------------------------------------------------------------------
def psql_url(url: str) -> str:
    """A DATABASE_URL as the servers accept it -> one libpq understands."""
    url = re.sub(r"^postgres(ql)?\+[a-z0-9_]+://", "postgresql://", url)
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    keep = []
    for k, v in q:
        if k == "ssl":
            keep.append(("sslmode", v))
        elif k in ("channel_binding",):
            continue
        else:
            keep.append((k, v))
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, urllib.parse.urlencode(keep), ""))


def psql(url: str, sql: str, timeout: float = 600) -> str:
    p = subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                       input=sql, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"psql failed: {p.stderr.strip()}")
    return p.stdout.strip()


Schema = dict[str, list[tuple[str, str, bool, bool]]]  # table -> [(column, type, nullable, has default)]


def pg_schema(url: str, tables: tuple[str, ...]) -> Schema:
    names = ",".join(f"'{t}'" for t in tables)
    cols = psql(url, f"""SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
                         FROM information_schema.columns
                         WHERE table_schema = current_schema() AND table_name IN ({names})
                         ORDER BY table_name, ordinal_position""")
    schema: Schema = {t: [] for t in tables}
    for line in cols.splitlines():
        t, c, dt, nullable, default = line.split("|", 4)
        schema[t].append((c, dt, nullable == "YES", bool(default)))
    if not all(schema.values()):
        raise SystemExit(f"tables {', '.join(tables)} not found in the database (migrations not applied?)")
    return schema


def pick_columns(schema: Schema, table: str, fn, mode: str) -> tuple[list[str], list]:
    """The columns `fn(column, type)` can fill and their values; a column it cannot fill is left to
    its default or NULL, and a NOT NULL one without a default stops the run: the schema has grown."""
    names, values = [], []
    for c, dt, nullable, has_default in schema[table]:
        v = fn(c, dt)
        if v is None:
            if nullable or has_default:
                continue
            raise SystemExit(f"{mode} mode does not know how to fill NOT NULL column {table}.{c}")
        names.append(c)
        values.append(v)
    return names, values


def scale_sql(url: str, run_id: str, api_user_ids: list[str], n_users: int, n_tasks: int) -> str:
    """INSERT … SELECT generate_series for users and tasks, built from the live schema's columns so it
    fits both taskapi (text user ids, smallint priority) and the FastAPI reference (uuid, varchar)."""
    schema = pg_schema(url, ("users", "tasks"))

    def uuid_expr(dt):
        return "gen_random_uuid()" if dt == "uuid" else "gen_random_uuid()::text"

    def user_expr(c, dt):
        return {
            "id": uuid_expr(dt),
            "email": f"'bench-{run_id}-bulk' || n || '@example.com'",
            "hashed_password": "'$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hidWxr$bm90LWEtcmVhbC1oYXNoLWZvci1iZW5jaA'",
            "name": "'Bulk user ' || n",
            "is_active": "true",
            "token_version": "0",
            "external": "false",
            "created_at": "now()",
            "updated_at": "now()",
        }.get(c)

    def task_expr(c, dt):
        if c == "priority":
            return "(g % 3)" if dt in ("smallint", "integer", "bigint") else "(ARRAY['low','medium','high'])[g % 3 + 1]"
        return {
            "id": uuid_expr(dt),
            "user_id": "m.id",
            "title": "'Bulk task ' || g",
            "description": "CASE WHEN g % 2 = 0 THEN 'Bulk-loaded task number ' || g END",
            "completed": "(g % 3 = 0)",
            "due_date": "CASE WHEN g % 4 = 0 THEN now() + (g % 90) * interval '1 day' END",
            "category_id": "NULL",
            "completed_at": "CASE WHEN g % 3 = 0 THEN now() - interval '1 hour' END",
            "created_at": "now() - g * interval '1 second'",
            "updated_at": "now() - g * interval '1 second'",
        }.get(c)

    ucols, uexprs = (", ".join(x) for x in pick_columns(schema, "users", user_expr, "scale"))
    tcols, texprs = (", ".join(x) for x in pick_columns(schema, "tasks", task_expr, "scale"))
    ids = ",".join(f"'{i}'" for i in api_user_ids)
    bulk = n_users - len(api_user_ids)
    return f"""
\\timing off
BEGIN;
INSERT INTO users ({ucols})
  SELECT {uexprs} FROM generate_series(1, {bulk}) AS n;
CREATE TEMP TABLE bench_scale_map ON COMMIT DROP AS
  SELECT (row_number() OVER (ORDER BY id) - 1) AS n, id FROM users
  WHERE id::text IN ({ids}) OR email LIKE 'bench-{run_id}-bulk%';
CREATE INDEX ON bench_scale_map (n);
INSERT INTO tasks ({tcols})
  SELECT {texprs}
  FROM generate_series(0, {n_tasks - 1}) AS g
  JOIN bench_scale_map m ON m.n = g % {n_users};
COMMIT;
ANALYZE users;
ANALYZE tasks;
"""


# --------------------------------------------------------------------------------------------
# Heavy user: 10^5 tasks of one account, written straight into the server's database
# --------------------------------------------------------------------------------------------
# Task g (1..N) of the heavy user, the same on both backends (PostgreSQL computes it in SQL,
# SQLite in heavy_sqlite_rows): created_at spread evenly over the year before the load,
# updated_at up to a day later, 70 % completed (completed_at = updated_at), priority 0-2, due date
# NULL for 30 % and otherwise 20 days before to 100 days after creation, a title of two words
# from the lists below and the number (so sort=title is a real sort), HEAVY_WORD in exactly 1 %
# of the titles (and in no description), a description on 40 %, change_seq = g.
HEAVY_FIRST = ["Archive", "Book", "Call", "Draft", "Email", "Fix", "Gather", "Hire", "Inspect", "Join",
               "Keep", "Label", "Move", "Note", "Order", "Plan", "Review", "Sort", "Test", "Update",
               "Visit", "Write", "backup", "clean", "pay", "read"]
HEAVY_SECOND = ["budget", "invoice", "garden", "kitchen", "slides", "report", "tickets", "laptop",
                "meeting", "contract", "dentist", "groceries", "roadmap", "letters", "garage", "photos",
                "taxes", "website", "insurance", "bicycle"]
HEAVY_WORD = "quokka"
YEAR_US = 365 * 86_400_000_000

# (key, query string, p50 budget in ms); the list request is GET /api/{uid}/tasks?limit=20&QUERY
HEAVY_QUERIES = [
    ("heavy_default", "", 5.0),
    ("heavy_completed", "completed=true", 5.0),
    ("heavy_open", "completed=false", 5.0),
    ("heavy_due", "sort=due_date", 5.0),
    ("heavy_priority", "sort=priority", 5.0),
    ("heavy_title", "sort=title", 5.0),
    ("heavy_q", f"q={HEAVY_WORD}", 20.0),
]


def heavy_plan(n: int) -> dict:
    now_us = int(time.time() * 1e6)
    return {"n": n, "now_us": now_us, "start_us": now_us - YEAR_US, "step_us": YEAR_US // (n + 1)}


def heavy_pg_sql(url: str, user_id: str, plan: dict) -> str:
    schema = pg_schema(url, ("tasks",))

    def ts(us: str) -> str:
        return f"(timestamptz 'epoch' + ({us}) * interval '1 microsecond')"

    def words(ws: list[str], k: int) -> str:
        return "(ARRAY[" + ",".join(f"'{w}'" for w in ws) + f"])[(g * {k}) % {len(ws)} + 1]"

    updated = f"LEAST({plan['now_us']}, c_us + ((g * 13) % 1440)::bigint * 60000000)"

    def task_expr(c, dt):
        return {
            "id": "gen_random_uuid()" if dt == "uuid" else "gen_random_uuid()::text",
            "user_id": f"'{user_id}'",
            "title": f"{words(HEAVY_FIRST, 7)} || ' ' || {words(HEAVY_SECOND, 11)}"
                     f" || CASE WHEN g % 100 = 42 THEN ' {HEAVY_WORD}' ELSE '' END || ' ' || g",
            "description": f"CASE WHEN g % 5 IN (0, 2) THEN {words(HEAVY_SECOND, 3)} || ' notes: step ' || (g % 17)"
                           f" || ' of the ' || {words(HEAVY_FIRST, 5)} || ' plan' END",
            "completed": "(g % 10 < 7)",
            "priority": "(g / 3) % 3",
            "due_date": f"CASE WHEN g % 10 IN (1, 4, 8) THEN NULL"
                        f" ELSE {ts('c_us + ((g * 37) % 120 - 20)::bigint * 86400000000')} END",
            "completed_at": f"CASE WHEN g % 10 < 7 THEN {ts(updated)} END",
            "created_at": ts("c_us"),
            "updated_at": ts(updated),
            "change_seq": "g",
        }.get(c)

    cols, exprs = pick_columns(schema, "tasks", task_expr, "heavy")
    return f"""
\\timing off
BEGIN;
INSERT INTO tasks ({", ".join(cols)})
  SELECT {", ".join(exprs)}
  FROM (SELECT g, {plan['start_us']} + g::bigint * {plan['step_us']} AS c_us
        FROM generate_series(1, {plan['n']}) AS g) AS s;
UPDATE users SET change_seq = GREATEST(change_seq, {plan['n']}) WHERE id = '{user_id}';
COMMIT;
ANALYZE tasks;
"""


def heavy_sqlite_load(path: str, user_id: str, plan: dict) -> None:
    """The same rows as heavy_pg_sql, with sqlite3 on the server's database file (WAL mode: the
    server may keep running). UUIDs as hyphenated lowercase text, timestamps as INTEGER µs."""
    import sqlite3
    import uuid

    con = sqlite3.connect(path, timeout=60)
    try:
        schema: Schema = {"tasks": [(r[1], (r[2] or "").lower(), not r[3], r[4] is not None)
                                    for r in con.execute("PRAGMA table_info(tasks)")]}
        if not schema["tasks"]:
            raise SystemExit(f"no table tasks in {path} (migrations not applied?)")
        known = {"id", "user_id", "title", "description", "completed", "priority", "due_date", "completed_at",
                 "created_at", "updated_at", "change_seq"}
        cols, _ = pick_columns(schema, "tasks", lambda c, dt: c if c in known else None, "heavy")
        n, f1, f2 = plan["n"], HEAVY_FIRST, HEAVY_SECOND

        def row(g: int) -> tuple:
            c_us = plan["start_us"] + g * plan["step_us"]
            updated = min(plan["now_us"], c_us + ((g * 13) % 1440) * 60_000_000)
            done = g % 10 < 7
            v = {
                "id": str(uuid.uuid4()),
                "user_id": user_id,
                "title": f"{f1[(g * 7) % len(f1)]} {f2[(g * 11) % len(f2)]}"
                         + (f" {HEAVY_WORD}" if g % 100 == 42 else "") + f" {g}",
                "description": f"{f2[(g * 3) % len(f2)]} notes: step {g % 17} of the {f1[(g * 5) % len(f1)]} plan"
                               if g % 5 in (0, 2) else None,
                "completed": int(done),
                "priority": (g // 3) % 3,
                "due_date": None if g % 10 in (1, 4, 8) else c_us + ((g * 37) % 120 - 20) * 86_400_000_000,
                "completed_at": updated if done else None,
                "created_at": c_us,
                "updated_at": updated,
                "change_seq": g,
            }
            return tuple(v[c] for c in cols)

        with con:
            con.executemany(f"INSERT INTO tasks ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                            (row(g) for g in range(1, n + 1)))
            con.execute("UPDATE users SET change_seq = max(change_seq, ?) WHERE id = ?", (n, user_id))
        con.execute("ANALYZE")
    finally:
        con.close()


def heavy_counts(db: str, user_id: str) -> dict[str, int]:
    """The number of the heavy user's tasks each HEAVY_QUERIES list should report, counted in SQL."""
    word = HEAVY_WORD
    if db.startswith("sqlite:"):
        import sqlite3

        con = sqlite3.connect(sqlite_path(db), timeout=60)
        try:
            total, done, hits = con.execute(
                "SELECT count(*), coalesce(sum(completed = 1), 0), coalesce(sum(instr(lower(title), ?1) > 0"
                " OR instr(lower(coalesce(description, '')), ?1) > 0), 0) FROM tasks WHERE user_id = ?2",
                (word, user_id)).fetchone()
        finally:
            con.close()
    else:
        total, done, hits = (int(x) for x in psql(psql_url(db), f"""
            SELECT count(*), count(*) FILTER (WHERE completed),
                   count(*) FILTER (WHERE strpos(lower(title), '{word}') > 0
                                       OR strpos(lower(coalesce(description, '')), '{word}') > 0)
            FROM tasks WHERE user_id = '{user_id}'""").split("|"))
    return {"heavy_default": total, "heavy_completed": done, "heavy_open": total - done, "heavy_due": total,
            "heavy_priority": total, "heavy_title": total, "heavy_q": hits}


def sqlite_path(url: str) -> str:
    """sqlite://PATH (or sqlite:PATH) as taskapi reads it -> PATH."""
    rest = url.split("://", 1)[1] if "://" in url else url.split(":", 1)[1]
    return rest.split("?", 1)[0]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------
ROWS = ["health", "list", "get", "update", "toggle", "create", "delete", "login", "login_storm",
        "login_storm_logins", *(k for k, _, _ in HEAVY_QUERIES), "scale_list", "scale_get"]
LABELS = {"login_storm": "storm: list", "login_storm_logins": "storm: logins", "scale_list": "scale: list",
          "scale_get": "scale: get", "heavy_default": "heavy: default", "heavy_completed": "heavy: done",
          "heavy_open": "heavy: open", "heavy_due": "heavy: due", "heavy_priority": "heavy: priority",
          "heavy_title": "heavy: title", "heavy_q": "heavy: q"}
HEAD = ["req/s", "p50 ms", "p99 ms", "non-2xx", "cpu µs/req"]
WIDTH = [9, 8, 8, 7, 10]
RATIO_WIDTH = 8
# The performance budgets the footer checks.
RATIO_BUDGET, RATIO_SCENARIOS = 20.0, ("list", "get", "create", "toggle")
SQLITE_WRITE_BUDGET, SQLITE_WRITE_SCENARIOS = 8000.0, ("create", "toggle")
RSS_BUDGET_MB = 50.0


def cells(r: dict | None) -> list[str]:
    if not r:
        return [""] * len(HEAD)
    if "skipped" in r:
        return ["skipped"] + [""] * (len(HEAD) - 1)
    cpu, ticks = r.get("cpu_us_per_req"), r.get("cpu_ticks")
    if cpu is None:
        cpu = "—"
    elif ticks == 0:
        # not one clock tick: all that is known is an upper bound
        cpu = f"<{1e6 / CLK_TCK / r['requests']:.0f}"
    else:
        cpu = ("~" if ticks is not None and ticks < 10 else "") + f"{cpu:.0f}"
    if r["requests"] == 0:
        over = f">{r['duration_s'] * 1000:.0f}"
        return ["0", over, over, str(r["non2xx"]), cpu]
    return [f"{r['rps']:.0f}" + ("*" if r.get("exhausted") else ""), f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
            str(r["non2xx"]), cpu]


def ratio(d: dict, ref: dict | None, key: str) -> float | None:
    a, b = d["scenarios"].get(key) or {}, (ref or {}).get("scenarios", {}).get(key) or {}
    if "rps" not in a or not b.get("rps"):
        return None
    return a["rps"] / b["rps"]


def fmt_ratio(x: float | None) -> str:
    return "" if x is None else (f"{x:.1f}×" if x < 100 else f"{x:.0f}×")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def budget_lines(docs: list[dict], ref: dict | None) -> list[str]:
    out = []
    for d in docs:
        if d is ref:
            continue
        n, sc = d["name"], d["scenarios"]
        if ref and d.get("backend") != "sqlite":
            parts = []
            for k in RATIO_SCENARIOS:
                x = ratio(d, ref, k)
                parts.append(f"{k} " + ("n/a" if x is None else f"{fmt_ratio(x)} {verdict(x >= RATIO_BUDGET)}"))
            out.append(f"{n} req/s ≥ {RATIO_BUDGET:.0f}× {ref['name']} on {', '.join(RATIO_SCENARIOS)}: "
                       + ", ".join(parts))
        if d.get("backend") == "sqlite":
            parts = []
            for k in SQLITE_WRITE_SCENARIOS:
                r = sc.get(k) or {}
                if "rps" not in r:
                    parts.append(f"{k} n/a")
                    continue
                ok = r["rps"] >= SQLITE_WRITE_BUDGET and r["non2xx"] == 0 and not r.get("socket_errors")
                parts.append(f"{k} {r['rps']:.0f} req/s, {r['non2xx']} non-2xx {verdict(ok)}")
            out.append(f"{n} {'/'.join(SQLITE_WRITE_SCENARIOS)} ≥ {SQLITE_WRITE_BUDGET:.0f} req/s with 0 non-2xx: "
                       + ", ".join(parts))
        m = d.get("server_memory")
        if m:
            peak = max(m["vmrss_peak_sampled_mb"], m["vmhwm_mb"])
            phases = m.get("vmrss_peak_by_phase_mb") or {}
            when = f" (sampled peak during {max(phases, key=phases.get)})" if phases else ""
            out.append(f"{n} peak RSS < {RSS_BUDGET_MB:.0f} MB: {peak} MB {verdict(peak < RSS_BUDGET_MB)}{when}")
        heavy = [(k, sc[k]) for k, _, _ in HEAVY_QUERIES if k in sc]
        if heavy:
            parts, wrong = [], []
            for k, r in heavy:
                label = LABELS[k].split(": ")[1]
                if r.get("p50_ms") is None:
                    parts.append(f"{label} n/a")
                else:
                    parts.append(f"{label} {r['p50_ms']:.2f} {verdict(r['p50_ms'] <= r['p50_budget_ms'])}")
                c = r.get("total_check") or {}
                if not c.get("ok"):
                    wrong.append(f"{label}: " + "; ".join(c.get("problems") or [c.get("error", "not checked")]))
            out.append(f"{n} heavy user list p50 ms ≤ 5 (q ≤ 20): " + ", ".join(parts))
            out.append(f"{n} heavy user X-Total-Count exact and pages right: "
                       + ("all ok" if not wrong else "!!! MISMATCH: " + " | ".join(wrong)))
    return out


def render_tables(docs: list[dict], reference: str | None = None) -> str:
    """The docs side by side; with a reference (default: a doc named fastapi, when there are others),
    every other doc gets a column of its req/s ÷ the reference's, and the footer checks the budgets."""
    names = [d["name"] for d in docs]
    if reference is None and "fastapi" in names and len(docs) > 1:
        reference = "fastapi"
    if reference is not None and reference not in names:
        raise SystemExit(f"--reference {reference}: no such result among {', '.join(names)}")
    ref = next((d for d in docs if d["name"] == reference), None)
    with_ratio = [ref is not None and d is not ref for d in docs]
    rows = [k for k in ROWS if any(k in d["scenarios"] for d in docs)]
    block = [sum(WIDTH) + len(WIDTH) - 1 + ((RATIO_WIDTH + 1) if r else 0) for r in with_ratio]
    lines = [f"{'':15}" + "".join(f" | {d['name']:<{w}}" for d, w in zip(docs, block))]
    hdr = f"{'scenario':<15}"
    for d, r in zip(docs, with_ratio):
        hdr += " | " + " ".join(f"{h:>{w}}" for h, w in zip(HEAD, WIDTH))
        if r:
            hdr += " " + f"{'÷' + ref['name'][:RATIO_WIDTH - 1]:>{RATIO_WIDTH}}"
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for k in rows:
        line = f"{LABELS.get(k, k):<15}"
        for d, r in zip(docs, with_ratio):
            line += " | " + " ".join(f"{v:>{w}}" for v, w in zip(cells(d["scenarios"].get(k)), WIDTH))
            if r:
                line += " " + f"{fmt_ratio(ratio(d, ref, k)):>{RATIO_WIDTH}}"
        lines.append(line)
    notes = []
    for d in docs:
        m = d.get("server_memory")
        if m:
            notes.append(f"{d['name']}: peak RSS {m['vmrss_peak_sampled_mb']} MB sampled (VmHWM {m['vmhwm_mb']} MB, "
                         f"{m['processes']} process(es))")
        la, lb = d.get("loadavg_at_start"), d.get("loadavg_at_end")
        if la and lb:
            notes.append(f"{d['name']}: load average {la[0]:.2f} at start, {lb[0]:.2f} at end")
        s = d.get("seed")
        if s:
            notes.append(f"{d['name']}: seeding {s['tasks']} tasks took {s['tasks_s']} s ({s['tasks_per_s']:.0f}/s), "
                         f"signups {s['signup_s']} s")
        for k in ("scale_list", "scale_get"):
            r = d["scenarios"].get(k)
            if r and "scale" in r:
                sc = r["scale"]
                notes.append(f"{d['name']}: scale data: {sc['users_in_table']} users / {sc['tasks_in_table']} tasks "
                             f"(loaded in {sc['load_s']} s)")
                break
        hv = next((r["heavy"] for k, _, _ in HEAVY_QUERIES if "heavy" in (r := d["scenarios"].get(k) or {})), None)
        if hv:
            notes.append(f"{d['name']}: heavy user: {hv['tasks']} tasks (inserted in {hv['load_s']} s), one connection, "
                         f"GET /api/{{uid}}/tasks?limit=20 with: default sort, completed=true, completed=false, "
                         f"sort=due_date, sort=priority, sort=title, q={HEAVY_WORD} (1 % of titles)")
        for k, v in sorted((d.get("extra") or {}).items()):
            notes.append(f"{d['name']}: {k} = {v}")
        for k, r in d["scenarios"].items():
            if isinstance(r, dict) and r.get("skipped"):
                notes.append(f"{d['name']}: {k} skipped: {r['skipped']}")
            elif isinstance(r, dict) and r.get("note"):
                notes.append(f"{d['name']}: {k}: " + ("* " if r.get("exhausted") else "") + r["note"])
    if notes:
        lines.append("")
        lines.extend(notes)
    budgets = budget_lines(docs, ref)
    if budgets:
        lines.append("")
        lines.append("Budgets:")
        lines.extend("  " + b for b in budgets)
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base_url", nargs="?", default=os.environ.get("BASE_URL", "http://127.0.0.1:8000"))
    ap.add_argument("--name", default=os.environ.get("BENCH_NAME", "run"),
                    help="label; results go to bench/out/results-NAME.json (default: run)")
    ap.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 10)),
                    help="seconds measured per scenario (default 10, $BENCH_DURATION)")
    ap.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", 2)),
                    help="warm-up seconds before each scenario (default 2)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--timeout", type=float, default=30, help="wrk per-request timeout, s (default 30)")
    ap.add_argument("--users", type=int, default=64)
    ap.add_argument("--tasks-per-user", type=int, default=200)
    ap.add_argument("--seed-workers", type=int, default=32, help="concurrent requests while seeding")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS),
                    help="comma-separated subset of: " + ",".join(SCENARIOS))
    ap.add_argument("--server-pid", type=int, default=int(os.environ["SERVER_PID"]) if os.environ.get("SERVER_PID") else None,
                    help="PID of the server ($SERVER_PID): report its peak RSS")
    ap.add_argument("--scale", action="store_true", help="also run the 10^6-task scale mode (needs psql)")
    ap.add_argument("--scale-only", action="store_true",
                    help="run only the scale mode and add its figures to bench/out/results-NAME.json")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                    help="the server's database, for --scale and --heavy ($DATABASE_URL)")
    ap.add_argument("--heavy", action="store_true",
                    help="also run the heavy-user mode: one user with 10^5 tasks, list latency by sort and filter "
                         "(needs --database-url: PostgreSQL, with psql, or sqlite://PATH)")
    ap.add_argument("--heavy-only", action="store_true",
                    help="run only the heavy-user mode and add its figures to bench/out/results-NAME.json")
    ap.add_argument("--heavy-tasks", type=int, default=100_000)
    ap.add_argument("--scale-users", type=int, default=10_000)
    ap.add_argument("--scale-tasks", type=int, default=1_000_000)
    ap.add_argument("--delete-pool", type=int, default=20_000,
                    help="tasks to create for delete when the create scenario did not run")
    ap.add_argument("--ready-timeout", type=float, default=30)
    ap.add_argument("--extra", action="append", help="KEY=VALUE recorded in the JSON (e.g. startup time)")
    ap.add_argument("--table", nargs="+", metavar="RESULTS_JSON",
                    help="only print the tables of these result files side by side")
    ap.add_argument("--reference", help="with --table: the run the others' req/s are divided by "
                                        "(default: the one named fastapi, if any)")
    a = ap.parse_args(argv)

    if a.table:
        docs = [json.load(open(p)) for p in a.table]
        print(render_tables(docs, a.reference))
        return 0
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    unknown = set(a.scenarios) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", a.name):
        ap.error("--name: letters, digits, '-', '_', '.' only")
    if a.duration <= 0 or a.duration > 3600:
        ap.error("--duration must be in (0, 3600]")

    doc = Bench(a).run()
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, f"results-{a.name}.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    print(render_tables([doc]))
    print(f"\nwritten {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
