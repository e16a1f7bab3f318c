"""The canary-analysis JSON report: a stable document for one finished ``AnalysisReport``.

Shape of ``render_analysis_json`` (schema ``safeship.canary-analysis/v1``; keys always present,
in this order)::

    {
      "schema": "safeship.canary-analysis/v1",
      "config": str,                      # the canary-analysis file's metadata.name
      "judge": str,                       # "sequential" | "kayenta" | "threshold" | ...
      "decision": "PROCEED" | "ROLLBACK" | "INSUFFICIENT_DATA",
      "score": float | null,              # the final verdict's score (Kayenta-style judges)
      "evaluated_at": ISO 8601 str | null,   # when the final verdict was made (UTC)
      "source": str,                      # where the metrics came from
      "metrics": [                        # the final verdict's metrics, in its order
        {"name": str, "verdict": "pass" | "fail" | "nodata" | "inconclusive",
         "classification": "Pass" | "High" | "Low" | "Nodata" | "NodataFailMetric",
         "critical": bool, "baseline": float | null, "canary": float | null, "detail": str,
         ...the verdict's statistics, flattened: e.g. "ci_lower", "ci_upper", "estimate",
         "effect_size" (Kayenta) or "e_value", "cs_lower", "cs_upper" (sequential)}
      ],
      "reasons": [str],                   # the final verdict's reasons
      "timeline": [{"at": ISO 8601 str | null, "decision": str, "score": float | null}]
    }

Numbers JSON cannot hold (NaN, infinities) become ``null``: a missing number is missing, never a
made-up value. A statistic whose name collides with one of the fixed metric keys is kept under
``"stat_<name>"`` instead of overwriting it. The document is strict JSON (``allow_nan=False``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from safeship.model.analysis import AnalysisReport, AnalysisVerdict, MetricVerdict
from safeship.model.canary import CanarySpec

SCHEMA_ID = "safeship.canary-analysis/v1"

_FIXED_METRIC_KEYS = frozenset(
    {"name", "verdict", "classification", "critical", "baseline", "canary", "detail"}
)


def render_analysis_json(report: AnalysisReport, spec: CanarySpec) -> str:
    """The analysis as an indented JSON document (UTF-8 text, non-ASCII kept), ending in a newline.

    ``spec`` is the canary-analysis file the report was judged under; the document describes
    the verdicts only, so it takes ``spec`` for the same signature as the other writers.
    """
    document = analysis_document(report, spec)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def analysis_document(report: AnalysisReport, spec: CanarySpec) -> dict[str, Any]:
    """The JSON-ready dictionary behind ``render_analysis_json``, for callers that embed it."""
    del spec  # same signature as the other analysis writers; the document needs only the report
    final = report.final
    return {
        "schema": SCHEMA_ID,
        "config": report.config_name,
        "judge": report.judge,
        "decision": final.decision.value,
        "score": finite_or_none(final.score),
        "evaluated_at": iso_time(final.evaluated_at),
        "source": report.source,
        "metrics": [_metric(metric) for metric in final.metrics],
        "reasons": list(final.reasons),
        "timeline": [_moment(verdict) for verdict in report.timeline],
    }


def finite_or_none(value: float | None) -> float | None:
    """``value`` when it is a finite number, else None (NaN and infinities are not data)."""
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def iso_time(timestamp: float | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC string, or None when there is no (finite) time."""
    moment = finite_or_none(timestamp)
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat()


def _metric(metric: MetricVerdict) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": metric.name,
        "verdict": metric.outcome.value,
        "classification": metric.classification.value,
        "critical": metric.critical,
        "baseline": finite_or_none(metric.baseline),
        "canary": finite_or_none(metric.canary),
        "detail": metric.detail,
    }
    entry.update(_statistics(metric.statistics))
    return entry


def _statistics(statistics: Mapping[str, float | None]) -> dict[str, float | None]:
    flat: dict[str, float | None] = {}
    for key, value in statistics.items():
        name = f"stat_{key}" if key in _FIXED_METRIC_KEYS else key
        flat[name] = finite_or_none(value)
    return flat


def _moment(verdict: AnalysisVerdict) -> dict[str, Any]:
    return {
        "at": iso_time(verdict.evaluated_at),
        "decision": verdict.decision.value,
        "score": finite_or_none(verdict.score),
    }
