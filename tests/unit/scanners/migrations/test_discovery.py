"""Discovery: the usual places of every framework, what is skipped, and bad paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.errors import NotFound, UsageError
from safeship.scanners.migrations import Framework, discovery
from safeship.scanners.migrations.discovery import find_candidates

from .migration_files import check, write

ALEMBIC = 'revision = "{rev}"\ndown_revision = None\n\n\ndef upgrade():\n    pass\n\n\n' \
    "def downgrade():\n    pass\n"
DJANGO = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n" \
    "    operations = []\n"


def test_the_usual_places_of_every_framework(tmp_path: Path) -> None:
    write(tmp_path, {
        "migrations/versions/001_flask.py": ALEMBIC.format(rev="f1"),
        "db/migration/V1__flyway.sql": "SELECT 1;\n",
        "db/migration/U1__flyway.sql": "SELECT 1;\n",
        "migrations/1_golang.up.sql": "SELECT 1;\n",
        "migrations/1_golang.down.sql": "SELECT 1;\n",
        "db/migrations/20240101_dbmate.sql": "-- migrate:up\n-- migrate:down\n",
        "shop/migrations/0001_initial.py": DJANGO,
        "src/pkg/store/migrations/versions/0001_deep.py": ALEMBIC.format(rev="d1"),
    })
    report = check(tmp_path)
    assert sorted((m.framework.value, m.up.file) for m in report.migrations) == [
        ("alembic", "migrations/versions/001_flask.py"),
        ("alembic", "src/pkg/store/migrations/versions/0001_deep.py"),
        ("dbmate", "db/migrations/20240101_dbmate.sql"),
        ("django", "shop/migrations/0001_initial.py"),
        ("flyway", "db/migration/V1__flyway.sql"),
        ("golang-migrate", "migrations/1_golang.up.sql"),
    ]
    assert report.passed


def test_alembic_ini_script_location_names_a_custom_folder(tmp_path: Path) -> None:
    write(tmp_path, {
        "alembic.ini": "[alembic]\nscript_location = %(here)s/schema\n",
        "schema/versions/a_1.py": ALEMBIC.format(rev="a1"),
        "other/revs/b_1.py": ALEMBIC.format(rev="b1"),
        "pyproject.toml": '[tool.alembic]\nscript_location = "db"\n'
                          'version_locations = ["other/revs"]\n',
    })
    report = check(tmp_path)
    assert sorted(m.name for m in report.migrations) == ["a1", "b1"]


def test_package_resource_locations_are_noted(tmp_path: Path) -> None:
    write(tmp_path, {"alembic.ini": "[alembic]\nscript_location = myapp:migrations\n"})
    report = check(tmp_path)
    assert any("package resource" in note for note in report.notes)


def test_hidden_vendored_and_test_folders_are_skipped(tmp_path: Path) -> None:
    flyway = {"V1__x.sql": "DROP TABLE a;\n"}
    for folder in (".git/db", "node_modules/pkg", "tests/data", "venv/lib", "build", "sub/env"):
        write(tmp_path / folder, flyway)
    write(tmp_path / "someenv", {"pyvenv.cfg": "home = /usr\n", **flyway})
    report = check(tmp_path)
    assert report.migrations == ()
    # Named directly, a skipped folder is checked.
    assert len(check(tmp_path, "tests/data").migrations) == 1


def test_a_file_path_brings_its_rollback_file_along(tmp_path: Path) -> None:
    write(tmp_path, {"x/V1__a.sql": "SELECT 1;\n", "x/U1.0__a_undo.sql": "SELECT 1;\n",
                     "x/V2__b.sql": "SELECT 1;\n", "x/U2__b.sql": "SELECT 1;\n",
                     "g/7_c.up.sql": "SELECT 1;\n", "g/007_c.down.sql": "SELECT 1;\n",
                     "g/8_d.up.sql": "SELECT 1;\n"})
    report = check(tmp_path, "x/V1__a.sql")
    assert [m.name for m in report.migrations] == ["V1__a"]
    assert report.migrations[0].down is not None
    assert report.findings == ()
    undo = check(tmp_path, "x/U2__b.sql")
    assert [m.name for m in undo.migrations] == ["V2__b"]
    golang = check(tmp_path, "g/007_c.down.sql")
    assert [m.name for m in golang.migrations] == ["7_c"]
    assert golang.findings == ()
    lone = check(tmp_path, "g/8_d.up.sql")
    assert [f.rule.value for f in lone.findings] == ["missing_rollback"]


def test_several_paths_and_overlaps_count_each_file_once(tmp_path: Path) -> None:
    write(tmp_path, {"a/V1__a.sql": "SELECT 1;\n", "a/U1__a.sql": "SELECT 1;\n"})
    report = check(tmp_path, "a", "a/V1__a.sql", "a")
    assert [m.name for m in report.migrations] == ["V1__a"]


def test_missing_path_and_non_migration_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        find_candidates([tmp_path / "nope"])
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UsageError, match="not a migration file"):
        find_candidates([tmp_path / "notes.txt"])


def test_the_search_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(5):
        (tmp_path / f"d{index}").mkdir()
    monkeypatch.setattr(discovery, "MAX_DIRS", 3)
    found = find_candidates([tmp_path])
    assert any("stopped searching after 3 folders" in note for note in found.notes)


def test_depth_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a/b/c/V1__deep.sql": "SELECT 1;\n", "a/V1__shallow.sql": "SELECT 1;\n"})
    monkeypatch.setattr(discovery, "MAX_DEPTH", 1)
    found = find_candidates([tmp_path])
    assert [p.name for p in found.sql] == ["V1__shallow.sql"]


def test_python_files_outside_migration_folders_are_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/model.py": ALEMBIC.format(rev="x1"),
                     "pkg/migrations/__init__.py": "",
                     "top.py": ALEMBIC.format(rev="t1")})
    found = find_candidates([tmp_path])
    assert sorted(p.name for p in found.python) == ["top.py"]  # the root itself is a candidate
    assert [m.framework for m in check(tmp_path).migrations] == [Framework.ALEMBIC]
