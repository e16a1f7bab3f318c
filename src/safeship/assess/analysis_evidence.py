"""The canary analysis: ``canary-analysis.yaml``'s steps, metrics, judge and rollback switch.

The file is validated by the same loader ``safeship rollout`` and ``safeship analyze`` use; the
facts keep what the maturity criteria look at: which metrics carry a limit, which judge decides,
whether a failing analysis rolls back on its own, and how long the analysis lasts.
"""

from __future__ import annotations

from pathlib import Path

from safeship.assess.evidence import CanaryFacts
from safeship.assess.version_control import display_path
from safeship.model.canary import CanarySpec


def canary_facts(root: Path, path: Path, spec: CanarySpec | None) -> CanaryFacts:
    """The facts of the canary-analysis file at ``path`` (``spec`` None when it does not exist)."""
    shown = display_path(root, path)
    if spec is None:
        return CanaryFacts(shown, False)
    return CanaryFacts(
        path=shown, present=True, name=spec.name, steps=len(spec.steps),
        total_duration_s=spec.total_duration_s,
        metrics_with_threshold=tuple(m.name for m in spec.metrics if not m.threshold.is_empty()),
        metrics_without_threshold=tuple(m.name for m in spec.metrics if m.threshold.is_empty()),
        judge=spec.judge.name.value, rollback_on_failure=spec.rollback_on_failure,
    )
