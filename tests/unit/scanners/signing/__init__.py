"""Tests of the signing engine (keys, blob signatures, DSSE, provenance, trust policy)."""
