"""Flags the feature-flag tests share, built through the public API."""

from __future__ import annotations

from safeship.flags import Flag, FlagType, changes
from safeship.flags.compact import parse_rule


def boolean_flag(key: str = "beta", *, enabled: bool = True, percent: float | None = None,
                 rules: tuple[str, ...] = (), environment: str = "production") -> Flag:
    """A boolean flag, enabled in ``environment`` unless told otherwise, with an optional
    rollout and compact rules."""
    flag = changes.new_flag(key, environments=["dev", environment])
    if enabled:
        flag = changes.enable(flag, environment)
    if percent is not None:
        flag = changes.set_rollout(flag, environment, percent)
    if rules:
        flag = changes.set_rules(flag, environment, [
            parse_rule(text, index) for index, text in enumerate(rules, 1)])
    return flag


def string_flag(key: str = "theme") -> Flag:
    """A three-variant string flag, enabled in production, off variant 'classic'."""
    flag = changes.new_flag(key, FlagType.STRING,
                            variants=[("classic", "c"), ("dark", "d"), ("light", "l")])
    return changes.enable(flag, "production")
