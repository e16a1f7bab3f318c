-- migrate:up
CREATE TABLE ok_table (id int);
ALTER TABLE labels FROBNICATE COLUMN name;
SELECT FROM WHERE;
-- migrate:down
DROP TABLE ok_table;
