"""Gate backends: one module per YAML ``type:``, each behind :mod:`safeship.gates.interface`."""
