"""The maturity level a service should reach, from its risk level.

The guide (section 1.3): "Reach Level 3 for critical services. Level 4 for mission-critical
only." safeship's risk levels map onto that sentence as follows:

=========  =====  ==========================================================================
risk       goal   why
=========  =====  ==========================================================================
low        1      a low-risk service needs a repeatable, scripted deployment, no more
medium     2      a pipeline: versioned config, automated test gates, CI runs them
high       3      the guide's "critical service": progressive rollout with canary analysis
critical   4      the guide's "mission-critical": auto-rollback, SLO-based, zero-touch
=========  =====  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from safeship.model.enums import RiskLevel

_GOALS: dict[RiskLevel, tuple[int, str]] = {
    RiskLevel.LOW: (1, "low risk: a scripted, repeatable deployment"),
    RiskLevel.MEDIUM: (2, "medium risk: a CI/CD pipeline with automated gates"),
    RiskLevel.HIGH: (3, "high risk, the guide's critical service: progressive delivery"),
    RiskLevel.CRITICAL: (4, "critical risk, the guide's mission-critical service: safe and "
                            "autonomous"),
}


@dataclass(frozen=True)
class Goal:
    """The level a risk level asks for, and why."""

    risk: RiskLevel
    level: int
    reason: str


def goal_for(risk: RiskLevel) -> Goal:
    """The goal level of a service at ``risk``."""
    level, reason = _GOALS[risk]
    return Goal(risk, level, reason)
