"""Feature flags: the flag model, targeting rules and consistent percentage bucketing.

The public API, for the CLI, the store, the HTTP service and the OpenFeature provider:

- :mod:`~safeship.flags.model`: :class:`Flag` and its parts (frozen dataclasses).
- :mod:`~safeship.flags.context`: :class:`EvaluationContext` (targeting key + attributes).
- :mod:`~safeship.flags.evaluation`: :func:`evaluate` -> :class:`Evaluation` with an
  OpenFeature :class:`Reason` and, on errors, an :class:`ErrorCode`.
- :mod:`~safeship.flags.rules`: targeting conditions and their operators.
- :mod:`~safeship.flags.bucketing`: consistent, monotonic percentage bucketing (mmh3).
- :mod:`~safeship.flags.codec`: flags to and from the versioned JSON/YAML document.
- :mod:`~safeship.flags.changes`: enable, disable, kill, roll out... as pure functions.
- :mod:`~safeship.flags.validation`: what makes a flag valid, prerequisite cycles.

Everything here is pure: no I/O, no clock, no randomness (bucketing is a hash).
"""

from __future__ import annotations

from safeship.flags.context import TARGETING_KEY, EvaluationContext
from safeship.flags.evaluation import ErrorCode, Evaluation, Reason, evaluate, failed
from safeship.flags.model import (
    DEFAULT_ENVIRONMENT,
    Environment,
    Flag,
    FlagType,
    Prerequisite,
    Rollout,
    Rule,
    Serve,
    Variant,
    Weight,
)
from safeship.flags.rules import Condition, Operator

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "TARGETING_KEY",
    "Condition",
    "Environment",
    "ErrorCode",
    "Evaluation",
    "EvaluationContext",
    "Flag",
    "FlagType",
    "Operator",
    "Prerequisite",
    "Reason",
    "Rollout",
    "Rule",
    "Serve",
    "Variant",
    "Weight",
    "evaluate",
    "failed",
]
