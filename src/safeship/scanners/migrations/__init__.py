"""Database-migration checks: rollback pairing per framework and dangerous operations in SQL."""
