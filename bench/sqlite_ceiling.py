#!/usr/bin/env python3
"""SQLite's own ceiling for taskapi's create and toggle, with no server in the way.

The SQLite counterpart of pgbench's ceiling: a fresh database file with the server's schema
(migrations/sqlite/*.up.sql, optionally only up to a given migration) and its writer's pragmas,
64 owners, then the statements the server sends for a plain create and for a toggle, one
transaction each (BEGIN IMMEDIATE … COMMIT, as the server's single writer does), from one
connection. It measures what the schema and the commits cost, which bounds the server's write
rate on SQLite whatever the HTTP side does.

    python3 bench/sqlite_ceiling.py                 # every migration
    python3 bench/sqlite_ceiling.py --upto 0004     # the schema before the heavy-user indexes
    python3 bench/sqlite_ceiling.py --batch 16      # 16 writes per transaction (grouped commits)
    python3 bench/sqlite_ceiling.py --without tasks_count_insert,tasks_user_title_idx   # what each costs

Python's sqlite3 links the system's SQLite, not the one built into taskapi; the same schema and
statements, so the figure is the database's work give or take the library's version.
"""

import argparse
import glob
import os
import random
import sqlite3
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COLUMNS = (
    "id, user_id, title, description, completed, priority, due_date, category_id, completed_at, "
    "created_at, updated_at, change_seq, parent_id, recurrence_rule, recurrence_basis, recurrence_tz"
)
SELECT = COLUMNS + (
    ", (SELECT json_group_array(name) FROM task_tags WHERE task_tags.task_id = tasks.id) AS tags"
)
CREATE = (
    f"INSERT INTO tasks ({COLUMNS}) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?5 THEN ?9 END, ?9, ?9, "
    "(SELECT change_seq + 1 FROM users WHERE id = ?2), NULL, NULL, NULL, NULL "
    "WHERE ?8 IS NULL OR EXISTS (SELECT 1 FROM categories WHERE id = ?8 AND user_id = ?2) "
    f"RETURNING {SELECT}"
)
TOGGLE = (
    "UPDATE tasks SET completed = NOT completed, completed_at = CASE WHEN completed THEN NULL ELSE ?1 END, "
    "updated_at = ?1, change_seq = (SELECT change_seq + 1 FROM users WHERE id = ?2) "
    "WHERE id = ?3 AND user_id = ?2 AND (?4 IS NULL OR change_seq IN (SELECT value FROM json_each(?4))) "
    f"AND recurrence_rule IS NULL RETURNING {SELECT}"
)
TAKE_CHANGE = "UPDATE users SET change_seq = change_seq + 1 WHERE id = ? AND changes() > 0"


def time_ordered_id(now_us):
    """A UUIDv7-like id: time first, so new rows land at the end of the primary key, as the server's."""
    ms = now_us // 1000
    rand = uuid.uuid4().int & ((1 << 80) - 1)
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | rand))


def open_database(path, upto, without, cache_kib):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA cache_size = -{cache_kib}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA wal_autocheckpoint = 10000")
    db.execute("PRAGMA journal_size_limit = 67108864")
    for migration in sorted(glob.glob(os.path.join(ROOT, "migrations", "sqlite", "*.up.sql"))):
        if upto and os.path.basename(migration)[:4] > upto:
            break
        with open(migration) as f:
            db.executescript(f.read())
    for name in without:
        kind = db.execute("SELECT type FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        if kind is None:
            raise SystemExit(f"no index or trigger named {name}")
        db.execute(f'DROP {kind[0].upper()} "{name}"')
    return db


def run(db, statements, batch):
    """Runs (sql, params, take_change_for) items in transactions of `batch` writes; returns writes/s."""
    started = time.perf_counter()
    for start in range(0, len(statements), batch):
        db.execute("BEGIN IMMEDIATE")
        for sql, params, owner in statements[start : start + batch]:
            db.execute(sql, params).fetchall()
            db.execute(TAKE_CHANGE, (owner,))
        db.execute("COMMIT")
    return len(statements) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upto", help="apply migrations up to this number only (e.g. 0004)")
    parser.add_argument("--owners", type=int, default=64)
    parser.add_argument("--seed", type=int, default=200, help="tasks per owner before measuring")
    parser.add_argument("--writes", type=int, default=6000, help="writes measured per kind")
    parser.add_argument("--batch", type=int, default=1, help="writes per transaction")
    parser.add_argument("--cache-kib", type=int, default=2000, help="the writer's page cache (SQLite's default: 2000)")
    parser.add_argument("--without", default="", help="comma-separated indexes or triggers to drop after migrating")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        without = [name for name in args.without.split(",") if name]
        db = open_database(os.path.join(tmp, "ceiling.db"), args.upto, without, args.cache_kib)
        now = int(time.time() * 1_000_000)
        owners = [str(uuid.uuid4()) for _ in range(args.owners)]
        db.executemany(
            "INSERT INTO users (id, email, hashed_password, created_at) VALUES (?, ?, 'x', ?)",
            [(o, f"{o}@example.com", now) for o in owners],
        )

        def creates(n):
            items = []
            for i in range(n):
                owner = random.choice(owners)
                now_us = now + i
                params = (time_ordered_id(now_us), owner, f"Task {i} for the ceiling", "A short description",
                          False, 1, None, None, now_us)
                items.append((CREATE, params, owner))
            return items

        run(db, creates(args.owners * args.seed), 500)
        create_rate = run(db, creates(args.writes), args.batch)
        tasks = db.execute("SELECT id, user_id FROM tasks").fetchall()
        toggles = [
            (TOGGLE, (now + i, owner, task_id, None), owner)
            for i, (task_id, owner) in enumerate(random.choice(tasks) for _ in range(args.writes))
        ]
        toggle_rate = run(db, toggles, args.batch)
        indexes = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'").fetchone()[0]
        print(
            f"SQLite {sqlite3.sqlite_version}, migrations up to {args.upto or 'the last'}"
            f"{' without ' + ', '.join(without) if without else ''}, {indexes} indexes on tasks, {args.cache_kib} KiB of cache, "
            f"{args.batch} write(s) per transaction: create {create_rate:,.0f}/s, toggle {toggle_rate:,.0f}/s"
        )


if __name__ == "__main__":
    main()
