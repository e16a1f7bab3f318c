"""The guide's deployment-pipeline maturity model (section 1.3): evidence in, level out. Pure.

=====  ==================  =======================================  =========================
level  name                the guide's characteristics              criteria (all must hold)
=====  ==================  =======================================  =========================
0      Manual              SSH + copy files, no rollback plan       (none: where every repo
                                                                    starts)
1      Scripted            deployment scripts, manual verification  deploy_definition
2      CI/CD Pipeline      automated tests, single-click deploy     version_control,
                                                                    test_gates, ci,
                                                                    one_command_deploy
3      Progressive         canary + blue/green + automated gates    progressive_strategy,
                                                                    risk_gates,
                                                                    canary_analysis,
                                                                    metrics_provider
4      Safe & Autonomous   auto-rollback, SLO-based decisions,      auto_rollback, slos,
                           zero-touch                               slo_gate, zero_touch
=====  ==================  =======================================  =========================

Levels are cumulative: a repository is at level N when every criterion of levels 1..N holds.
Criteria of higher levels are still evaluated and shown, so the report tells everything that is
missing, not only the next step.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeship.assess import criteria
from safeship.assess.criteria import Criterion, CriterionCheck
from safeship.assess.evidence import Evidence
from safeship.assess.goal import Goal, goal_for

TOP_LEVEL = 4


@dataclass(frozen=True)
class Level:
    """One maturity level as the guide names it, and the checks that make it."""

    number: int
    name: str
    characteristics: str
    checks: tuple[CriterionCheck, ...]


LEVELS: tuple[Level, ...] = (
    Level(0, "Manual", "SSH + copy files, no rollback plan", ()),
    Level(1, "Scripted", "deployment scripts, manual verification",
          (criteria.deploy_definition,)),
    Level(2, "CI/CD Pipeline", "automated tests, single-click deploy",
          (criteria.version_control, criteria.test_gates, criteria.ci_runs_gates,
           criteria.one_command_deploy)),
    Level(3, "Progressive", "canary + blue/green + automated gates",
          (criteria.progressive_strategy, criteria.risk_gates, criteria.canary_analysis,
           criteria.metrics_provider)),
    Level(4, "Safe & Autonomous", "auto-rollback, SLO-based decisions, zero-touch",
          (criteria.auto_rollback, criteria.slos_defined, criteria.slo_gate,
           criteria.zero_touch)),
)


@dataclass(frozen=True)
class Assessment:
    """The level reached, every criterion, what the next level and the goal still need."""

    level: int
    name: str
    goal: Goal
    criteria: tuple[Criterion, ...]
    evidence: Evidence

    @property
    def meets_goal(self) -> bool:
        """True when the level reached is at least the goal for the service's risk."""
        return self.level >= self.goal.level

    @property
    def next_level(self) -> int | None:
        """The level above the one reached (None at the top)."""
        return self.level + 1 if self.level < TOP_LEVEL else None

    @property
    def next_level_missing(self) -> tuple[Criterion, ...]:
        """The criteria of the next level that do not hold yet."""
        return tuple(c for c in self.criteria if c.level == self.next_level and not c.met)

    @property
    def goal_missing(self) -> tuple[Criterion, ...]:
        """Every criterion up to the goal level that does not hold yet."""
        return tuple(c for c in self.criteria if c.level <= self.goal.level and not c.met)


def level_name(number: int) -> str:
    """The guide's name of level ``number``."""
    return LEVELS[number].name


def evaluate(evidence: Evidence) -> Assessment:
    """Judge ``evidence`` against every level's criteria."""
    results = tuple(check(evidence) for level in LEVELS for check in level.checks)
    reached = 0
    for level in LEVELS[1:]:
        if not all(c.met for c in results if c.level == level.number):
            break
        reached = level.number
    return Assessment(reached, level_name(reached), goal_for(evidence.service.risk), results,
                      evidence)
