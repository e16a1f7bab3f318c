"""The flag store on SQLite: definitions, versions, history, audit trail, concurrency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from safeship.errors import ConfigError, InternalError, NotFound, StoreUnavailable, UsageError
from safeship.flags import Flag, FlagType, Prerequisite, changes
from safeship.flags.changes import FlagAction
from safeship.store.database import create_engine
from safeship.store.flags import (
    MAX_ATTEMPTS,
    FlagExists,
    FlagStore,
    VersionConflict,
)
from safeship.store.migrate import downgrade, upgrade
from safeship.store.tables import FlagRow
from tests.unit.store.flag_store_checks import T0, check_concurrent_updates_lose_nothing

FLAG_TABLES = {"flags", "flag_changes", "audit_events"}


@pytest.fixture
def flags(tmp_path: Path) -> Iterator[FlagStore]:
    """A migrated flag store in ``<tmp_path>/.safeship/state.db``."""
    opened = FlagStore.open(None, tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def create(store: FlagStore, flag: Flag) -> None:
    store.create(flag, actor="ann", reason="new", at=T0)


def test_create_get_list(flags: FlagStore) -> None:
    stored = flags.create(changes.new_flag("beta"), actor="ann", reason="launch", at=T0)
    assert (stored.version, stored.created_by, stored.updated_by) == (1, "ann", "ann")
    assert flags.get("beta") == stored
    create(flags, changes.new_flag("alpha", FlagType.STRING, variants=[("a", "x")]))
    assert [s.flag.key for s in flags.list_flags()] == ["alpha", "beta"]
    assert set(flags.flags()) == {"alpha", "beta"}
    [entry] = flags.history("beta")
    assert (entry.version, entry.action, entry.actor, entry.reason) == (1, "create", "ann",
                                                                         "launch")
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["key"] == "beta"
    assert entry.fields == ()
    assert entry.at == T0


def test_a_key_is_created_once(flags: FlagStore) -> None:
    create(flags, changes.new_flag("beta"))
    with pytest.raises(FlagExists, match="already exists"):
        create(flags, changes.new_flag("beta"))
    assert flags.get("beta").version == 1


def test_an_update_records_who_what_when_why(flags: FlagStore) -> None:
    create(flags, changes.new_flag("beta"))
    later = T0 + timedelta(minutes=5)
    result = flags.update("beta", lambda f: changes.enable(f, "production"),
                          action=FlagAction.ENABLE, actor="bob", reason="go live", at=later)
    assert result.changed
    assert result.stored.version == 2
    assert result.stored.flag.environments["production"].enabled
    assert (result.stored.updated_at, result.stored.updated_by) == (later, "bob")
    assert (result.stored.created_at, result.stored.created_by) == (T0, "ann")
    assert flags.get("beta") == result.stored
    entry = flags.history("beta")[-1]
    assert (entry.version, entry.action, entry.actor, entry.reason, entry.at) == (
        2, "enable", "bob", "go live", later)
    assert [field.render() for field in entry.fields] == [
        "environments.production.enabled: false -> true"]
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["environments"]["production"]["enabled"] is False
    assert entry.after["environments"]["production"]["enabled"] is True
    [event, created] = flags.audit_events(subject="beta")
    assert (event.action, event.actor, event.reason, event.subject_type) == (
        "flag.enable", "bob", "go live", "flag")
    assert event.details == {"version": 2, "fields": ["environments.production.enabled"]}
    assert created.action == "flag.create"


def test_a_change_that_changes_nothing_is_not_recorded(flags: FlagStore) -> None:
    create(flags, changes.new_flag("beta"))
    result = flags.update("beta", lambda f: changes.disable(f, "production"),
                          action=FlagAction.DISABLE, actor="bob", reason="noop", at=T0)
    assert not result.changed
    assert result.stored.version == 1
    assert len(flags.history("beta")) == 1
    assert len(flags.audit_events()) == 1


def test_expected_version_guards_against_stale_edits(flags: FlagStore) -> None:
    create(flags, changes.new_flag("beta"))
    flags.update("beta", changes.kill, action=FlagAction.KILL, actor="a", reason="r", at=T0,
                 expected_version=1)
    with pytest.raises(VersionConflict, match="at version 2, not 1"):
        flags.update("beta", changes.unkill, action=FlagAction.UNKILL, actor="b", reason="r",
                     at=T0, expected_version=1)
    assert flags.get("beta").flag.killed


def test_invalid_changes_are_refused_and_leave_nothing(flags: FlagStore) -> None:
    create(flags, changes.new_flag("beta"))
    with pytest.raises(ConfigError, match="unknown variant 'ghost'") as caught:
        flags.update("beta", lambda f: changes.set_default(f, "production", "ghost"),
                     action=FlagAction.SET, actor="a", reason="r", at=T0)
    assert caught.value.diagnostics()[0].startswith(
        "flag 'beta': environments.production.default: unknown variant 'ghost'")
    with pytest.raises(UsageError, match="no variant 'ghost'"):
        flags.update("beta", lambda f: changes.set_off_variant(f, "ghost"),
                     action=FlagAction.SET, actor="a", reason="r", at=T0)
    assert flags.get("beta").version == 1
    assert len(flags.history("beta")) == 1
    with pytest.raises(ConfigError, match="the flag key"):
        create(flags, changes.new_flag("bad key"))


def test_prerequisites_must_exist_and_never_cycle(flags: FlagStore) -> None:
    needs_payments = changes.set_prerequisites(changes.new_flag("checkout"),
                                               [Prerequisite("payments", ("on",))])
    with pytest.raises(ConfigError, match="no flag 'payments'"):
        create(flags, needs_payments)
    create(flags, changes.new_flag("payments"))
    create(flags, needs_payments)
    with pytest.raises(ConfigError, match="cycle: payments -> checkout -> payments"):
        flags.update("payments",
                     lambda f: changes.set_prerequisites(f, [Prerequisite("checkout", ("on",))]),
                     action=FlagAction.SET, actor="a", reason="r", at=T0)
    with pytest.raises(ConfigError, match="'checkout' needs variant 'on'"):
        flags.update("payments", _rename_on, action=FlagAction.SET, actor="a", reason="r",
                     at=T0)


def _rename_on(flag: Flag) -> Flag:
    renamed = changes.set_variants(flag, [("yes", True)])
    renamed = changes.set_default(renamed, "production", "yes")
    return changes.remove_variants(renamed, ["on"])


def test_missing_flags_are_not_found(flags: FlagStore) -> None:
    with pytest.raises(NotFound, match="no flag 'nope'"):
        flags.get("nope")
    with pytest.raises(NotFound):
        flags.update("nope", changes.kill, action=FlagAction.KILL, actor="a", reason="r", at=T0)
    with pytest.raises(NotFound):
        flags.history("nope")


def test_history_limit_and_order(flags: FlagStore) -> None:
    create(flags, changes.new_flag("beta"))
    for number in range(4):
        flags.update("beta", lambda f, n=number: changes.set_rollout(f, "production", n / 10),
                     action=FlagAction.ROLLOUT, actor="a", reason=f"step {number}",
                     at=T0 + timedelta(minutes=number))
    assert [c.version for c in flags.history("beta")] == [1, 2, 3, 4, 5]
    assert [c.reason for c in flags.history("beta", limit=2)] == ["step 2", "step 3"]
    with pytest.raises(UsageError):
        flags.history("beta", limit=0)
    assert len(flags.audit_events(limit=3)) == 3


def test_naive_times_are_refused(flags: FlagStore) -> None:
    with pytest.raises(InternalError, match="timezone-aware"):
        flags.create(changes.new_flag("beta"), actor="a", reason="r",
                     at=datetime(2025, 1, 1))


class _RacingStore(FlagStore):
    """Simulates a writer outside the store's lock: bumps the version between the read and
    the compare-and-swap, ``races`` times."""

    races = 1

    def _check(self, session: Session, new: Flag, current: Flag | None) -> None:
        super()._check(session, new, current)
        if current is not None and self.races > 0:
            self.races -= 1
            session.execute(update(FlagRow).where(FlagRow.key == new.key)
                            .values(version=FlagRow.version + 100))


def test_a_missed_swap_is_retried_from_a_fresh_read(tmp_path: Path) -> None:
    with _RacingStore.open(None, tmp_path) as racing:
        create(racing, changes.new_flag("beta"))
        result = racing.update("beta", changes.kill, action=FlagAction.KILL, actor="a",
                               reason="r", at=T0)
        assert result.stored.version == 2  # the bump was rolled back with the missed attempt
        assert [c.version for c in racing.history("beta")] == [1, 2]
        racing.races = MAX_ATTEMPTS
        with pytest.raises(VersionConflict, match="kept changing"):
            racing.update("beta", changes.unkill, action=FlagAction.UNKILL, actor="a",
                          reason="r", at=T0)
        assert racing.get("beta").version == 2


def test_concurrent_updates_lose_nothing_on_sqlite(flags: FlagStore) -> None:
    check_concurrent_updates_lose_nothing(flags)


def test_the_flag_tables_come_and_go_with_migration_0003(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    try:
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= FLAG_TABLES
        downgrade(engine, "0002")
        assert not FLAG_TABLES & set(inspect(engine).get_table_names())
        assert "releases" in inspect(engine).get_table_names()
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= FLAG_TABLES
    finally:
        engine.dispose()


def test_an_unreachable_store_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="could not open"):
        FlagStore.open(f"sqlite:///{tmp_path}/missing/dir/state.db", tmp_path)


def test_a_closed_store_refuses_use(tmp_path: Path) -> None:
    store = FlagStore.open(None, tmp_path)
    store.close()
    with pytest.raises(InternalError, match="after close"):
        store.list_flags()
