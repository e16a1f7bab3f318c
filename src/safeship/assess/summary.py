"""An :class:`Assessment` as data for ``--format json`` and as plain lines for logs and CI.

Nothing here prints; the CLI writes what these functions return.
"""

from __future__ import annotations

from typing import Any

from safeship._internal.durations import format_duration
from safeship.assess.criteria import Criterion
from safeship.assess.evidence import HistoryFacts
from safeship.assess.levels import LEVELS, Assessment, level_name


def criterion_json(criterion: Criterion) -> dict[str, Any]:
    """One criterion as JSON."""
    return {"level": criterion.level, "id": criterion.id, "title": criterion.title,
            "met": criterion.met, "evidence": criterion.evidence, "action": criterion.action}


def history_json(history: HistoryFacts) -> dict[str, Any]:
    """The rollout history as JSON (counts over the newest ``window`` releases)."""
    share = history.zero_touch_share
    median = history.median_rollback_seconds
    return {
        "available": history.available, "source": history.source, "note": history.note,
        "service": history.service, "window": history.window, "releases": history.releases,
        "active": history.active, "finished": history.finished,
        "promotions": history.promotions,
        "zero_touch_promotions": history.zero_touch_promotions,
        "automatic_rollbacks": history.automatic_rollbacks,
        "analysis_rollbacks": history.analysis_rollbacks, "aborted": history.aborted,
        "slo_refusals": history.slo_refusals, "slo_checked": history.slo_checked,
        "manual_undos": history.manual_undos, "human_touched": history.human_touched,
        "zero_touch": history.zero_touch,
        "zero_touch_share": None if share is None else round(share, 4),
        "rollbacks_measured": len(history.rollback_seconds),
        "median_rollback_seconds": None if median is None else round(median, 3),
    }


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    """The whole assessment as JSON."""
    evidence = assessment.evidence
    incomplete = {c.level for c in assessment.criteria if not c.met}
    return {
        "path": evidence.root,
        "service": evidence.service.name,
        "level": assessment.level,
        "name": assessment.name,
        "goal": assessment.goal.level,
        "goal_name": level_name(assessment.goal.level),
        "goal_reason": assessment.goal.reason,
        "meets_goal": assessment.meets_goal,
        "risk": assessment.goal.risk.value,
        "risk_source": evidence.service.path if evidence.service.risk_explicit else "default",
        "levels": [{"level": level.number, "name": level.name,
                    "characteristics": level.characteristics,
                    "criteria_met": level.number not in incomplete}
                   for level in LEVELS],
        "criteria": [criterion_json(c) for c in assessment.criteria],
        "next_level": assessment.next_level,
        "next_level_missing": [criterion_json(c) for c in assessment.next_level_missing],
        "goal_missing": [criterion_json(c) for c in assessment.goal_missing],
        "history": history_json(evidence.history),
    }


def verdict_line(assessment: Assessment) -> str:
    """One sentence: level reached, goal, met or not."""
    goal = assessment.goal
    state = "meets the goal" if assessment.meets_goal else "BELOW the goal"
    return (f"level {assessment.level} ({assessment.name}) {state} of level {goal.level} "
            f"({level_name(goal.level)}) for {goal.reason}")


def history_line(history: HistoryFacts) -> str:
    """The rollout history in a sentence."""
    if not history.available:
        return f"history: none ({history.note})"
    median = history.median_rollback_seconds
    measured = (f", median rollback {format_duration(median)} over "
                f"{len(history.rollback_seconds)}" if median is not None else "")
    return (f"history: {history.releases} release(s) of '{history.service}' "
            f"({history.finished} finished): {history.promotions} promoted, "
            f"{history.automatic_rollbacks} rolled back automatically "
            f"({history.analysis_rollbacks} by the analysis), {history.slo_refusals} refused "
            f"by the SLO check, {history.aborted} aborted, {history.manual_undos} manual "
            f"undo(s); {history.zero_touch} zero-touch{measured}")


def text_lines(assessment: Assessment) -> list[str]:
    """The assessment as plain lines: every criterion, then what to do next."""
    evidence = assessment.evidence
    lines = [f"{evidence.root}: service '{evidence.service.name}', risk "
             f"{assessment.goal.risk}", verdict_line(assessment), ""]
    for level in LEVELS[1:]:
        lines.append(f"level {level.number} {level.name} ({level.characteristics})")
        for c in assessment.criteria:
            if c.level != level.number:
                continue
            lines.append(f"  [{'met' if c.met else 'missing'}] {c.title}: {c.evidence}")
            if c.action:
                lines.append(f"      -> {c.action}")
    lines.extend(["", history_line(evidence.history)])
    if assessment.next_level is not None and assessment.next_level_missing:
        lines.extend(["", f"to reach level {assessment.next_level} "
                          f"({level_name(assessment.next_level)}):"])
        lines.extend(f"  - {c.action}" for c in assessment.next_level_missing if c.action)
    return lines
