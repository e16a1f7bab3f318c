"""Unit tests of the judges: pure functions from recorded evidence to a decision."""
