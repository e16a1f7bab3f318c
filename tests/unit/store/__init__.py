"""Unit tests of the state store (SQLite)."""
