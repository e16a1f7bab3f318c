"""The guide's tables as data: strategies (3.1), strategy by change type (3.2), rollbacks (5.1).

:data:`CAUTION` orders the change types for the case where one change is several at once. It
ranks by how hard the change is to take back and how far a mistake reaches:

1. ``db_migration``: rolling back needs a schema revert, not just a traffic flip.
2. ``major_version``: everything may have changed; blue/green with extended verification.
3. ``dependency``: behaviour changes nobody wrote down; a stepped canary finds them.
4. ``new_endpoint``: new code that stays dark behind a flag until a canary has seen it.
5. ``config``: low risk and toggled by a flag.
6. ``security_patch``: the one row the guide hurries (rolling, fast). Hurrying is never the
   cautious choice, so when anything else applies, the other row wins and the urgency becomes
   a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChangeType(StrEnum):
    """The rows of the guide's "Recommended Strategy by Change Type" (3.2)."""

    CONFIG = "config"
    DEPENDENCY = "dependency"
    DB_MIGRATION = "db_migration"
    NEW_ENDPOINT = "new_endpoint"
    SECURITY_PATCH = "security_patch"
    MAJOR_VERSION = "major_version"


class Strategy(StrEnum):
    """The deployment strategies of the guide's comparison (3.1), named as safeship's planners."""

    RECREATE = "recreate"
    ROLLING = "rolling"
    BLUE_GREEN = "blue_green"
    CANARY = "canary"
    FEATURE_FLAG = "feature_flag"


@dataclass(frozen=True)
class StrategyProfile:
    """One row of the guide's strategy comparison (3.1)."""

    strategy: Strategy
    name: str
    risk: str
    speed: str
    rollback: str
    traffic_shedding: str
    best_for: str


@dataclass(frozen=True)
class RollbackPath:
    """One row of the guide's rollback types (5.1)."""

    kind: str
    speed: str
    complexity: str
    prerequisite: str


@dataclass(frozen=True)
class Guidance:
    """One row of the guide's 3.2 table, with the strategies it combines in the order used."""

    change_type: ChangeType | None
    label: str
    strategy_text: str
    strategies: tuple[Strategy, ...]
    why: str
    canary_steps: tuple[int, ...] = ()
    """Traffic percentages the guide spells out for this row (empty when it names none)."""


PROFILES: dict[Strategy, StrategyProfile] = {
    Strategy.RECREATE: StrategyProfile(Strategy.RECREATE, "Recreate (stop old, start new)",
                                       "High", "Fast", "Slow", "100% during cutover",
                                       "Dev/test only"),
    Strategy.ROLLING: StrategyProfile(Strategy.ROLLING, "Rolling (gradual replacement)",
                                      "Medium", "Medium", "Medium", "Smooth", "Stateless apps"),
    Strategy.BLUE_GREEN: StrategyProfile(Strategy.BLUE_GREEN, "Blue/Green (two environments)",
                                         "Low", "Fast (switch)", "Instant (flip back)",
                                         "Abrupt at cutover", "Critical apps"),
    Strategy.CANARY: StrategyProfile(Strategy.CANARY, "Canary (live traffic % shift)", "Lowest",
                                     "Slow", "Instant", "Gradual", "High-risk changes"),
    Strategy.FEATURE_FLAG: StrategyProfile(Strategy.FEATURE_FLAG,
                                           "Feature flags (code in prod, off by default)",
                                           "Lowest", "Instant on/off", "Instant", "None",
                                           "Experiments, gradual rollouts"),
}

FLAG_TOGGLE = RollbackPath("Feature flag toggle", "Seconds", "Low",
                           "Feature flag built in code path")
ROUTING_SHIFT = RollbackPath("Traffic routing shift", "Seconds", "Medium",
                             "Active dual environments (Blue/Green)")
IMAGE_REVERSION = RollbackPath("Image tag reversion", "Minutes", "Medium",
                               "Immutable container registry tags")
FULL_REBUILD = RollbackPath("Full code rebuild", "Hours", "High",
                            "Source history stability fallback")

GUIDANCE: dict[ChangeType, Guidance] = {
    ChangeType.CONFIG: Guidance(
        ChangeType.CONFIG, "Config change", "Feature flags + canary",
        (Strategy.FEATURE_FLAG, Strategy.CANARY), "Easy toggle, low risk"),
    ChangeType.DEPENDENCY: Guidance(
        ChangeType.DEPENDENCY, "Library dependency update", "Canary (10% → 50% → 100%)",
        (Strategy.CANARY,), "Unknown behavioral changes", canary_steps=(10, 50, 100)),
    ChangeType.DB_MIGRATION: Guidance(
        ChangeType.DB_MIGRATION, "Database migration", "Blue/green (with dual-write)",
        (Strategy.BLUE_GREEN,), "Rollback requires schema revert"),
    ChangeType.NEW_ENDPOINT: Guidance(
        ChangeType.NEW_ENDPOINT, "New endpoint", "Feature flag (off) → canary → on",
        (Strategy.FEATURE_FLAG, Strategy.CANARY), "Safe to test in prod"),
    ChangeType.SECURITY_PATCH: Guidance(
        ChangeType.SECURITY_PATCH, "Security patch", "Rolling (fast)",
        (Strategy.ROLLING,), "Urgent, but still gradual"),
    ChangeType.MAJOR_VERSION: Guidance(
        ChangeType.MAJOR_VERSION, "Major version", "Blue/green (with extended verification)",
        (Strategy.BLUE_GREEN,), "Isolate blast radius"),
}

UNCLASSIFIED = Guidance(
    None, "Unclassified change", "Canary", (Strategy.CANARY,),
    "No row of the guide's table matched this change. Canary is the strategy with the lowest "
    "risk that still shifts live traffic, and it rolls back instantly (guide 3.1).",
)
"""What to do when no change type applies: fail towards caution, never towards speed."""

CAUTION: tuple[ChangeType, ...] = (
    ChangeType.DB_MIGRATION,
    ChangeType.MAJOR_VERSION,
    ChangeType.DEPENDENCY,
    ChangeType.NEW_ENDPOINT,
    ChangeType.CONFIG,
    ChangeType.SECURITY_PATCH,
)
"""Change types, most cautious first (see the module docstring for the reasons)."""


def caution_rank(change_type: ChangeType) -> int:
    """0 for the most cautious change type, larger for less cautious ones."""
    return CAUTION.index(change_type)


def rollback_path(strategies: tuple[Strategy, ...]) -> RollbackPath:
    """The fastest rollback of 5.1 that a plan made of ``strategies`` has at hand."""
    if Strategy.FEATURE_FLAG in strategies:
        return FLAG_TOGGLE
    if Strategy.BLUE_GREEN in strategies or Strategy.CANARY in strategies:
        # Both keep the previous version serving, so traffic can be routed back to it.
        return ROUTING_SHIFT
    return IMAGE_REVERSION
