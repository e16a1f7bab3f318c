"""The ignore list: YAML and TOML files, required reason and expiry, clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from safeship.errors import ConfigError, NotFound
from safeship.scanners.osv.ignores import check, load_ignore_file, parse_entries


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "ignore.yaml"
    path.write_text("ignore:\n  - id: PYSEC-1\n    reason: not used\n    expires: 2099-01-31\n"
                    "    package: Demo_Pkg\n")
    (entry,) = load_ignore_file(path)
    assert (entry.id, entry.reason, entry.expires, entry.package) == (
        "PYSEC-1", "not used", dt.date(2099, 1, 31), "Demo_Pkg")
    assert entry.covers(["pysec-1"], "demo-pkg")
    assert not entry.covers(["PYSEC-1"], "other")


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "ignore.toml"
    path.write_text('[[ignore]]\nid = "CVE-1"\nreason = "r"\nexpires = 2099-01-31\n'
                    '[[ignore]]\nid = "CVE-2"\nreason = "r"\nexpires = "2099-02-01"\n')
    assert [e.id for e in load_ignore_file(path)] == ["CVE-1", "CVE-2"]


def test_a_bare_list_is_accepted() -> None:
    entries = parse_entries([{"id": "A", "reason": "b", "expires": "2099-01-01"}])
    assert entries[0].expires == dt.date(2099, 1, 1)


def test_every_problem_is_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_entries({"ignore": [{"id": "A"}, {"reason": "x", "expires": "soon"}, "nope",
                                  {"id": "B", "reason": "r", "expires": "2099-01-01",
                                   "until": 1}]}, "ignore.yaml")
    text = "\n".join(caught.value.diagnostics())
    for expected in ("ignore[0].reason", "ignore[0].expires", "ignore[1].id",
                     "ignore[1].expires", "ignore[2]", "ignore[3].until"):
        assert expected in text


def test_not_a_list() -> None:
    with pytest.raises(ConfigError, match="expected a list"):
        parse_entries({"ignore": "CVE-1"})


def test_missing_file_and_bad_syntax(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_ignore_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("ignore: [\n")
    with pytest.raises(ConfigError) as caught:
        load_ignore_file(bad)
    assert caught.value.problems[0].location.line is not None


def test_check_prefers_an_active_entry() -> None:
    entries = parse_entries([
        {"id": "A", "reason": "old", "expires": "2099-01-01"},
        {"id": "A", "reason": "new", "expires": "2099-12-31"},
    ])
    applied = check(entries, ["A"], "pkg", dt.date(2099, 6, 1))
    assert applied.entry is not None
    assert applied.entry.reason == "new"
    expired = check(entries, ["A"], "pkg", dt.date(2100, 1, 1))
    assert expired.entry is None
    assert expired.expired is not None
    assert check(entries, ["B"], "pkg", dt.date(2099, 6, 1)) == check([], [], "pkg",
                                                                      dt.date(2099, 6, 1))
