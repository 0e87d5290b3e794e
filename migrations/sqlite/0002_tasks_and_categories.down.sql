DROP TABLE tasks;
DROP TABLE categories;
