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

    def measure(self, key: str, scenario: str, datafile: str, warmup: bool = True, outprefix: str = "-") -> dict:
        a = self.args
        if warmup and a.warmup > 0:
            self.rss.phase = f"{key}:warmup"
            self.run_wrk(f"{key}-warmup", scenario, datafile, a.warmup, outprefix=outprefix + "w" if outprefix != "-" else "-")
        self.rss.phase = key
        r = self.run_wrk(key, scenario, datafile, a.duration, outprefix=outprefix)
        return summarize(r, a.connections)

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
        if a.scale_only:
            prev_path = os.path.join(OUT_DIR, f"results-{a.name}.json")
            if os.path.exists(prev_path):
                with open(prev_path) as f:
                    prev = json.load(f)
                self.results = dict(prev.get("scenarios", {}))
            else:
                log(f"note: no {os.path.relpath(prev_path)} to compare the scale figures with")
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

        if a.scale or a.scale_only:
            self.results.update(self.scale_mode(run_id))

        rss = self.rss.stop()
        doc = {
            "name": a.name,
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
            # --scale-only: keep the earlier run's figures, add the scale ones
            for k in ("seed", "started_at", "settings", "loadavg_at_start"):
                doc[k] = prev.get(k, doc[k])
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
            lst = self.measure("login_storm_list", "list", users_tsv)
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

    # scale mode ------------------------------------------------------------------------------
    def scale_mode(self, run_id: str) -> dict:
        a = self.args
        if not a.database_url:
            raise SystemExit("--scale needs the server's database: --database-url or DATABASE_URL")
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


def scale_sql(url: str, run_id: str, api_user_ids: list[str], n_users: int, n_tasks: int) -> str:
    """INSERT … SELECT generate_series for users and tasks, built from the live schema's columns so it
    fits both taskapi (text user ids, smallint priority) and the FastAPI reference (uuid, varchar)."""
    cols = psql(url, """SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
                        FROM information_schema.columns
                        WHERE table_schema = current_schema() AND table_name IN ('users', 'tasks')
                        ORDER BY table_name, ordinal_position""")
    schema: dict[str, list[tuple[str, str, bool, bool]]] = {"users": [], "tasks": []}
    for line in cols.splitlines():
        t, c, dt, nullable, default = line.split("|", 4)
        schema[t].append((c, dt, nullable == "YES", bool(default)))
    if not schema["users"] or not schema["tasks"]:
        raise SystemExit("tables users/tasks not found in the database (migrations not applied?)")

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

    def columns(table, fn):
        names, exprs = [], []
        for c, dt, nullable, has_default in schema[table]:
            e = fn(c, dt)
            if e is None:
                if nullable or has_default:
                    continue
                raise SystemExit(f"scale mode does not know how to fill NOT NULL column {table}.{c}")
            names.append(c)
            exprs.append(e)
        return ", ".join(names), ", ".join(exprs)

    ucols, uexprs = columns("users", user_expr)
    tcols, texprs = columns("tasks", task_expr)
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
# Output
# --------------------------------------------------------------------------------------------
ROWS = ["health", "list", "get", "update", "toggle", "create", "delete", "login", "login_storm",
        "login_storm_logins", "scale_list", "scale_get"]
LABELS = {"login_storm": "storm: list", "login_storm_logins": "storm: logins", "scale_list": "scale: list",
          "scale_get": "scale: get"}


def cells(r: dict | None) -> list[str]:
    if not r:
        return ["", "", "", ""]
    if "skipped" in r:
        return ["skipped", "", "", ""]
    if r["requests"] == 0:
        over = f">{r['duration_s'] * 1000:.0f}"
        return ["0", over, over, str(r["non2xx"])]
    return [f"{r['rps']:.0f}" + ("*" if r.get("exhausted") else ""), f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
            str(r["non2xx"])]


def render_tables(docs: list[dict]) -> str:
    head = ["req/s", "p50 ms", "p99 ms", "non-2xx"]
    rows = [k for k in ROWS if any(k in d["scenarios"] for d in docs)]
    width = [14] + [9, 8, 8, 7] * len(docs)
    lines = []
    title = f"{'':14}" + "".join(f" | {d['name'][:36]:<35}" for d in docs)
    lines.append(title)
    hdr = f"{'scenario':<14}" + "".join(" | " + " ".join(f"{h:>{w}}" for h, w in zip(head, width[1:5])) for _ in docs)
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for k in rows:
        line = f"{LABELS.get(k, k):<14}"
        for d in docs:
            c = cells(d["scenarios"].get(k))
            line += " | " + " ".join(f"{v:>{w}}" for v, w in zip(c, width[1:5]))
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
                    help="the server's database, for --scale ($DATABASE_URL)")
    ap.add_argument("--scale-users", type=int, default=10_000)
    ap.add_argument("--scale-tasks", type=int, default=1_000_000)
    ap.add_argument("--delete-pool", type=int, default=20_000,
                    help="tasks to create for delete when the create scenario did not run")
    ap.add_argument("--ready-timeout", type=float, default=30)
    ap.add_argument("--extra", action="append", help="KEY=VALUE recorded in the JSON (e.g. startup time)")
    ap.add_argument("--table", nargs="+", metavar="RESULTS_JSON",
                    help="only print the tables of these result files side by side")
    a = ap.parse_args(argv)

    if a.table:
        docs = [json.load(open(p)) for p in a.table]
        print(render_tables(docs))
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
