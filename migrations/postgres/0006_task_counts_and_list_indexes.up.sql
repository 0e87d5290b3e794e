-- Per-user task counts, kept by the database: a list whose only filters are `completed` and
-- `parent_id=null` reads its X-Total-Count here instead of counting up to 10^5 rows. Triggers, so
-- that every path that writes tasks (statements, transactions, cascades of an account deletion,
-- direct SQL) keeps them exact. At most 4 rows per user. Every write of the application locks
-- the owner's users row first (change_seq), so these rows are only ever locked after it: writers
-- of one user queue on users and never deadlock here.
CREATE TABLE task_counts (
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    completed BOOLEAN NOT NULL,
    top_level BOOLEAN NOT NULL,
    n         BIGINT  NOT NULL,
    PRIMARY KEY (user_id, completed, top_level)
);

INSERT INTO task_counts (user_id, completed, top_level, n)
SELECT user_id, completed, parent_id IS NULL, count(*) FROM tasks GROUP BY 1, 2, 3;

-- Inserts and deletions are counted once per statement from its transition table (a bulk insert
-- of 10^5 rows costs one grouped upsert, not 10^5), in key order so that two bulk statements lock
-- counter rows in the same order.
CREATE FUNCTION task_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts AS c (user_id, completed, top_level, n)
    SELECT user_id, completed, parent_id IS NULL, count(*) FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (user_id, completed, top_level) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

-- No upsert here: an account's deletion removes its counters by cascade, possibly before its tasks.
CREATE FUNCTION task_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_counts AS c SET n = c.n - d.n
    FROM (SELECT user_id, completed, parent_id IS NULL AS top_level, count(*) AS n FROM old_rows GROUP BY 1, 2, 3) d
    WHERE c.user_id = d.user_id AND c.completed = d.completed AND c.top_level = d.top_level;
    RETURN NULL;
END $$;

CREATE FUNCTION task_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_counts SET n = n - 1
    WHERE user_id = OLD.user_id AND completed = OLD.completed AND top_level = (OLD.parent_id IS NULL);
    INSERT INTO task_counts AS c (user_id, completed, top_level, n)
    VALUES (NEW.user_id, NEW.completed, NEW.parent_id IS NULL, 1)
    ON CONFLICT (user_id, completed, top_level) DO UPDATE SET n = c.n + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_insert();
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_delete();
-- Per row, and only when the row changes counter: the WHEN is checked without calling plpgsql,
-- so an edit of a title costs nothing here.
CREATE TRIGGER tasks_count_update AFTER UPDATE OF completed, parent_id, user_id ON tasks
    FOR EACH ROW WHEN (OLD.completed IS DISTINCT FROM NEW.completed
                       OR (OLD.parent_id IS NULL) IS DISTINCT FROM (NEW.parent_id IS NULL)
                       OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION task_counts_update();

-- One index per sort, owner first, in the ORDER BY's order (created_at has tasks_user_created_idx;
-- `due_date ASC NULLS LAST` has tasks_user_due_idx; each is also read backwards).
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, due_date DESC NULLS LAST, id DESC);
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_title_idx ON tasks (user_id, lower(title), id);

-- The planner prices lower() and LIKE at next to nothing, so it reads all of a heavy user's rows
-- (measured 70-100 ms for 10^5) rather than the trigram indexes (10-15 ms). A search adds this
-- qual, which does nothing but is priced high: quals run cheapest first, so it is only called on
-- rows that matched, yet it makes every plan that tests all of the owner's rows look dear.
CREATE FUNCTION task_search_priced(uuid) RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    COST 10000 AS $$ BEGIN RETURN true; END $$;

-- `q` is a substring match (LIKE on lower(), escaped): a trigram index finds the candidates when
-- pg_trgm can be had. A role that may not create the extension still migrates; its searches scan.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): q searches scan the owner''s tasks', SQLERRM;
END $$;
DO $$
DECLARE
    ops TEXT;
BEGIN
    SELECT format('%I.gin_trgm_ops', n.nspname) INTO ops
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ops IS NOT NULL THEN
        EXECUTE format('CREATE INDEX tasks_title_trgm_idx ON tasks USING gin (lower(title) %s)', ops);
        EXECUTE format('CREATE INDEX tasks_description_trgm_idx ON tasks USING gin (lower(description) %s)', ops);
    END IF;
END $$;
