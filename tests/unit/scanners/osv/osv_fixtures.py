"""A small OSV database generated on the fly: JSON and YAML records, a zip, and known answers.

Every case the matcher must get right has a record here: PEP 503 name spellings, aliases that
merge (a PYSEC record and a GHSA record of one CVE), a withdrawn record, ``last_affected``,
explicit ``versions`` lists, several intervals, a limit, GIT-only ranges, other ecosystems,
CVSS v3.1 vectors with known scores, a v4 vector, database labels, and one broken file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import yaml

V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V31_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
V31_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"  # 5.3
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def _record(ident: str, package: str, *, ranges: list[dict[str, Any]] | None = None,
            versions: list[str] | None = None, aliases: list[str] | None = None,
            severity: list[dict[str, str]] | None = None, ecosystem: str = "PyPI",
            **extra: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": package}}
    if ranges is not None:
        affected["ranges"] = ranges
    if versions is not None:
        affected["versions"] = versions
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": ident,
        "modified": "2099-01-02T03:04:05Z",
        "published": "2099-01-01T00:00:00Z",
        "aliases": aliases or [],
        "summary": f"summary of {ident}",
        "affected": [affected],
        **extra,
    }
    if severity is not None:
        record["severity"] = severity
    return record


def _ecosystem(*events: dict[str, str]) -> list[dict[str, Any]]:
    return [{"type": "ECOSYSTEM", "events": list(events)}]


RECORDS: list[tuple[str, dict[str, Any]]] = [
    # One vulnerability, two records: PYSEC (YAML, CVSS 9.8) and GHSA (JSON, label HIGH).
    ("vulns/demo-pkg/PYSEC-2099-1.yaml", _record(
        "PYSEC-2099-1", "Demo_Pkg",
        ranges=_ecosystem({"introduced": "0"}, {"fixed": "1.5.0"}),
        aliases=["CVE-2099-0001"],
        severity=[{"type": "CVSS_V3", "score": V31_CRITICAL}])),
    ("GHSA-aaaa-bbbb-cccc.json", _record(
        "GHSA-aaaa-bbbb-cccc", "demo.pkg",
        ranges=_ecosystem({"introduced": "1.0"}, {"fixed": "1.5.0"}),
        aliases=["CVE-2099-0001"],
        database_specific={"severity": "HIGH"})),
    # Withdrawn: would match every demo-pkg version, must be ignored.
    ("vulns/demo-pkg/PYSEC-2099-4.yaml", _record(
        "PYSEC-2099-4", "demo-pkg", ranges=_ecosystem({"introduced": "0"}),
        withdrawn="2099-02-01T00:00:00Z",
        severity=[{"type": "CVSS_V3", "score": V31_CRITICAL}])),
    # last_affected is inclusive; no severity at all (unknown).
    ("vulns/lastpkg/PYSEC-2099-2.yaml", _record(
        "PYSEC-2099-2", "lastpkg",
        ranges=_ecosystem({"introduced": "2.0"}, {"last_affected": "2.3"}))),
    # Only an explicit versions list; CVSS 7.5 (high).
    ("PYSEC-2099-3.json", _record(
        "PYSEC-2099-3", "listpkg", versions=["0.9", "1.0"],
        severity=[{"type": "CVSS_V3", "score": V31_HIGH}])),
    # CVSS 5.3 (medium).
    ("vulns/medpkg/PYSEC-2099-5.yaml", _record(
        "PYSEC-2099-5", "medpkg", ranges=_ecosystem({"introduced": "0"}, {"fixed": "3.0"}),
        severity=[{"type": "CVSS_V3", "score": V31_MEDIUM}])),
    # Two intervals in one range, events out of order.
    ("PYSEC-2099-6.json", _record(
        "PYSEC-2099-6", "multi",
        ranges=_ecosystem({"introduced": "2.0"}, {"fixed": "2.1"}, {"introduced": "1.0"},
                          {"fixed": "1.2"}))),
    # CVSS v4 vector only, but a database label: critical.
    ("GHSA-v4v4-v4v4-v4v4.json", _record(
        "GHSA-v4v4-v4v4-v4v4", "vfour", ranges=_ecosystem({"introduced": "0"}),
        severity=[{"type": "CVSS_V4", "score": V40}],
        database_specific={"severity": "CRITICAL"})),
    # CVSS v4 vector only, nothing else: unknown.
    ("GHSA-v4v4-0000-0000.json", _record(
        "GHSA-v4v4-0000-0000", "vfour-bare", ranges=_ecosystem({"introduced": "0"}),
        severity=[{"type": "CVSS_V4", "score": V40}])),
    # Another ecosystem with the same name: must not match PyPI's demo-pkg.
    ("npm/GHSA-nnnn-nnnn-nnnn.json", _record(
        "GHSA-nnnn-nnnn-nnnn", "demo-pkg", ecosystem="npm",
        ranges=[{"type": "SEMVER", "events": [{"introduced": "0"}]}],
        severity=[{"type": "CVSS_V3", "score": V31_CRITICAL}])),
    # GIT ranges only: cannot be matched, reported as a note.
    ("vulns/gitonly/PYSEC-2099-7.yaml", _record(
        "PYSEC-2099-7", "gitonly",
        ranges=[{"type": "GIT", "repo": "https://example.invalid/x",
                 "events": [{"introduced": "0"}, {"fixed": "abcdef0"}]}])),
]
BROKEN = ("vulns/broken/PYSEC-2099-99.yaml", "id: [unclosed\n  - : :\n")

USABLE_RECORDS = len(RECORDS) - 1  # minus the withdrawn one


def _dump(name: str, record: dict[str, Any]) -> str:
    if name.endswith(".json"):
        return json.dumps(record, indent=1)
    return yaml.safe_dump(record, sort_keys=False)


def write_osv_folder(root: Path, *, broken: bool = True) -> Path:
    """The fixture as a folder of JSON and YAML files (PyPA and OSV layouts mixed)."""
    for name, record in RECORDS:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(name, record), encoding="utf-8")
    if broken:
        path = root / BROKEN[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BROKEN[1], encoding="utf-8")
    return root


def write_osv_zip(path: Path, *, broken: bool = True, prefix: str = "") -> Path:
    """The fixture as a zip (``prefix`` nests it, as a GitHub archive of the PyPA repo does)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, record in RECORDS:
            archive.writestr(prefix + name, _dump(name, record))
        if broken:
            archive.writestr(prefix + BROKEN[0], BROKEN[1])
        archive.writestr(prefix + "README.md", "not a record\n")
    return path
