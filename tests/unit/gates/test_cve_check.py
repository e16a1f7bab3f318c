"""The cve_check gate: the guide's options, the policy, locations, ignores, fail-closed errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from safeship.config.gates_file import load_gates_file
from safeship.errors import GateCannotRun
from safeship.gates.cve_check import CveCheckGate, CveCheckOptions
from safeship.gates.interface import GateContext
from safeship.gates.sbom import SbomOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import GateCheck
from safeship.registry import GateOptionsResolver
from tests.unit.scanners.osv.osv_fixtures import write_osv_folder, write_osv_zip

TODAY = dt.date(2099, 6, 1)


class WithNewGates(GateOptionsResolver):
    """The registry's resolver plus this issue's two gates (until the registry lists them)."""

    def options_model(self, type_name: str) -> type[BaseModel] | None:
        return {"sbom": SbomOptions, "cve_check": CveCheckOptions}.get(type_name) or (
            super().options_model(type_name))


def test_the_guide_gates_file_loads_with_these_options(guide_gates: Path) -> None:
    spec = load_gates_file(guide_gates, WithNewGates())
    gates = {g.type: g for s in spec.stages for g in s.gates}
    cve = gates["cve_check"].options
    assert isinstance(cve, CveCheckOptions)
    assert (cve.critical_severity, cve.high_severity) == ("block", "warn")
    sbom = gates["sbom"].options
    assert isinstance(sbom, SbomOptions)
    assert (sbom.format, sbom.output) == ("cyclonedx", "sbom.json")


def test_defaults() -> None:
    assert CveCheckGate.type_name == "cve_check"
    assert CveCheckGate.default_action is FailAction.FAIL
    options = CveCheckOptions()
    assert (options.critical_severity, options.high_severity, options.medium_severity,
            options.unknown_severity) == ("block", "warn", "pass", "warn")


@pytest.mark.parametrize("raw", [
    {"critical_severity": "explode"},
    {"unknown": "warn"},
    {"ignore": [{"id": "X"}]},
    {"max_db_age_days": 0},
])
def test_bad_options_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CveCheckOptions.model_validate(raw)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_osv_zip(tmp_path / "osv.zip")
    (tmp_path / "requirements.txt").write_text(
        "# pinned\nDemo_Pkg==1.2\nlistpkg==1.0\nmedpkg==2.0\nsafe==1.0\n")
    return tmp_path


def check(root: Path, **options: Any) -> GateCheck:
    options.setdefault("db", "osv.zip")
    gate = CveCheckGate(CveCheckOptions.model_validate(options), today=lambda: TODAY)
    return gate.evaluate(GateContext(project_root=root))


def test_critical_blocks_with_file_and_line(project: Path) -> None:
    result = check(project)
    assert result.verdict is Verdict.FAILED
    first = result.findings[0]
    assert (first.rule, first.severity, first.path, first.line) == (
        "PYSEC-2099-1", Severity.ERROR, "requirements.txt", 2)
    assert "CVE-2099-0001" in first.message
    assert "fixed in 1.5.0" in first.message
    levels = {f.rule: f.severity for f in result.findings}
    assert levels["PYSEC-2099-3"] is Severity.WARNING
    assert levels["PYSEC-2099-5"] is Severity.NOTE
    assert result.metrics["decision"] == "block"
    assert result.metrics["scanned"] == 4
    assert "1 block" in result.summary
    assert "1 warn" in result.summary
    finding = result.metrics["findings"][0]
    assert {"package", "version", "id", "aliases", "severity", "score", "fixed_in",
            "decision"} <= set(finding)


def test_high_only_warns_and_passes(project: Path) -> None:
    (project / "requirements.txt").write_text("listpkg==1.0\n")
    result = check(project)
    assert result.verdict is Verdict.PASSED
    assert result.metrics["decision"] == "warn"
    assert [f.severity for f in result.findings] == [Severity.WARNING]


def test_policy_options_change_the_decision(project: Path) -> None:
    assert check(project, critical_severity="warn").verdict is Verdict.PASSED
    (project / "requirements.txt").write_text("listpkg==1.0\n")
    assert check(project, high_severity="block").verdict is Verdict.FAILED


def test_inline_ignore_until_expiry(project: Path) -> None:
    ignore = [{"id": "CVE-2099-0001", "reason": "not reachable", "expires": "2099-06-01"}]
    result = check(project, ignore=ignore)
    assert result.verdict is Verdict.PASSED
    assert any("ignored until 2099-06-01" in f.message for f in result.findings)
    gate = CveCheckGate(CveCheckOptions(db="osv.zip", ignore=ignore),
                        today=lambda: dt.date(2099, 6, 2))
    later = gate.evaluate(GateContext(project_root=project))
    assert later.verdict is Verdict.FAILED
    assert any("expired" in note for note in later.metrics["notes"])


def test_ignore_file(project: Path) -> None:
    (project / "cve-ignore.yaml").write_text(
        "ignore:\n  - id: PYSEC-2099-1\n    reason: patched locally\n    expires: 2099-12-31\n")
    assert check(project, ignore="cve-ignore.yaml").verdict is Verdict.PASSED


def test_bad_ignore_file_cannot_run(project: Path) -> None:
    (project / "cve-ignore.yaml").write_text("ignore:\n  - id: PYSEC-2099-1\n")
    with pytest.raises(GateCannotRun, match="reason"):
        check(project, ignore="cve-ignore.yaml")


def test_missing_database_cannot_run_with_a_hint(project: Path) -> None:
    with pytest.raises(GateCannotRun) as caught:
        check(project, db="nope.zip")
    assert "cve db update" in (caught.value.hint or "")
    with pytest.raises(GateCannotRun, match=r"\.safeship/osv/PyPI-all\.zip"):
        CveCheckGate(CveCheckOptions()).evaluate(GateContext(project_root=project))


def test_database_folder_and_default_location(project: Path) -> None:
    write_osv_folder(project / ".safeship" / "osv-folder")
    assert check(project, db=".safeship/osv-folder").verdict is Verdict.FAILED
    target = project / ".safeship" / "osv" / "PyPI-all.zip"
    target.parent.mkdir(parents=True)
    (project / "osv.zip").replace(target)
    gate = CveCheckGate(CveCheckOptions(), today=lambda: TODAY)
    assert gate.evaluate(GateContext(project_root=project)).verdict is Verdict.FAILED


def test_stale_database_cannot_run(project: Path) -> None:
    gate = CveCheckGate(CveCheckOptions(db="osv.zip", max_db_age_days=30),
                        today=lambda: dt.date(2100, 1, 1))
    with pytest.raises(GateCannotRun, match="older than 30 days"):
        gate.evaluate(GateContext(project_root=project))
    assert check(project, max_db_age_days=365).verdict is Verdict.FAILED


def test_unpinned_dependencies(project: Path) -> None:
    (project / "requirements.txt").write_text("listpkg>=1.0\nmedpkg==2.0\n")
    result = check(project)
    assert result.verdict is Verdict.PASSED
    unpinned = [f for f in result.findings if f.rule == "cve_check/unpinned"]
    assert [(f.path, f.line, f.severity) for f in unpinned] == [
        ("requirements.txt", 1, Severity.WARNING)]
    assert result.metrics["decision"] == "warn"
    assert check(project, unpinned="block").verdict is Verdict.FAILED


def test_nothing_pinned_cannot_run(project: Path) -> None:
    (project / "requirements.txt").unlink()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["a>=1"]\n')
    with pytest.raises(GateCannotRun, match="none of the 1 dependencies"):
        check(project)


def test_no_dependency_file_cannot_run(project: Path) -> None:
    (project / "requirements.txt").unlink()
    with pytest.raises(GateCannotRun, match="no dependency file"):
        check(project)


def test_several_requirements_files_and_an_sbom(project: Path) -> None:
    (project / "extra.txt").write_text("lastpkg==2.3\n")
    result = check(project, requirements=["requirements.txt", "extra.txt"])
    assert {"PYSEC-2099-1", "PYSEC-2099-2"} <= {f.rule for f in result.findings}
    assert result.metrics["sources"] == ["requirements.txt", "extra.txt"]
    (project / "sbom.json").write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [\n'
        '  {"type": "library", "name": "lastpkg", "purl": "pkg:pypi/lastpkg@2.3"}\n]}\n')
    from_sbom = check(project, sbom="sbom.json")
    assert [(f.rule, f.path, f.line) for f in from_sbom.findings] == [
        ("PYSEC-2099-2", "sbom.json", 2)]


def test_environment_source(project: Path) -> None:
    result = check(project, environment=True)
    assert result.metrics["sources"] == ["importlib.metadata"]
    assert result.metrics["scanned"] > 10
