"""Turn a change type, or the signals of a real change, into the guide's recommendation.

When several change types apply, the most cautious one decides (see
:mod:`safeship.recommend.guide_table`), and every signal is kept so the user sees why. When
none applies, the answer is a canary, never the fastest strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeship._internal.subprocess import CommandRunner, run_command
from safeship.recommend.classify import Signal, classify
from safeship.recommend.git_reader import GitRepository
from safeship.recommend.guide_table import (
    GUIDANCE,
    PROFILES,
    UNCLASSIFIED,
    ChangeType,
    Guidance,
    RollbackPath,
    Strategy,
    StrategyProfile,
    caution_rank,
    rollback_path,
)

SCHEMA_ID = "safeship.recommendation/v1"
"""The ``schema`` of :func:`recommendation_document`; bumped on incompatible changes."""


@dataclass(frozen=True)
class DiffFacts:
    """The git range a recommendation was derived from."""

    revision_range: str
    base: str
    head: str
    files_changed: int
    commits: int


@dataclass(frozen=True)
class Recommendation:
    """The strategy to use, the guide's reason, and the evidence behind the choice."""

    guidance: Guidance
    rollback: RollbackPath
    profiles: tuple[StrategyProfile, ...]
    signals: tuple[Signal, ...] = ()
    notes: tuple[str, ...] = ()
    diff: DiffFacts | None = None

    @property
    def change_type(self) -> ChangeType | None:
        """The deciding change type (None when nothing matched)."""
        return self.guidance.change_type

    @property
    def strategy(self) -> str:
        """The guide's wording of the strategy, e.g. ``Canary (10% → 50% → 100%)``."""
        return self.guidance.strategy_text

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The strategies combined, in the order they are used."""
        return self.guidance.strategies

    @property
    def why(self) -> str:
        """The guide's reason."""
        return self.guidance.why

    @property
    def change_types(self) -> tuple[ChangeType, ...]:
        """Every change type a signal pointed to, most cautious first, without repeats."""
        return tuple(dict.fromkeys(signal.change_type for signal in self.signals))


def recommend_for_change_type(change_type: ChangeType) -> Recommendation:
    """The guide's recommendation for a change type the user names."""
    return _build(GUIDANCE[change_type], (), ())


def recommend_from_signals(signals: Sequence[Signal],
                           diff: DiffFacts | None = None) -> Recommendation:
    """The recommendation for a change that gave ``signals``: the most cautious one wins."""
    ordered = tuple(sorted(signals, key=lambda s: caution_rank(s.change_type)))
    notes: list[str] = []
    if not ordered:
        guidance = UNCLASSIFIED
        if diff is not None and diff.files_changed == 0:
            notes.append("BASE and HEAD do not differ in any file.")
        else:
            notes.append("None of the guide's change types was recognised (a code-only "
                         "change, for instance); pass --change-type if you know better.")
        return _build(guidance, ordered, tuple(notes), diff)
    guidance = GUIDANCE[ordered[0].change_type]
    kinds = tuple(dict.fromkeys(signal.change_type for signal in ordered))
    if len(kinds) > 1:
        others = ", ".join(kind.value for kind in kinds[1:])
        notes.append(f"Several change types apply; the most cautious one, {kinds[0].value}, "
                     f"decides over {others}.")
    if kinds[0] is ChangeType.SECURITY_PATCH:
        notes.append("Only commit messages point to a security fix, and the guide's answer to "
                     "one is the fastest row. Make sure it is one; otherwise a canary is the "
                     "cautious default.")
    if ChangeType.SECURITY_PATCH in kinds[1:]:
        notes.append("A security fix is part of this change: the guide calls it urgent, but "
                     "still gradual. Move through the steps without extra holds, and skip "
                     "none of them.")
    return _build(guidance, ordered, tuple(notes), diff)


def recommend_for_range(root: Path, revision_range: str,
                        runner: CommandRunner = run_command) -> Recommendation:
    """Classify ``BASE..HEAD`` of the git repository at ``root`` and recommend."""
    repository = GitRepository(root, runner)
    changes = repository.change_set(revision_range)
    facts = DiffFacts(revision_range, changes.base, changes.head, len(changes.files),
                      len(changes.commits))
    return recommend_from_signals(classify(changes, repository), facts)


def _build(guidance: Guidance, signals: tuple[Signal, ...], notes: tuple[str, ...],
           diff: DiffFacts | None = None) -> Recommendation:
    advice = list(notes)
    if guidance.change_type is ChangeType.DB_MIGRATION:
        advice.append("Routing traffic back does not undo a schema change: keep the schema "
                      "readable and writable by both versions (dual-write) until the old "
                      "version is retired.")
    if Strategy.BLUE_GREEN in guidance.strategies:
        advice.append("After the cutover, watch the SLOs (the guide's diagram waits 30 "
                      "minutes) before retiring the old environment.")
    return Recommendation(
        guidance=guidance,
        rollback=rollback_path(guidance.strategies),
        profiles=tuple(PROFILES[strategy] for strategy in guidance.strategies),
        signals=signals,
        notes=tuple(advice),
        diff=diff,
    )


def recommendation_document(recommendation: Recommendation) -> dict[str, Any]:
    """A JSON-ready description of ``recommendation`` (keys are stable)."""
    guidance = recommendation.guidance
    rollback = recommendation.rollback
    diff = recommendation.diff
    return {
        "schema": SCHEMA_ID,
        "change_type": guidance.change_type.value if guidance.change_type else None,
        "label": guidance.label,
        "strategy": guidance.strategy_text,
        "strategies": [strategy.value for strategy in guidance.strategies],
        "canary_steps": list(guidance.canary_steps),
        "why": guidance.why,
        "rollback": {"kind": rollback.kind, "speed": rollback.speed,
                     "complexity": rollback.complexity, "prerequisite": rollback.prerequisite},
        "profiles": [
            {"strategy": p.strategy.value, "name": p.name, "risk": p.risk, "speed": p.speed,
             "rollback": p.rollback, "traffic_shedding": p.traffic_shedding,
             "best_for": p.best_for}
            for p in recommendation.profiles
        ],
        "change_types": [kind.value for kind in recommendation.change_types],
        "signals": [
            {"change_type": s.change_type.value, "reason": s.reason, "evidence": list(s.evidence)}
            for s in recommendation.signals
        ],
        "notes": list(recommendation.notes),
        "diff": None if diff is None else {
            "range": diff.revision_range, "base": diff.base, "head": diff.head,
            "files_changed": diff.files_changed, "commits": diff.commits,
        },
    }
