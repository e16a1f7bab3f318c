"""Feature flags: the flag model, targeting rules and consistent percentage bucketing."""
