"""The JSON report keeps its documented shape and round-trips every value of a run."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from safeship.model.enums import Outcome
from safeship.model.results import PipelineRun
from safeship.report import render_json, render_runs_json

RUN_KEYS = [
    "schema",
    "run_id",
    "service",
    "commit",
    "actor",
    "risk",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "stages",
    "counts",
]
STAGE_KEYS = ["name", "outcome", "skipped", "gates"]
GATE_KEYS = [
    "id",
    "type",
    "verdict",
    "action",
    "outcome",
    "summary",
    "duration_s",
    "mandatory",
    "metrics",
    "findings",
]


def _strict_loads(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _gate(doc: dict[str, Any], gate_id: str) -> dict[str, Any]:
    return next(g for s in doc["stages"] for g in s["gates"] if g["id"] == gate_id)


def test_top_level_shape_and_run_fields(full_run: PipelineRun) -> None:
    doc = _strict_loads(render_json(full_run))

    assert list(doc) == RUN_KEYS
    assert doc["schema"] == "safeship.pipeline-run/v1"
    assert doc["run_id"] == "7f3c9a2e41d84b0f9e6a5c3b2d1e0f99"
    assert doc["service"] == "shop"
    assert doc["commit"] == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    assert doc["actor"] == "ci-bot"
    assert doc["risk"] == "high"
    assert doc["status"] == "blocked"
    assert doc["started_at"] == "2025-03-14T09:26:53+00:00"
    assert doc["finished_at"] == "2025-03-14T09:27:35.500000+00:00"
    assert datetime.fromisoformat(doc["started_at"]) == full_run.started_at
    assert datetime.fromisoformat(doc["finished_at"]) == full_run.finished_at
    assert doc["duration_s"] == 42.5


def test_stages_and_gates_have_the_documented_keys(full_run: PipelineRun) -> None:
    doc = _strict_loads(render_json(full_run))

    assert [(s["name"], s["outcome"], s["skipped"]) for s in doc["stages"]] == [
        ("pre_commit", "blocked", False),
        ("build", "warned", False),
        ("pre_deploy", "error", False),
        ("canary", "not_run", False),
        ("post_deploy", "not_run", True),
    ]
    assert doc["stages"][-1]["gates"] == []
    for stage in doc["stages"]:
        assert list(stage) == STAGE_KEYS
        for gate in stage["gates"]:
            assert list(gate) == GATE_KEYS
    assert [g["id"] for s in doc["stages"] for g in s["gates"]] == [
        g.gate_id for g in full_run.gates
    ]


def test_gate_values_and_findings_round_trip(full_run: PipelineRun) -> None:
    doc = _strict_loads(render_json(full_run))

    lint = _gate(doc, "lint")
    assert lint == {
        "id": "lint",
        "type": "lint",
        "verdict": "failed",
        "action": "block",
        "outcome": "blocked",
        "summary": "2 errors (ruff)",
        "duration_s": 1.234,
        "mandatory": True,
        "metrics": {"errors": 2, "files": 31},
        "findings": [
            {
                "rule": "F401",
                "message": "'os' imported but unused",
                "severity": "error",
                "path": "src/shop/app.py",
                "line": 3,
                "column": 8,
            },
            {
                "rule": "E999",
                "message": "SyntaxError: unexpected token '<&>' near “ñandú”",
                "severity": "error",
                "path": "src\\shop\\ünïcode module.py",
                "line": 12,
                "column": None,
            },
        ],
    }
    secret = _gate(doc, "secrets")["findings"][0]
    assert secret["message"] == (
        "AWS access key AKIA…MPLE found (entropy 100% above limit)\nrotate it, then rewrite history"
    )
    cve = _gate(doc, "cve")["findings"][0]
    assert (cve["path"], cve["line"], cve["column"], cve["severity"]) == (
        None,
        None,
        None,
        "warning",
    )


def test_metrics_that_json_cannot_hold_are_converted(full_run: PipelineRun) -> None:
    doc = _strict_loads(render_json(full_run))

    assert _gate(doc, "coverage")["metrics"] == {
        "line_rate": 78.5,
        "threshold": 80.0,
        "branch_rate": "NaN",
    }
    assert _gate(doc, "cve")["metrics"] == {
        "by_severity": {"high": 1, "medium": 1},
        "ids": ["a", "b"],
    }


def test_counts_cover_every_outcome_and_add_up(full_run: PipelineRun) -> None:
    doc = _strict_loads(render_json(full_run))

    assert doc["counts"] == {
        "passed": 1,
        "blocked": 2,
        "warned": 1,
        "logged": 1,
        "pending_approval": 1,
        "approved": 1,
        "error": 1,
        "skipped": 1,
        "not_run": 1,
    }
    assert set(doc["counts"]) == {o.value for o in Outcome}
    assert sum(doc["counts"].values()) == len(full_run.gates)


def test_unicode_is_written_as_is_and_output_ends_with_newline(full_run: PipelineRun) -> None:
    text = render_json(full_run)

    assert "“ñandú”" in text
    assert "ünïcode" in text
    assert text.endswith("}\n")
    assert render_json(full_run) == text  # deterministic


def test_unfinished_run_has_null_end_and_duration(running_run: PipelineRun) -> None:
    doc = _strict_loads(render_json(running_run))

    assert doc["finished_at"] is None
    assert doc["duration_s"] is None
    assert doc["commit"] is None
    assert doc["status"] == "running"


def test_configuration_is_not_part_of_the_report(full_run: PipelineRun) -> None:
    text = render_json(full_run)

    assert "config_path" not in text
    assert ".pipeline/gates.yaml" not in text


def test_runs_json_is_an_array_of_run_documents(
    full_run: PipelineRun, passing_run: PipelineRun
) -> None:
    docs = _strict_loads(render_runs_json([full_run, passing_run]))

    assert isinstance(docs, list)
    assert docs == [_strict_loads(render_json(full_run)), _strict_loads(render_json(passing_run))]
    assert _strict_loads(render_runs_json([])) == []
