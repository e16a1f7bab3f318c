"""Deployment strategies: one pure planner per YAML ``type:``, behind :mod:`.interface`."""
