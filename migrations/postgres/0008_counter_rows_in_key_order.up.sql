-- A task that moves between counters (a toggle, a new parent) took its two counter rows in the
-- order old, new: two writers moving tasks in opposite directions, neither holding the owner's
-- users row (direct SQL, an import: the application always locks users first), could each hold
-- one and wait for the other, a deadlock (pgbench: 25 in 10 s at 64 clients). Now both rows are
-- one upsert, locked in key order like the statement triggers' grouped upserts. The two keys
-- always differ (the trigger's WHEN), so the upsert never meets one row twice. Single-client
-- pgbench put its cost within noise of the UPDATE and upsert it replaces.
CREATE OR REPLACE FUNCTION task_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts AS c (user_id, completed, top_level, n)
    SELECT * FROM (VALUES (OLD.user_id, OLD.completed, OLD.parent_id IS NULL, -1::bigint),
                          (NEW.user_id, NEW.completed, NEW.parent_id IS NULL, 1::bigint)) AS v ORDER BY 1, 2, 3
    ON CONFLICT (user_id, completed, top_level) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
