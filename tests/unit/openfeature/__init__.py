"""Unit tests of the OpenFeature provider: evaluation semantics, sync, staleness, counters."""
