"""Loading OSV folders and zips: JSON and YAML, withdrawn skipped, broken files reported."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from safeship.errors import DependencyUnavailable
from safeship.scanners.osv.loader import DatabaseUnavailable, iter_advisories, load_database
from safeship.scanners.osv.records import RecordError, parse_record

from .osv_fixtures import USABLE_RECORDS, write_osv_folder, write_osv_zip


def test_folder_of_json_and_yaml(tmp_path: Path) -> None:
    database = load_database(write_osv_folder(tmp_path / "db"))
    ids = {a.id for a in database.advisories}
    assert len(database.advisories) == USABLE_RECORDS
    assert {"PYSEC-2099-1", "GHSA-aaaa-bbbb-cccc", "PYSEC-2099-3"} <= ids
    assert "PYSEC-2099-4" not in ids
    assert database.stats.withdrawn == 1
    assert database.stats.problem_count == 1
    assert "PYSEC-2099-99" in database.stats.problems[0]
    assert database.stats.newest_modified == "2099-01-02T03:04:05Z"


@pytest.mark.parametrize("prefix", ["", "advisory-database-main/"])
def test_zip_export_and_nested_archive(tmp_path: Path, prefix: str) -> None:
    database = load_database(write_osv_zip(tmp_path / "all.zip", prefix=prefix))
    assert len(database.advisories) == USABLE_RECORDS
    assert database.stats.withdrawn == 1


def test_records_are_streamed_one_by_one(tmp_path: Path) -> None:
    stream = iter_advisories(write_osv_zip(tmp_path / "all.zip"))
    first = next(stream)
    assert first.id
    assert sum(1 for _ in stream) == USABLE_RECORDS - 1


def test_missing_database_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        load_database(tmp_path / "nope.zip")
    assert isinstance(caught.value, DependencyUnavailable)
    assert "cve db update" in (caught.value.hint or "")


def test_empty_folder_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatabaseUnavailable, match="no usable advisory"):
        load_database(tmp_path / "empty")


def test_not_a_zip_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "db.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(DatabaseUnavailable, match="neither a folder nor a readable zip"):
        load_database(path)


def test_only_broken_records_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.json", "{not json")
        archive.writestr("b.json", '{"no": "id"}')
    with pytest.raises(DatabaseUnavailable, match="first problem"):
        load_database(path)


def test_a_file_may_hold_a_list_of_records(tmp_path: Path) -> None:
    path = tmp_path / "db"
    path.mkdir()
    (path / "many.json").write_text(
        '{"vulns": [{"id": "A-1", "affected": []}, {"id": "A-2", "affected": []}]}')
    assert {a.id for a in load_database(path).advisories} == {"A-1", "A-2"}


@pytest.mark.parametrize("raw", [
    {"affected": []},
    {"id": "X", "affected": "nope"},
    {"id": "X", "affected": [{"package": "nope"}]},
    {"id": "X", "affected": [{"package": {}, "ranges": [{"events": "x"}]}]},
    {"id": "X", "affected": [{"package": {}, "versions": "1.0"}]},
])
def test_malformed_records_raise(raw: dict[str, object]) -> None:
    with pytest.raises(RecordError):
        parse_record(raw)


def test_parse_record_keeps_database_severity_and_score() -> None:
    advisory = parse_record({
        "id": "GHSA-1", "aliases": ["GHSA-1", "CVE-1"], "affected": [],
        "database_specific": {"severity": "moderate", "cvss_score": "6.5"},
        "details": "first line\nsecond line",
    })
    assert advisory.aliases == ("CVE-1",)
    assert advisory.database_severity == "MODERATE"
    assert advisory.database_score == 6.5
    assert advisory.summary == "first line"
