"""The sbom gate: writes a schema-valid CycloneDX file, fails (logged) when incomplete."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from safeship.errors import GateCannotRun
from safeship.gates import sbom as sbom_gate
from safeship.gates.interface import GateContext
from safeship.gates.sbom import SbomGate, SbomOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import GateCheck
from safeship.scanners.sbom import SbomProblem, SbomValidation, validate_sbom_text

STAMP = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def run(root: Path, env: dict[str, str] | None = None, **options: Any) -> GateCheck:
    gate = SbomGate(SbomOptions.model_validate(options), now=lambda: STAMP)
    return gate.evaluate(GateContext(project_root=root, env=env or {}))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "1.0.0"\ndependencies = ["requests"]\n')
    (tmp_path / "requirements.txt").write_text(
        f"requests==2.32.3 --hash=sha256:{'a' * 64}\nurllib3==2.2.2\n")
    return tmp_path


def test_guide_options_and_defaults() -> None:
    options = SbomOptions.model_validate({"format": "cyclonedx", "output": "sbom.json"})
    assert (options.source, options.spec_version) == ("project", "1.6")
    assert SbomGate.default_action is FailAction.LOG
    assert SbomGate.type_name == "sbom"
    assert SbomOptions.model_validate({"spec_version": 1.5}).spec_version == "1.5"
    with pytest.raises(ValidationError):
        SbomOptions.model_validate({"format": "spdx"})
    with pytest.raises(ValidationError):
        SbomOptions.model_validate({"spec_version": "1.3"})


def test_writes_a_valid_sbom(project: Path) -> None:
    result = run(project)
    assert result.verdict is Verdict.PASSED, result.summary
    text = (project / "sbom.json").read_text()
    assert validate_sbom_text(text).valid
    doc = json.loads(text)
    assert doc["metadata"]["component"]["name"] == "shop"
    assert doc["metadata"]["timestamp"].startswith("2024-05-06T07:08:09")
    assert {c["purl"] for c in doc["components"]} == {"pkg:pypi/requests@2.32.3",
                                                      "pkg:pypi/urllib3@2.2.2"}
    assert result.metrics["components"] == 2
    assert result.metrics["sources"] == ["requirements.txt"]
    assert "schema-valid" in result.summary


def test_source_date_epoch_and_spec_version(project: Path) -> None:
    run(project, env={"SOURCE_DATE_EPOCH": "86400"}, output="out/bom.json", spec_version="1.4")
    doc = json.loads((project / "out" / "bom.json").read_text())
    assert doc["specVersion"] == "1.4"
    assert doc["metadata"]["timestamp"].startswith("1970-01-02")


def test_unversioned_packages_fail_but_the_file_is_written(project: Path) -> None:
    result = run(project, input="pyproject.toml")
    assert result.verdict is Verdict.FAILED
    assert (project / "sbom.json").exists()
    (finding,) = result.findings
    assert (finding.rule, finding.path, finding.line, finding.severity) == (
        "sbom/unversioned", "pyproject.toml", 4, Severity.WARNING)


def test_invalid_document_is_not_written(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sbom_gate.generate_sbom

    def broken(*args: Any, **kwargs: Any) -> Any:
        generated = real(*args, **kwargs)
        bad = SbomValidation("1.6", (SbomProblem("$.components[0].type", "'lib' is bad"),))
        return type(generated)(generated.text, bad, generated.components,
                               generated.unversioned)

    monkeypatch.setattr(sbom_gate, "generate_sbom", broken)
    result = run(project)
    assert result.verdict is Verdict.FAILED
    assert not (project / "sbom.json").exists()
    assert result.findings[0].message == "$.components[0].type: 'lib' is bad"


def test_environment_source(project: Path) -> None:
    result = run(project, source="environment")
    assert result.verdict is Verdict.PASSED
    doc = json.loads((project / "sbom.json").read_text())
    assert doc["metadata"]["component"]["name"] == "shop"
    assert any(c["name"].lower() == "packaging" for c in doc["components"])


def test_cannot_run_without_dependency_files(tmp_path: Path) -> None:
    with pytest.raises(GateCannotRun, match="no dependency file"):
        run(tmp_path)
    with pytest.raises(GateCannotRun, match="not found"):
        run(tmp_path, input="requirements-prod.txt")


def test_cannot_write(project: Path) -> None:
    (project / "blocker").write_text("a file, not a folder")
    with pytest.raises(GateCannotRun, match="cannot write"):
        run(project, output="blocker/sbom.json")
