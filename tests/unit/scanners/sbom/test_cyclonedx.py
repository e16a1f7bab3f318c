"""CycloneDX: generated documents validate (1.4-1.6) and hold what the issue asks; tampered or
foreign documents are rejected with every error listed; an SBOM reads back for the CVE scan."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from safeship.errors import UsageError
from safeship.scanners.sbom import (
    Dependency,
    DependencyFileError,
    Distribution,
    FileHash,
    Inventory,
    ProjectInfo,
    generate_sbom,
    read_sbom,
    sbom_timestamp,
    validate_sbom_text,
)

STAMP = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
SHA = "e" * 64

INVENTORY = Inventory(
    project=ProjectInfo("shop", "1.2.0", "a shop", ("MIT",)),
    dependencies=(
        Dependency("requests", "2.32.3", hashes=(FileHash("sha256", SHA),),
                   licenses=("Apache-2.0",), requires=("urllib3", "idna")),
        Dependency("urllib3", "2.2.2", licenses=("MIT License", "BSD License"),
                   distributions=(Distribution("https://files.example/u.whl",
                                               (FileHash("sha256", SHA),)),)),
        Dependency("idna", "3.7", licenses=("BSD-3-Clause OR MIT",),
                   hashes=(FileHash("sha256", "short"), FileHash("whirlpool", SHA))),
        Dependency("Flask_Login", None, specifier=">=0.6"),
    ),
    direct=("requests", "flask-login"),
)


def document(spec: str = "1.6") -> dict[str, Any]:
    generated = generate_sbom(INVENTORY, timestamp=STAMP, spec_version=spec)
    assert generated.validation.valid, generated.validation.problems
    return json.loads(generated.text)


@pytest.mark.parametrize("spec", ["1.4", "1.5", "1.6"])
def test_generated_sbom_is_schema_valid(spec: str) -> None:
    doc = document(spec)
    assert (doc["bomFormat"], doc["specVersion"]) == ("CycloneDX", spec)


def test_contents() -> None:
    doc = document()
    components = {c["name"]: c for c in doc["components"]}
    assert components["requests"]["purl"] == "pkg:pypi/requests@2.32.3"
    assert components["requests"]["bom-ref"] == "pkg:pypi/requests@2.32.3"
    assert components["requests"]["hashes"] == [{"alg": "SHA-256", "content": SHA}]
    assert components["requests"]["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert components["idna"]["licenses"] == [{"expression": "BSD-3-Clause OR MIT"}]
    assert "hashes" not in components["idna"]  # a malformed or unknown hash is left out
    assert components["urllib3"]["licenses"] == [{"license": {"name": "BSD License"}},
                                                 {"license": {"name": "MIT License"}}]
    assert components["urllib3"]["externalReferences"][0]["type"] == "distribution"
    assert components["Flask_Login"]["purl"] == "pkg:pypi/flask-login"
    assert "version" not in components["Flask_Login"]
    metadata = doc["metadata"]
    assert metadata["timestamp"].startswith("2024-05-06T07:08:09")
    assert metadata["tools"]["components"][0]["name"] == "safeship"
    assert (metadata["component"]["name"], metadata["component"]["version"]) == ("shop", "1.2.0")
    graph = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert graph["shop@1.2.0"] == ["pkg:pypi/flask-login", "pkg:pypi/requests@2.32.3"]
    assert graph["pkg:pypi/requests@2.32.3"] == ["pkg:pypi/idna@3.7", "pkg:pypi/urllib3@2.2.2"]
    assert doc["serialNumber"].startswith("urn:uuid:")


def test_generation_is_deterministic_and_reports_unversioned() -> None:
    first = generate_sbom(INVENTORY, timestamp=STAMP)
    second = generate_sbom(INVENTORY, timestamp=STAMP)
    assert first.text == second.text
    assert [d.name for d in first.unversioned] == ["Flask_Login"]
    assert first.components == 4


def test_graph_without_direct_information_uses_roots() -> None:
    inventory = Inventory(ProjectInfo("p"), (Dependency("a", "1", requires=("b",)),
                                             Dependency("b", "1")))
    doc = json.loads(generate_sbom(inventory, timestamp=STAMP).text)
    graph = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert graph["p"] == ["pkg:pypi/a@1"]


def test_timestamp_honours_source_date_epoch() -> None:
    assert sbom_timestamp({"SOURCE_DATE_EPOCH": "0"}, lambda: STAMP).year == 1970
    now = dt.datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    assert sbom_timestamp({}, lambda: now).microsecond == 0


def tampered(change: Any) -> list[str]:
    doc = document()
    change(doc)
    validation = validate_sbom_text(json.dumps(doc))
    assert not validation.valid
    return [p.render() for p in validation.problems]


def test_tampered_sboms_are_rejected_with_every_error_listed() -> None:
    def break_it(doc: dict[str, Any]) -> None:
        doc["components"][0]["type"] = "lib"
        del doc["components"][1]["name"]
        doc["components"][2]["hashes"] = [{"alg": "SHA-256", "content": "xyz"}]
        doc["surprise"] = True

    errors = tampered(break_it)
    joined = "\n".join(errors)
    assert "$.components[0].type: 'lib' is not one of" in joined
    assert "$.components[1]: 'name' is a required property" in joined
    assert "$.components[2].hashes[0].content" in joined
    assert "surprise" in joined
    assert len(errors) >= 4


def test_broken_references_are_rejected() -> None:
    def dangle(doc: dict[str, Any]) -> None:
        doc["dependencies"][0]["dependsOn"] = ["pkg:pypi/ghost@1"]
        doc["components"][1]["bom-ref"] = doc["components"][0]["bom-ref"]

    joined = "\n".join(tampered(dangle))
    assert "'pkg:pypi/ghost@1' names no component" in joined
    assert "is not unique" in joined


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    ('{"bomFormat": "CycloneDX"}', "specVersion"),
])
def test_not_a_cyclonedx_document(text: str, message: str) -> None:
    validation = validate_sbom_text(text)
    assert not validation.valid
    assert message in validation.problems[0].message


def test_unsupported_spec_version() -> None:
    with pytest.raises(UsageError, match=r"1\.2"):
        validate_sbom_text('{"bomFormat": "CycloneDX", "specVersion": "1.2"}')


def test_hand_written_minimal_documents() -> None:
    for spec in ("1.4", "1.5", "1.6"):
        text = json.dumps({"bomFormat": "CycloneDX", "specVersion": spec, "version": 1,
                           "components": [{"type": "library", "name": "x"}]})
        assert validate_sbom_text(text).valid


def test_read_sbom_back_for_the_scan(tmp_path: Path) -> None:
    doc = document()
    doc["components"].append({"type": "library", "name": "left-pad",
                              "purl": "pkg:npm/left-pad@1.3.0"})
    doc["components"].append({"type": "library", "name": "nopurl"})
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps(doc, indent=2))
    inventory = read_sbom(path)
    deps = {d.name: d for d in inventory.dependencies}
    assert deps["requests"].version == "2.32.3"
    assert deps["flask-login"].version is None
    lines = path.read_text().splitlines()
    line = deps["requests"].line
    assert line is not None
    assert "pkg:pypi/requests@2.32.3" in lines[line - 1]
    assert inventory.project.name == "shop"
    assert len(inventory.notes) == 2


def test_read_sbom_refuses_other_documents(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"spdxVersion": "SPDX-2.3"}')
    with pytest.raises(DependencyFileError, match="not a CycloneDX"):
        read_sbom(path)
    with pytest.raises(DependencyFileError, match="not found"):
        read_sbom(tmp_path / "missing.json")
