"""Tests of the OSV matcher (the cve_check engine)."""
