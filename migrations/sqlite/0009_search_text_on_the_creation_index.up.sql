-- A search (`q`) reads every row of the owner: no index answers LIKE '%…%', and the total counts
-- every match anyway. It walks the owner's rows in creation order (the default sort's index), and
-- each step fetched the row from the table to read its title and description. Now that index
-- carries them: the walk reads only the index (a covering scan), and fetches the rows of the
-- matches. 10^5 tasks, one search, server p50 in alternated runs: 58-63 ms -> 44-46 ms. The
-- number of indexes a write touches is unchanged; a toggle still writes none of this one.
DROP INDEX tasks_user_created_idx;
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id, title, description);
