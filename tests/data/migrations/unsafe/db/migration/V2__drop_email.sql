-- The undo script was forgotten.
ALTER TABLE users DROP COLUMN email;
