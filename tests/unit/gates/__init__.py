"""Unit tests of the gate backends."""
