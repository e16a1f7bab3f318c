"""Metric providers: one module per YAML ``type:``, behind :mod:`safeship.metrics.interface`."""
