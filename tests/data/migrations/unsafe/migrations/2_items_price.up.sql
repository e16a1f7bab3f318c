ALTER TABLE items ADD COLUMN price integer NOT NULL;
