CREATE OR REPLACE FUNCTION task_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_counts SET n = n - 1
    WHERE user_id = OLD.user_id AND completed = OLD.completed AND top_level = (OLD.parent_id IS NULL);
    INSERT INTO task_counts AS c (user_id, completed, top_level, n)
    VALUES (NEW.user_id, NEW.completed, NEW.parent_id IS NULL, 1)
    ON CONFLICT (user_id, completed, top_level) DO UPDATE SET n = c.n + 1;
    RETURN NULL;
END $$;
