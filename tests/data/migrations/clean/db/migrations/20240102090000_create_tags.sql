-- migrate:up
CREATE TABLE tags (id serial PRIMARY KEY, label text NOT NULL);
CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  UPDATE tags SET label = label;  -- inside a function body: not run by the migration
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- migrate:down
DROP FUNCTION touch();
DROP TABLE tags;
