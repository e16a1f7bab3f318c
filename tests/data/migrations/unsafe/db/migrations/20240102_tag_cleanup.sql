-- migrate:up
UPDATE labels SET name = lower(name);
-- migrate:down
-- nothing to do
