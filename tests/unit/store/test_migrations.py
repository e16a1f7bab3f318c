"""Alembic migrations of the state store on SQLite: up, down, up again, and in step with the ORM."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from safeship.store import StateStore, default_database_url
from safeship.store.database import create_engine
from safeship.store.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from tests.store_samples import (
    STORE_TABLES,
    check_migration_cycle,
    realistic_run,
    schema_differences,
    store_tables,
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty SQLite file."""
    created = create_engine(f"sqlite:///{tmp_path}/migrations.db")
    try:
        yield created
    finally:
        created.dispose()


def test_upgrade_downgrade_upgrade(engine: Engine) -> None:
    assert current_revision(engine) is None
    check_migration_cycle(engine)


def test_every_revision_steps_down_and_up_again(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]  # oldest first
    assert revisions[0] == "0001"
    for revision in revisions:
        upgrade(engine, revision)
        assert current_revision(engine) == revision
    for below in [*reversed(revisions[:-1]), None]:
        downgrade(engine, "-1")
        assert current_revision(engine) == below
    assert store_tables(engine) == set()


def test_the_orm_tables_match_the_migrations(engine: Engine) -> None:
    upgrade(engine)
    assert schema_differences(engine) == []


def test_opening_migrates_and_reopening_keeps_the_data(tmp_path: Path) -> None:
    run = realistic_run()
    with StateStore.open(None, tmp_path) as store:
        store.save_run(run)
    with StateStore.open(None, tmp_path) as store:  # already at head: nothing to do
        assert store.get_run(run.run_id) == run
    engine = create_engine(default_database_url(tmp_path))
    try:
        assert current_revision(engine) == head_revision()
        assert store_tables(engine) == STORE_TABLES
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    folder = files("safeship.store").joinpath("migrations")
    for name in ("env.py", "script.py.mako"):
        assert folder.joinpath(name).is_file(), name
    assert folder.joinpath("versions").joinpath("0001_initial.py").is_file()
