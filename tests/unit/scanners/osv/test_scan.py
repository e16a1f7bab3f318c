"""Scanning: names, alias merging, severity, fixes, decisions, ignores and the JSON shape."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from safeship.scanners.osv import (
    AdvisoryIndex,
    Decision,
    IgnoreEntry,
    ScanTarget,
    SeverityLevel,
    SeverityPolicy,
    load_database,
    scan,
)

from .osv_fixtures import write_osv_folder, write_osv_zip

TODAY = dt.date(2099, 6, 1)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> AdvisoryIndex:
    root = tmp_path_factory.mktemp("osv")
    return AdvisoryIndex(load_database(write_osv_folder(root / "db")).advisories)


def one(index: AdvisoryIndex, name: str, version: str, **kwargs: object):
    report = scan([ScanTarget(name, version, "requirements.txt", 3)], index, today=TODAY,
                  **kwargs)  # type: ignore[arg-type]
    return report


@pytest.mark.parametrize("spelling", ["demo-pkg", "Demo_Pkg", "DEMO.pkg", "demo__pkg"])
def test_pep503_names_match_any_spelling(index: AdvisoryIndex, spelling: str) -> None:
    report = one(index, spelling, "1.2")
    assert [f.id for f in report.findings] == ["PYSEC-2099-1"]
    assert report.findings[0].package == spelling


def test_aliases_merge_into_one_finding_with_the_worst_severity(index: AdvisoryIndex) -> None:
    finding = one(index, "demo-pkg", "1.2").findings[0]
    assert finding.id == "PYSEC-2099-1"
    assert finding.aliases == ("CVE-2099-0001", "GHSA-aaaa-bbbb-cccc")
    assert finding.severity.level is SeverityLevel.CRITICAL
    assert finding.severity.score == 9.8
    assert finding.fixed_in == ("1.5.0",)
    assert finding.decision is Decision.BLOCK
    assert (finding.path, finding.line) == ("requirements.txt", 3)


def test_only_one_record_of_a_pair_may_match(index: AdvisoryIndex) -> None:
    # 0.5 is in PYSEC's range (introduced 0) but before GHSA's (introduced 1.0).
    finding = one(index, "demo-pkg", "0.5").findings[0]
    assert finding.id == "PYSEC-2099-1"
    assert finding.aliases == ("CVE-2099-0001",)


def test_fixed_version_and_withdrawn_and_other_ecosystems_do_not_match(
        index: AdvisoryIndex) -> None:
    report = one(index, "demo-pkg", "1.5.0")
    assert report.findings == ()
    assert report.decision is Decision.PASS
    assert report.scanned == 1


def test_last_affected_and_versions_lists(index: AdvisoryIndex) -> None:
    assert [f.id for f in one(index, "lastpkg", "2.3").findings] == ["PYSEC-2099-2"]
    assert one(index, "lastpkg", "2.3.1").findings == ()
    listed = one(index, "listpkg", "1.0.0").findings
    assert [(f.id, f.severity.level, f.decision) for f in listed] == [
        ("PYSEC-2099-3", SeverityLevel.HIGH, Decision.WARN)]


def test_default_policy(index: AdvisoryIndex) -> None:
    targets = [ScanTarget(n, v) for n, v in
               (("demo-pkg", "1.0"), ("listpkg", "0.9"), ("medpkg", "2.0"), ("lastpkg", "2.1"))]
    report = scan(targets, index, today=TODAY)
    decisions = {f.package: (f.severity.level.value, f.decision.value) for f in report.findings}
    assert decisions == {
        "demo-pkg": ("critical", "block"),
        "listpkg": ("high", "warn"),
        "medpkg": ("medium", "pass"),
        "lastpkg": ("unknown", "warn"),
    }
    assert report.decision is Decision.BLOCK
    assert next(f.package for f in report.findings) == "demo-pkg"  # worst first


def test_policy_is_configurable(index: AdvisoryIndex) -> None:
    policy = SeverityPolicy(critical=Decision.WARN, unknown=Decision.BLOCK)
    assert one(index, "demo-pkg", "1.0", policy=policy).decision is Decision.WARN
    assert one(index, "lastpkg", "2.2", policy=policy).decision is Decision.BLOCK
    lenient = SeverityPolicy(unknown=Decision.PASS, high=Decision.PASS)
    assert one(index, "lastpkg", "2.2", policy=lenient).decision is Decision.PASS


def test_cvss_v4_uses_the_database_label_or_stays_unknown(index: AdvisoryIndex) -> None:
    labelled = one(index, "vfour", "1.0").findings[0]
    assert (labelled.severity.level, labelled.severity.score) == (SeverityLevel.CRITICAL, None)
    bare = one(index, "vfour-bare", "1.0").findings[0]
    assert bare.severity.level is SeverityLevel.UNKNOWN
    assert bare.decision is Decision.WARN


def test_several_intervals_report_the_right_fix(index: AdvisoryIndex) -> None:
    assert one(index, "multi", "1.5").findings == ()
    assert one(index, "multi", "2.0.5").findings[0].fixed_in == ("2.1",)


def test_git_only_advisories_are_noted(index: AdvisoryIndex) -> None:
    report = one(index, "gitonly", "1.0")
    assert report.findings == ()
    assert any("PYSEC-2099-7" in note for note in report.notes)


def test_unpinned_and_duplicates(index: AdvisoryIndex) -> None:
    report = scan([ScanTarget("demo-pkg", "1.2", "a.txt", 1),
                   ScanTarget("Demo_Pkg", "1.2", "b.txt", 9),
                   ScanTarget("requests", None, "a.txt", 2)], index, today=TODAY)
    assert report.scanned == 1
    assert len(report.findings) == 1
    assert report.findings[0].path == "a.txt"
    assert [t.name for t in report.unpinned] == ["requests"]


def test_ignore_until_the_expiry_date_then_counts_again(index: AdvisoryIndex) -> None:
    entry = IgnoreEntry("CVE-2099-0001", "not reachable", dt.date(2099, 6, 1))
    on_the_day = scan([ScanTarget("demo-pkg", "1.2")], index, ignores=[entry],
                      today=dt.date(2099, 6, 1))
    assert on_the_day.findings[0].decision is Decision.IGNORED
    assert on_the_day.findings[0].ignore == entry
    assert on_the_day.decision is Decision.PASS
    day_after = scan([ScanTarget("demo-pkg", "1.2")], index, ignores=[entry],
                     today=dt.date(2099, 6, 2))
    assert day_after.findings[0].decision is Decision.BLOCK
    assert day_after.findings[0].expired_ignore == entry
    assert any("expired on 2099-06-01" in n for n in day_after.notes)
    assert day_after.decision is Decision.BLOCK


def test_ignore_restricted_to_a_package_and_unused_entries(index: AdvisoryIndex) -> None:
    other = IgnoreEntry("PYSEC-2099-1", "other package", dt.date(2100, 1, 1), package="else")
    report = scan([ScanTarget("demo-pkg", "1.2")], index, ignores=[other], today=TODAY)
    assert report.findings[0].decision is Decision.BLOCK
    assert report.unused_ignores == (other,)


def test_json_shape(index: AdvisoryIndex) -> None:
    report = one(index, "demo-pkg", "1.2")
    data = report.to_json()
    assert data["decision"] == "block"
    finding = data["findings"][0]
    assert {"package", "version", "id", "aliases", "severity", "score", "fixed_in",
            "decision"} <= set(finding)
    assert finding["location"] == {"path": "requirements.txt", "line": 3}


def test_zip_and_folder_give_the_same_answers(tmp_path: Path, index: AdvisoryIndex) -> None:
    from_zip = AdvisoryIndex(load_database(write_osv_zip(tmp_path / "all.zip")).advisories)
    targets = [ScanTarget("demo-pkg", "1.2"), ScanTarget("lastpkg", "2.3"),
               ScanTarget("listpkg", "1.0")]
    assert scan(targets, from_zip, today=TODAY).to_json() == scan(
        targets, index, today=TODAY).to_json()


def test_index_compiles_lazily_and_counts(index: AdvisoryIndex) -> None:
    assert index.package_count >= 8
    assert index.other_ecosystems == 1
    index.compile_all()
    assert index.entries("nothing-here") == ()
