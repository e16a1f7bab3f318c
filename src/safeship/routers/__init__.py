"""Traffic routers: one module per YAML ``type:``, behind :mod:`safeship.routers.interface`."""
