"""The api_contract gate: options, verdicts, located findings, ignores, git bases, fail-closed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from safeship._internal.subprocess import run_command
from safeship.config.gates_file import load_gates_file
from safeship.errors import GateCannotRun
from safeship.gates.api_contract import ApiContractGate, ApiContractOptions
from safeship.gates.interface import GateContext
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.registry import GateOptionsResolver
from safeship.scanners.openapi.schema_walk import MAX_DEPTH
from tests.requirements import require_binary

DATA = Path(__file__).resolve().parents[2] / "data" / "openapi"
TODAY = dt.date(2025, 6, 1)


def _gate(**options: Any) -> ApiContractGate:
    return ApiContractGate(ApiContractOptions.model_validate(options), today=lambda: TODAY)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    for name in ("petstore-v1.yaml", "petstore-v2-breaking.yaml",
                 "petstore-v1.1-compatible.json", "petstore-v1.2-warn.yaml",
                 "invalid-parameter.yaml"):
        shutil.copy(DATA / name, root / name)
    return root


def test_type_and_default_action() -> None:
    assert ApiContractGate.type_name == "api_contract"
    assert ApiContractGate.default_action is FailAction.FAIL
    assert ApiContractOptions.model_validate({"spec": "a", "base": "b"}).fail_on == "ERR"


def test_loads_from_a_gates_file(tmp_path: Path) -> None:
    (tmp_path / "gates.yaml").write_text(
        "version: 2\nstages:\n  - name: integration\n    gates:\n      - type: api_contract\n"
        "        spec: openapi.yaml\n        base: git:v1.0.0:openapi.yaml\n"
        "        fail_on: WARN\n        ignore:\n          - id: endpoint-added\n"
        "            reason: new endpoints are fine\n")
    spec = load_gates_file(tmp_path / "gates.yaml", GateOptionsResolver())
    (gate,) = spec.stages[0].gates
    assert isinstance(gate.options, ApiContractOptions)
    assert (gate.options.base, gate.options.fail_on) == ("git:v1.0.0:openapi.yaml", "WARN")
    assert gate.options.ignore[0].reason == "new endpoints are fine"


@pytest.mark.parametrize(("raw", "says"), [
    ({"spec": "a.yaml"}, "base"),
    ({"spec": "a.yaml", "base": "git:v1"}, "git:<ref>:<path>"),
    ({"spec": "a.yaml", "base": "b", "fail_on": "INFO"}, "fail_on"),
    ({"spec": "a.yaml", "base": "b", "ignore": [{"id": "endpoint-added"}]}, "reason"),
    ({"spec": "a.yaml", "base": "b", "ignore": [{"id": "endpoint-added", "reason": ""}]},
     "reason"),
    ({"spec": "a.yaml", "base": "b", "ignore": [{"id": "api-path-removed", "reason": "x"}]},
     "did you mean 'api-path-removed-"),
    ({"spec": "a.yaml", "base": "b", "ignore": [
        {"id": "endpoint-added", "operation": "/pets", "reason": "x"}]}, "METHOD /path"),
    ({"spec": "a.yaml", "base": "b", "colour": "red"}, "colour"),
])
def test_bad_options_are_refused(raw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says.replace("(", "\\(")):
        ApiContractOptions.model_validate(raw)


def test_breaking_changes_fail_with_findings_at_the_revision_lines(project: Path) -> None:
    check = _gate(spec="petstore-v2-breaking.yaml", base="petstore-v1.yaml").evaluate(
        GateContext(project_root=project))
    assert check.verdict is Verdict.FAILED
    rules = {f.rule for f in check.findings}
    assert {"api-path-removed-without-deprecation", "request-parameter-became-required",
            "response-property-became-optional", "api-removed-before-sunset",
            "response-property-enum-value-added"} <= rules
    required = next(f for f in check.findings if f.rule == "request-parameter-became-required")
    assert (required.path, required.line, required.severity) == (
        "petstore-v2-breaking.yaml", 13, Severity.ERROR)
    assert required.message.startswith("GET /pets: the query parameter `limit`")
    warn = next(f for f in check.findings if f.rule == "response-property-enum-value-added")
    assert warn.severity is Severity.WARNING
    assert check.metrics["counts"]["ERR"] == sum(
        1 for f in check.findings if f.severity is Severity.ERROR)
    assert "13 breaking (ERR)" in check.summary


def test_compatible_changes_pass_and_count_info(project: Path) -> None:
    check = _gate(spec="petstore-v1.1-compatible.json", base="petstore-v1.yaml").evaluate(
        GateContext(project_root=project))
    assert check.verdict is Verdict.PASSED
    assert check.findings == ()
    assert check.metrics["counts"] == {"ERR": 0, "WARN": 0, "INFO": 6}
    assert "endpoint-added" in check.metrics["info_rules"]
    assert "nothing at or above ERR" in check.summary


def test_warnings_pass_by_default_and_fail_on_warn(project: Path) -> None:
    ctx = GateContext(project_root=project)
    lenient = _gate(spec="petstore-v1.2-warn.yaml", base="petstore-v1.yaml").evaluate(ctx)
    assert lenient.verdict is Verdict.PASSED
    assert {f.severity for f in lenient.findings} == {Severity.WARNING}
    strict = _gate(spec="petstore-v1.2-warn.yaml", base="petstore-v1.yaml",
                   fail_on="WARN").evaluate(ctx)
    assert strict.verdict is Verdict.FAILED
    assert {f.severity for f in strict.findings} == {Severity.ERROR}


def test_ignored_changes_are_listed_as_notes_and_do_not_fail(project: Path) -> None:
    ignore = [{"id": "response-property-enum-value-added", "operation": "GET /pets/{petId}",
               "reason": "clients map unknown statuses to other"},
              {"id": "response-property-enum-value-added", "reason": "same, elsewhere"},
              {"id": "endpoint-added", "reason": "never matches here"}]
    check = _gate(spec="petstore-v1.2-warn.yaml", base="petstore-v1.yaml", fail_on="WARN",
                  ignore=ignore).evaluate(GateContext(project_root=project))
    assert check.verdict is Verdict.PASSED
    notes = [f for f in check.findings if f.severity is Severity.NOTE]
    assert len(notes) == 3
    by_operation = {f.message.split(":")[0]: f.message for f in notes}
    assert "[ignored: clients map unknown statuses to other]" in by_operation["GET /pets/{id}"]
    assert "[ignored: same, elsewhere]" in by_operation["GET /pets"]
    assert check.metrics["ignored"] == 3
    assert check.metrics["unused_ignores"] == ["endpoint-added"]


def test_sunset_dates_are_judged_against_the_injected_day(project: Path) -> None:
    before = ApiContractGate(ApiContractOptions(spec="petstore-v2-breaking.yaml",
                                                base="petstore-v1.yaml"),
                             today=lambda: dt.date(2025, 12, 31))
    after = ApiContractGate(ApiContractOptions(spec="petstore-v2-breaking.yaml",
                                               base="petstore-v1.yaml"),
                            today=lambda: dt.date(2026, 1, 1))
    ctx = GateContext(project_root=project)
    assert "api-removed-before-sunset" in {f.rule for f in before.evaluate(ctx).findings}
    assert "api-removed-before-sunset" not in {f.rule for f in after.evaluate(ctx).findings}


@pytest.mark.parametrize(("spec", "base", "says"), [
    ("invalid-parameter.yaml", "petstore-v1.yaml", "invalid-parameter.yaml:8:15"),
    ("missing.yaml", "petstore-v1.yaml", "no such file"),
    ("petstore-v1.yaml", "missing.yaml", "cannot use the spec missing.yaml"),
])
def test_unusable_specs_mean_the_gate_cannot_run(project: Path, spec: str, base: str,
                                                 says: str) -> None:
    with pytest.raises(GateCannotRun, match=says):
        _gate(spec=spec, base=base).evaluate(GateContext(project_root=project))


def _git(repo: Path, *args: str) -> str:
    result = run_command(["git", "-c", "user.name=T", "-c", "user.email=t@example.com",
                          "-c", "init.defaultBranch=main", *args], cwd=repo, timeout_s=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose service (in api/) tagged v1 with the v1 spec, then moved on."""
    require_binary("git", "the api_contract gate reads the base spec with git show")
    root = tmp_path / "repo"
    service = root / "api"
    service.mkdir(parents=True)
    _git(root, "init", "-q")
    shutil.copy(DATA / "petstore-v1.yaml", service / "openapi.yaml")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "v1")
    _git(root, "tag", "v1")
    shutil.copy(DATA / "petstore-v2-breaking.yaml", service / "openapi.yaml")
    return service


def test_base_from_a_git_tag(repo: Path) -> None:
    check = _gate(spec="openapi.yaml", base="git:v1:openapi.yaml").evaluate(
        GateContext(project_root=repo))
    assert check.verdict is Verdict.FAILED
    assert check.metrics["base"] == "v1:openapi.yaml"
    assert all(f.path == "openapi.yaml" for f in check.findings)


def test_base_from_git_equal_to_the_revision_passes(repo: Path) -> None:
    shutil.copy(DATA / "petstore-v1.yaml", repo / "openapi.yaml")
    check = _gate(spec="openapi.yaml", base="git:v1:openapi.yaml").evaluate(
        GateContext(project_root=repo))
    assert check.verdict is Verdict.PASSED
    assert check.metrics["counts"] == {"ERR": 0, "WARN": 0, "INFO": 0}


@pytest.mark.parametrize(("base", "says"), [
    ("git:v9:openapi.yaml", "at git ref v9"),
    ("git:v1:nowhere.yaml", "at git ref v1"),
])
def test_a_missing_git_ref_or_path_means_the_gate_cannot_run(repo: Path, base: str,
                                                              says: str) -> None:
    with pytest.raises(GateCannotRun, match=says) as caught:
        _gate(spec="openapi.yaml", base=base).evaluate(GateContext(project_root=repo))
    assert caught.value.hint is not None
    assert "git fetch --tags" in caught.value.hint


def test_an_invalid_spec_at_the_git_ref_cannot_run(repo: Path) -> None:
    root = repo.parent
    shutil.copy(DATA / "invalid-parameter.yaml", repo / "broken.yaml")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "broken")
    _git(root, "tag", "broken")
    with pytest.raises(GateCannotRun, match=r"broken:broken\.yaml:8:15"):
        _gate(spec="openapi.yaml", base="git:broken:broken.yaml").evaluate(
            GateContext(project_root=repo))


def test_specs_too_deep_to_compare_mean_the_gate_cannot_run(tmp_path: Path) -> None:
    schemas: dict[str, Any] = {f"S{i}": {"type": "object", "properties": {
        "next": {"$ref": f"#/components/schemas/S{i + 1}"}}} for i in range(MAX_DEPTH + 2)}
    schemas[f"S{MAX_DEPTH + 2}"] = {"type": "string"}
    spec = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/S0"}}}}}}}},
        "components": {"schemas": schemas}}
    (tmp_path / "deep.json").write_text(json.dumps(spec))
    with pytest.raises(GateCannotRun, match="nest more than"):
        _gate(spec="deep.json", base="deep.json").evaluate(GateContext(project_root=tmp_path))
