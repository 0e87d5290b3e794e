CREATE OR REPLACE FUNCTION task_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_counts SET n = n - 1
    WHERE user_id = OLD.user_id AND completed = OLD.completed AND top_level = (OLD.parent_id IS NULL);
    INSERT INTO task_counts AS c (user_id, completed, top_level, n)
    VALUES (NEW.user_id, NEW.completed, NEW.parent_id IS NULL, 1)
    ON CONFLICT (user_id, completed, top_level) DO UPDATE SET n = c.n + 1;
    RETURN NULL;
END $$;

ALTER TABLE users
    DROP CONSTRAINT users_fields_check,
    ADD CONSTRAINT users_id_check CHECK (length(id) BETWEEN 1 AND 255),
    ADD CONSTRAINT users_email_check CHECK (email = lower(email));
ALTER TABLE tasks
    DROP CONSTRAINT tasks_fields_check,
    ADD CONSTRAINT tasks_title_check CHECK (length(title) BETWEEN 1 AND 255),
    ADD CONSTRAINT tasks_description_check CHECK (length(description) <= 2000),
    ADD CONSTRAINT tasks_priority_check CHECK (priority BETWEEN 0 AND 2);
