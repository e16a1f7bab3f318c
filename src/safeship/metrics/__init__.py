"""Metric providers: one module per YAML ``type:``, each behind :mod:`safeship.metrics.interface`."""
