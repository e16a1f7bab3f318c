-- migrate:up
CREATE TABLE tags (id serial PRIMARY KEY);
ALTER TABLE categories RENAME TO labels;
