"""The canary-analysis JSON report: its documented shape, exact values, and null for non-numbers."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest
from tests.unit.report.analysis_fixtures import (
    CRITICAL_REASON,
    ERROR_DETAIL,
    ROLLBACK_REASON,
    SCRIPT_DETAIL,
    T0,
    canary_spec,
    insufficient_report,
    proceed_report,
    rollback_report,
)

from safeship.model.analysis import Classification, MetricOutcome, MetricVerdict
from safeship.report import render_analysis_json
from safeship.report.analysis_json import SCHEMA_ID, finite_or_none, iso_time

DOCUMENT_KEYS = [
    "schema",
    "config",
    "judge",
    "decision",
    "score",
    "evaluated_at",
    "source",
    "metrics",
    "reasons",
    "timeline",
]
METRIC_KEYS = ["name", "verdict", "classification", "critical", "baseline", "canary", "detail"]


def _strict_loads(text: str) -> Any:
    """Parse ``text`` and fail on NaN/Infinity, which strict JSON does not have."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_rollback_document_is_exact() -> None:
    text = render_analysis_json(rollback_report(), canary_spec())

    assert text.endswith("}\n")
    assert _strict_loads(text) == {
        "schema": "safeship.canary-analysis/v1",
        "config": "service-x-canary",
        "judge": "sequential",
        "decision": "ROLLBACK",
        "score": None,
        "evaluated_at": "2025-03-14T09:39:53+00:00",
        "source": "prometheus http://127.0.0.1:9090",
        "metrics": [
            {
                "name": "error_rate",
                "verdict": "fail",
                "classification": "High",
                "critical": True,
                "baseline": 0.0005,
                "canary": 0.0012,
                "detail": ERROR_DETAIL,
                "e_value": 412.7,
                "cs_lower": 1.62,
                "cs_upper": 3.55,
                "margin": 1.5,
            },
            {
                "name": "latency_p95",
                "verdict": "pass",
                "classification": "Pass",
                "critical": False,
                "baseline": 0.182,
                "canary": 0.191,
                "detail": "p95 191 ms vs 182 ms, below the 500 ms ceiling",
                "e_value": 0.8,
                "cs_lower": 0.87,
                "cs_upper": 1.19,
            },
            {
                "name": "slo_burn_rate",
                "verdict": "pass",
                "classification": "Pass",
                "critical": False,
                "baseline": 0.5,
                "canary": 1.2,
                "detail": "burn rate 1.2 below the limit 3",
                "e_value": 2.1,
                "cs_lower": 0.4,
                "cs_upper": 1.9,
            },
            {
                "name": "checkout_success",
                "verdict": "pass",
                "classification": "Pass",
                "critical": False,
                "baseline": 0.991,
                "canary": 0.989,
                "detail": SCRIPT_DETAIL,
                "e_value": 1.1,
                "cs_lower": 0.991,
                "cs_upper": 1.004,
            },
        ],
        "reasons": [ROLLBACK_REASON, CRITICAL_REASON],
        "timeline": [
            {"at": "2025-03-14T09:28:53+00:00", "decision": "INSUFFICIENT_DATA", "score": None},
            {"at": "2025-03-14T09:30:53+00:00", "decision": "PROCEED", "score": None},
            {"at": "2025-03-14T09:32:53+00:00", "decision": "PROCEED", "score": None},
            {"at": "2025-03-14T09:34:53+00:00", "decision": "PROCEED", "score": None},
            {"at": "2025-03-14T09:36:53+00:00", "decision": "PROCEED", "score": None},
            {"at": "2025-03-14T09:38:53+00:00", "decision": "INSUFFICIENT_DATA", "score": None},
            {"at": "2025-03-14T09:39:53+00:00", "decision": "ROLLBACK", "score": None},
        ],
    }


def test_keys_come_in_the_documented_order() -> None:
    document = _strict_loads(render_analysis_json(rollback_report(), canary_spec()))

    assert list(document) == DOCUMENT_KEYS
    assert document["schema"] == SCHEMA_ID
    statistics = ["e_value", "cs_lower", "cs_upper"]
    assert list(document["metrics"][0]) == [*METRIC_KEYS, *statistics, "margin"]
    for metric in document["metrics"][1:]:
        assert list(metric) == [*METRIC_KEYS, *statistics]
    assert all(list(moment) == ["at", "decision", "score"] for moment in document["timeline"])


def test_kayenta_statistics_are_flattened() -> None:
    document = _strict_loads(render_analysis_json(proceed_report(), canary_spec()))

    assert document["decision"] == "PROCEED"
    assert document["judge"] == "kayenta"
    assert document["score"] == 100.0
    assert document["evaluated_at"] == "2025-03-14T10:16:53+00:00"
    assert document["metrics"][0] == {
        "name": "error_rate",
        "verdict": "pass",
        "classification": "Pass",
        "critical": False,
        "baseline": 0.0005,
        "canary": 0.00051,
        "detail": "mean ratio 1.02; interval [-4e-05, 6e-05] includes 0",
        "ci_lower": -4e-05,
        "ci_upper": 6e-05,
        "estimate": 1e-05,
        "effect_size": 1.02,
    }
    assert [list(metric)[len(METRIC_KEYS) :] for metric in document["metrics"]] == [
        ["ci_lower", "ci_upper", "estimate", "effect_size"]
    ] * 4
    assert document["timeline"] == [
        {"at": "2025-03-14T09:31:53+00:00", "decision": "PROCEED", "score": 100.0},
        {"at": "2025-03-14T09:36:53+00:00", "decision": "PROCEED", "score": 100.0},
        {"at": "2025-03-14T09:46:53+00:00", "decision": "PROCEED", "score": 100.0},
        {"at": "2025-03-14T10:16:53+00:00", "decision": "PROCEED", "score": 100.0},
    ]


def test_nan_infinity_and_missing_become_null() -> None:
    text = render_analysis_json(insufficient_report(), canary_spec())
    document = _strict_loads(text)

    # As values, not inside text ("... all NaN" is a detail sentence).
    assert ": NaN" not in text
    assert "Infinity" not in text
    assert document["decision"] == "INSUFFICIENT_DATA"
    assert document["score"] is None  # NaN score
    assert document["evaluated_at"] is None  # the verdict has no time
    assert document["source"] == ""
    assert document["metrics"] == [
        {
            "name": "error_rate",
            "verdict": "nodata",
            "classification": "NodataFailMetric",
            "critical": True,
            "baseline": None,
            "canary": None,
            "detail": "no data for either arm after 90 s: is the canary receiving traffic?",
            "ci_lower": None,  # NaN
            "ci_upper": None,  # +inf
            "estimate": None,  # None
        },
        {
            "name": "latency_p95",
            "verdict": "nodata",
            "classification": "Nodata",
            "critical": False,
            "baseline": 0.185,
            "canary": None,  # NaN
            "detail": "the canary's 3 latency scrapes are all NaN",
        },
        {
            "name": "checkout_success",
            "verdict": "inconclusive",
            "classification": "Pass",
            "critical": False,
            "baseline": 0.99,
            "canary": None,
            "detail": (
                "1 baseline point, 0 canary points; 12 canary requests < min_sample_size 100"
            ),
            "requests": 12.0,
            "min_sample_size": 100.0,
        },
    ]
    assert document["timeline"] == [{"at": None, "decision": "INSUFFICIENT_DATA", "score": None}]


def test_text_is_kept_verbatim_and_unicode_unescaped() -> None:
    text = render_analysis_json(rollback_report(), canary_spec())

    # JSON is not HTML: the detail is data, kept exactly; non-ASCII stays readable.
    assert 'checkout “ñandú” ✓ 98.9% vs 99.1% (ratio 0.998 ≥ 0.98)' in text
    assert _strict_loads(text)["metrics"][3]["detail"] == SCRIPT_DETAIL


def test_a_statistic_never_overwrites_a_fixed_key() -> None:
    report = rollback_report()
    odd = MetricVerdict(
        name="error_rate",
        outcome=MetricOutcome.FAIL,
        classification=Classification.HIGH,
        critical=False,
        baseline=1.0,
        canary=2.0,
        detail="d",
        statistics={"baseline": 9.0, "name": 1.0, "ratio": -math.inf},
    )
    final = replace(report.final, metrics=(odd,))
    document = _strict_loads(
        render_analysis_json(replace(report, final=final, timeline=()), canary_spec())
    )

    assert document["metrics"] == [
        {
            "name": "error_rate",
            "verdict": "fail",
            "classification": "High",
            "critical": False,
            "baseline": 1.0,
            "canary": 2.0,
            "detail": "d",
            "stat_baseline": 9.0,
            "stat_name": 1.0,
            "ratio": None,
        }
    ]
    assert document["timeline"] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (math.nan, None),
        (math.inf, None),
        (-math.inf, None),
        (0.0, 0.0),
        (-2.5, -2.5),
        (3, 3.0),
    ],
)
def test_finite_or_none(value: float | None, expected: float | None) -> None:
    assert finite_or_none(value) == expected


def test_iso_time() -> None:
    assert iso_time(T0) == "2025-03-14T09:26:53+00:00"
    assert iso_time(T0 + 0.25) == "2025-03-14T09:26:53.250000+00:00"
    assert iso_time(None) is None
    assert iso_time(math.nan) is None
