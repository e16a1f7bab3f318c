"""The flag store on a real, throwaway PostgreSQL 15 server: schema, round trips, concurrency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from safeship.errors import ConfigError
from safeship.flags import EvaluationContext, FlagType, Prerequisite, changes, evaluate
from safeship.flags.changes import FlagAction
from safeship.flags.codec import flag_to_dict
from safeship.store.database import create_engine
from safeship.store.flags import FlagStore
from safeship.store.migrate import downgrade, upgrade
from tests.store_samples import schema_differences
from tests.unit.store.flag_store_checks import T0, check_concurrent_updates_lose_nothing

pytestmark = pytest.mark.postgres

FLAG_TABLES = {"flags", "flag_changes", "audit_events"}


@pytest.fixture
def flags(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlagStore]:
    """A migrated flag store in a fresh PostgreSQL database."""
    opened = FlagStore.open(postgres_url, tmp_path_factory.mktemp("project"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """An engine on a fresh, empty PostgreSQL database."""
    created = create_engine(postgres_url)
    try:
        yield created
    finally:
        created.dispose()


def test_flag_tables_go_up_down_and_up(engine: Engine) -> None:
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= FLAG_TABLES
    assert schema_differences(engine) == []
    downgrade(engine, "0002")
    assert not FLAG_TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= FLAG_TABLES
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_name IN ('flags', 'flag_changes', 'audit_events')"))
        types = {(str(table), str(column)): str(kind) for table, column, kind in rows}
    # plain json keeps the key order people wrote; audit details may be jsonb
    assert types[("flags", "definition")] == "json"
    assert types[("flag_changes", "after")] == "json"
    assert types[("audit_events", "details")] == "jsonb"
    assert types[("flag_changes", "at")] == "timestamp with time zone"


def test_definitions_round_trip_in_order(flags: FlagStore) -> None:
    flag = changes.new_flag("theme", FlagType.JSON, variants=[
        ("zeta", {"b": 1, "a": [1, 2]}), ("alpha", {"z": None}), ("mid", [])])
    flags.create(flag, actor="ann", reason="new", at=T0)
    stored = flags.get("theme")
    assert stored.flag == flag
    assert stored.flag.variant_names == ("zeta", "alpha", "mid")
    assert list(flag_to_dict(stored.flag)["variants"]["zeta"]) == ["b", "a"]
    assert stored.created_at == T0
    enabled = flags.update("theme", lambda f: changes.enable(f, "production"),
                           action=FlagAction.ENABLE, actor="bob", reason="go", at=T0)
    assert evaluate(enabled.stored.flag, EvaluationContext("u")).value == {"z": None}
    [_, change] = flags.history("theme")
    assert [field.render() for field in change.fields] == [
        "environments.production.enabled: false -> true"]
    assert [event.action for event in flags.audit_events(subject="theme")] == [
        "flag.enable", "flag.create"]


def test_prerequisite_cycles_are_refused(flags: FlagStore) -> None:
    flags.create(changes.new_flag("a"), actor="x", reason="r", at=T0)
    flags.create(changes.set_prerequisites(changes.new_flag("b"), [Prerequisite("a", ("on",))]),
                 actor="x", reason="r", at=T0)
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        flags.update("a", lambda f: changes.set_prerequisites(f, [Prerequisite("b", ("on",))]),
                     action=FlagAction.SET, actor="x", reason="r", at=T0)


def test_concurrent_updates_lose_nothing_on_postgresql(flags: FlagStore) -> None:
    check_concurrent_updates_lose_nothing(flags)
