"""The rollout history, counted from a real SQLite state store written through its own API."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from safeship.assess.history_evidence import collect_history, no_history
from safeship.errors import StoreUnavailable
from safeship.store.database import create_engine
from safeship.store.migrate import current_revision, upgrade
from safeship.store.rollouts import RolloutStore
from safeship.store.urls import default_database_url
from tests.unit.assess.rollout_history import T0, record, refuse


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose default store holds a realistic mix of releases of 'shop'."""
    with RolloutStore.open(None, tmp_path) as store:
        def at(minutes: int) -> datetime:
            return T0 + timedelta(minutes=minutes)
        record(store, "r1", at=at(0), decision="promoted", slo_checked=True)
        record(store, "r2", at=at(1), decision="rolled_back", rollback_seconds=0.42,
               rollback={"reached": 2, "verdict": {"decision": "rollback"}})
        record(store, "r3", at=at(2), decision="rolled_back", rollback_seconds=1.5,
               rollback={"reached": 1})  # a failed health gate, not the judge
        record(store, "r4", at=at(3), decision="promoted", commands=["pause", "resume"])
        record(store, "r5", at=at(4), decision="aborted", commands=["abort"],
               rollback={"reached": 1})
        record(store, "r6", at=at(5), kind="undo", decision="promoted")
        refuse(store, "r8", at=at(7))
        record(store, "r7", at=at(8))  # still running
        record(store, "o1", at=at(0), service="other", decision="promoted")
    return tmp_path


def test_releases_are_counted_by_how_they_ended(project: Path) -> None:
    facts = collect_history(project, "shop", None)
    assert facts.available
    assert facts.source == default_database_url(project)
    assert facts.note == "8 release(s) of 'shop' in the store"
    assert (facts.releases, facts.active, facts.finished) == (8, 1, 7)
    assert (facts.promotions, facts.zero_touch_promotions) == (2, 1)
    assert (facts.automatic_rollbacks, facts.analysis_rollbacks) == (2, 1)
    assert (facts.aborted, facts.manual_undos) == (1, 1)
    assert (facts.slo_refusals, facts.slo_checked) == (1, 1)
    # r1, r2, r3 and the SLO refusal r8 needed nobody; r4, r5 (commands) and r6 (undo) did.
    assert (facts.zero_touch, facts.human_touched) == (4, 3)
    assert facts.zero_touch_share == pytest.approx(4 / 7)
    assert sorted(facts.rollback_seconds) == [0.42, 1.5]
    assert facts.median_rollback_seconds == pytest.approx(0.96)


def test_only_the_named_service_counts(project: Path) -> None:
    other = collect_history(project, "other", None)
    assert (other.releases, other.zero_touch, other.promotions) == (1, 1, 1)
    nobody = collect_history(project, "ghost", None)
    assert nobody.available
    assert nobody.releases == 0
    assert nobody.note == "no release of 'ghost' in the store"
    assert nobody.zero_touch_share is None
    assert nobody.median_rollback_seconds is None


def test_an_explicit_url_wins_over_the_project_default(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "empty-project"
    elsewhere.mkdir()
    facts = collect_history(elsewhere, "shop", default_database_url(project))
    assert facts.releases == 8


def test_no_store_is_no_history_and_creates_nothing(tmp_path: Path) -> None:
    facts = collect_history(tmp_path, "shop", None)
    assert not facts.available
    assert facts.note.startswith("no state store at ")
    assert not (tmp_path / ".safeship").exists()
    missing_url = f"sqlite:///{tmp_path / 'nowhere' / 'state.db'}"
    assert not collect_history(tmp_path, "shop", missing_url).available
    assert not (tmp_path / "nowhere").exists()


def test_an_empty_or_older_database_is_no_history_and_is_not_migrated(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    facts = collect_history(tmp_path, "shop", f"sqlite:///{empty}")
    assert not facts.available
    assert facts.note == "the state store holds no rollouts yet"
    older = tmp_path / "older.db"
    engine = create_engine(f"sqlite:///{older}")
    upgrade(engine, "0001")  # pipeline runs only: from before rollouts were stored
    assert not collect_history(tmp_path, "shop", f"sqlite:///{older}").available
    assert current_revision(engine) == "0001"
    assert not inspect(engine).has_table("releases")
    engine.dispose()


def test_an_unreadable_store_is_a_dependency_error(tmp_path: Path) -> None:
    garbage = tmp_path / "state.db"
    garbage.write_bytes(b"this is not a database, " * 100)
    with pytest.raises(StoreUnavailable, match="read the rollout history") as err:
        collect_history(tmp_path, "shop", f"sqlite:///{garbage}")
    assert err.value.exit_code == 3
    with pytest.raises(StoreUnavailable, match="nosuchdialect") as bad_url:
        collect_history(tmp_path, "shop", "nosuchdialect://user:hunter2@host/db")
    assert "hunter2" not in " ".join(bad_url.value.diagnostics())
    assert "SAFESHIP_DATABASE_URL must be" in (bad_url.value.hint or "")


def test_no_history_on_request(tmp_path: Path) -> None:
    facts = no_history(tmp_path, "shop", "not read (--no-history)")
    assert not facts.available
    assert facts.note == "not read (--no-history)"
    assert replace(facts, finished=0).zero_touch_share is None
