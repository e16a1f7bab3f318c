"""Which deployment strategy a change calls for, after the guide's table 3.2.

Name the change type (:func:`recommend_for_change_type`), or let a git range be classified
(:func:`recommend_for_range`): migrations, dependency files, config-only changes, new OpenAPI
paths, major version bumps and security-fix commit messages each give a signal, and the most
cautious change type decides. Pure logic apart from git, which runs through the injected
:class:`safeship._internal.subprocess.CommandRunner`.
"""

from __future__ import annotations

from safeship.recommend.advice import (
    DiffFacts,
    Recommendation,
    recommend_for_change_type,
    recommend_for_range,
    recommend_from_signals,
    recommendation_document,
)
from safeship.recommend.classify import Signal, classify
from safeship.recommend.guide_table import (
    CAUTION,
    GUIDANCE,
    ChangeType,
    Guidance,
    RollbackPath,
    Strategy,
    StrategyProfile,
)

__all__ = [
    "CAUTION",
    "GUIDANCE",
    "ChangeType",
    "DiffFacts",
    "Guidance",
    "Recommendation",
    "RollbackPath",
    "Signal",
    "Strategy",
    "StrategyProfile",
    "classify",
    "recommend_for_change_type",
    "recommend_for_range",
    "recommend_from_signals",
    "recommendation_document",
]
