"""Deployment targets: one module per YAML ``type:``, behind :mod:`safeship.targets.interface`."""
