"""Judges: pure functions from recorded evidence to PROCEED / ROLLBACK / INSUFFICIENT_DATA."""
