"""``safeship sbom`` and ``safeship cve`` end to end: files written, formats, exit codes.

The sub-apps are mounted on a local Typer app in place of the real one, so these tests run
whether or not ``cli/app.py`` registers them yet; errors still go through the real
``safeship.cli.app.run`` and its exit-code mapping.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import typer

import safeship.cli.app as cli_app
from safeship.cli import cve_cmd, sbom_cmd
from tests.e2e.conftest import CliRunner
from tests.unit.gates.http_fixture import Reply, closed_port_url, running_server
from tests.unit.scanners.osv.osv_fixtures import USABLE_RECORDS, write_osv_zip

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas" / "sarif-schema-2.1.0.json"
SHA = "a" * 64


@pytest.fixture(autouse=True)
def _local_app(monkeypatch: pytest.MonkeyPatch) -> None:
    local = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                        add_completion=False)
    local.add_typer(sbom_cmd.app, name="sbom")
    local.add_typer(cve_cmd.app, name="cve")
    monkeypatch.setattr(cli_app, "app", local)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "2.0.0"\ndependencies = ["demo-pkg"]\n')
    (root / "requirements.txt").write_text(
        f"# runtime pins\ndemo_pkg==1.2 \\\n    --hash=sha256:{SHA}\nlistpkg==1.0\nsafe==3.0\n")
    write_osv_zip(root / "osv.zip")
    return root


def test_sbom_written_then_validated(cli: CliRunner, project: Path) -> None:
    out = project / "sbom.json"
    result = cli("sbom", str(project), "-o", str(out))
    assert result.code == 0, result.err
    assert "schema-valid" in result.err
    doc = json.loads(out.read_text())
    assert doc["specVersion"] == "1.6"
    assert doc["metadata"]["component"]["name"] == "shop"
    assert {c["purl"] for c in doc["components"]} == {
        "pkg:pypi/demo-pkg@1.2", "pkg:pypi/listpkg@1.0", "pkg:pypi/safe@3.0"}
    checked = cli("sbom", "validate", str(out))
    assert checked.code == 0
    assert "valid CycloneDX 1.6" in checked.out


def test_sbom_to_stdout_and_older_spec(cli: CliRunner, project: Path) -> None:
    result = cli("sbom", str(project / "requirements.txt"), "--spec-version", "1.4")
    assert result.code == 0
    assert json.loads(result.out)["specVersion"] == "1.4"


def test_sbom_of_the_environment(cli: CliRunner, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("sbom", "--environment", "-o", "env.json")
    assert result.code == 0, result.err
    doc = json.loads((tmp_path / "env.json").read_text())
    assert any(c["name"] == "packageurl-python" for c in doc["components"])
    assert cli("sbom", "validate", "env.json").code == 0


def test_sbom_bad_input(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    assert cli("sbom", str(project), "--environment").code == 2
    assert cli("sbom", str(tmp_path / "missing")).code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("sbom", str(empty))
    assert result.code == 2
    assert "no dependency file" in result.err


def test_tampered_sbom_is_invalid_with_errors_listed(cli: CliRunner, project: Path) -> None:
    out = project / "sbom.json"
    assert cli("sbom", str(project), "-o", str(out)).code == 0
    doc = json.loads(out.read_text())
    doc["components"][0]["type"] = "lib"
    doc["dependencies"][0]["ref"] = "ghost"
    out.write_text(json.dumps(doc))
    result = cli("sbom", "validate", str(out))
    assert result.code == 1
    assert "INVALID" in result.out
    assert "$.components[0].type" in result.out
    assert "'ghost' names no component" in result.out
    as_json = cli("sbom", "validate", str(out), "--format", "json")
    assert as_json.code == 1
    report = json.loads(as_json.out)
    assert report["valid"] is False
    assert len(report["errors"]) >= 2


def test_validate_bad_files(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("sbom", "validate", str(tmp_path / "missing.json")).code == 2
    old = tmp_path / "old.json"
    old.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.2"}')
    result = cli("sbom", "validate", str(old))
    assert result.code == 2
    assert "not supported" in result.err
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert cli("sbom", "validate", str(junk)).code == 1


def test_cve_scan_json_blocks_on_critical(cli: CliRunner, project: Path) -> None:
    result = cli("cve", "scan", "-C", str(project), "-r", str(project / "requirements.txt"),
                 "--db", str(project / "osv.zip"), "--format", "json")
    assert result.code == 1, result.err
    report = json.loads(result.out)
    assert report["decision"] == "block"
    first = report["findings"][0]
    assert {k: first[k] for k in ("package", "version", "id", "aliases", "severity", "score",
                                  "fixed_in", "decision")} == {
        "package": "demo_pkg", "version": "1.2", "id": "PYSEC-2099-1",
        "aliases": ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"], "severity": "critical",
        "score": 9.8, "fixed_in": ["1.5.0"], "decision": "block"}
    assert first["location"] == {"path": "requirements.txt", "line": 2}
    assert report["findings"][1]["decision"] == "warn"


def test_cve_scan_sarif_has_locations(cli: CliRunner, project: Path) -> None:
    result = cli("cve", "scan", "-C", str(project), "--db", str(project / "osv.zip"),
                 "--format", "sarif")
    assert result.code == 1
    sarif = json.loads(result.out)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    results = sarif["runs"][0]["results"]
    first = results[0]
    assert first["ruleId"] == "PYSEC-2099-1"
    assert first["level"] == "error"
    region = first["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "requirements.txt"
    assert region["region"]["startLine"] == 2
    assert {r["level"] for r in results} >= {"error", "warning"}


def test_cve_scan_table_and_warn_only_passes(cli: CliRunner, project: Path) -> None:
    (project / "requirements.txt").write_text("listpkg==1.0\n")
    result = cli("cve", "scan", "-C", str(project), "--db", str(project / "osv.zip"))
    assert result.code == 0
    assert "WARN" in result.out
    assert "PYSEC-2099-3" in result.out
    assert "decision: warn" in result.out
    strict = cli("cve", "scan", "-C", str(project), "--db", str(project / "osv.zip"),
                 "--high-severity", "block")
    assert strict.code == 1


def test_cve_scan_of_an_sbom_and_with_ignores(cli: CliRunner, project: Path) -> None:
    sbom = project / "sbom.json"
    assert cli("sbom", str(project), "-o", str(sbom)).code == 0
    result = cli("cve", "scan", "-C", str(project), "--sbom", str(sbom), "--db",
                 str(project / "osv.zip"), "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["findings"][0]["location"]["path"] == "sbom.json"
    ignore = project / "ignore.yaml"
    ignore.write_text("ignore:\n  - id: CVE-2099-0001\n    reason: not reachable\n"
                      "    expires: 2999-01-01\n")
    accepted = cli("cve", "scan", "-C", str(project), "--db", str(project / "osv.zip"),
                   "--ignore", str(ignore), "--format", "json")
    assert accepted.code == 0
    decisions = {f["id"]: f["decision"] for f in json.loads(accepted.out)["findings"]}
    assert decisions["PYSEC-2099-1"] == "ignored"


def test_cve_scan_exit_codes_for_bad_input_and_missing_db(cli: CliRunner, project: Path) -> None:
    missing_db = cli("cve", "scan", "-C", str(project), "--db", str(project / "nope.zip"))
    assert missing_db.code == 3
    assert "cve db update" in missing_db.err
    default_db = cli("cve", "scan", "-C", str(project))
    assert default_db.code == 3
    missing_req = cli("cve", "scan", "-C", str(project), "-r", str(project / "nope.txt"),
                      "--db", str(project / "osv.zip"))
    assert missing_req.code == 2
    bad_ignore = project / "bad.yaml"
    bad_ignore.write_text("ignore:\n  - id: X\n")
    assert cli("cve", "scan", "-C", str(project), "--db", str(project / "osv.zip"),
               "--ignore", str(bad_ignore)).code == 2
    assert cli("cve", "scan", "--format", "xml").code == 2


def test_db_update_from_a_local_server_then_scan(cli: CliRunner, project: Path,
                                                 tmp_path: Path) -> None:
    payload = write_osv_zip(tmp_path / "export.zip").read_bytes()
    with running_server() as server:
        url = server.reply("/PyPI/all.zip", Reply(200, payload, content_type="application/zip"))
        result = cli("cve", "db", "update", "-C", str(project), "--url", url)
    assert result.code == 0, result.err
    assert f"{USABLE_RECORDS} advisories" in result.err
    default = project / ".safeship" / "osv" / "PyPI-all.zip"
    assert default.is_file()
    assert cli("cve", "scan", "-C", str(project)).code == 1


def test_db_update_offline_is_exit_3(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("cve", "db", "update", "-o", str(tmp_path / "db.zip"), "--url",
                 closed_port_url("/all.zip"), "--timeout", "5")
    assert result.code == 3
    assert "cannot download" in result.err
    assert "--db" in result.err
    assert not (tmp_path / "db.zip").exists()
