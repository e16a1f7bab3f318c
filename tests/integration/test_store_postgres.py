"""StateStore and its migrations on a real, throwaway PostgreSQL 15 server."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from safeship.errors import NotFound, StoreUnavailable, UsageError
from safeship.model.enums import ApprovalStatus, RunStatus
from safeship.store import StateStore
from safeship.store.database import create_engine
from safeship.store.migrate import upgrade
from tests.integration.postgres_server import PostgresServer
from tests.store_samples import (
    T0,
    check_migration_cycle,
    realistic_run,
    schema_differences,
    shrunk,
    simple_run,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StateStore]:
    """A migrated store in a fresh PostgreSQL database."""
    opened = StateStore.open(postgres_url, tmp_path_factory.mktemp("project"))
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


def test_the_server_is_postgresql_15_and_tuned_for_tests(engine: Engine) -> None:
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
        fsync = connection.execute(text("SHOW fsync")).scalar_one()
    assert str(version).startswith("15")
    assert fsync == "off"


def test_migrations_go_up_down_and_up(engine: Engine) -> None:
    check_migration_cycle(engine)


def test_metrics_are_jsonb_and_times_timestamptz(engine: Engine) -> None:
    upgrade(engine)
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name IN ('gate_results', 'runs')"
            )
        )
        types = {str(name): str(data_type) for name, data_type in rows}
    assert types["metrics"] == "jsonb"
    assert types["started_at"] == "timestamp with time zone"


def test_a_realistic_run_round_trips_exactly(store: StateStore) -> None:
    run = realistic_run()
    store.save_run(run)
    assert store.get_run(run.run_id) == run
    assert store.list_runs() == [run]
    smaller = shrunk(run)
    store.save_run(smaller)
    assert store.get_run(run.run_id[:8]) == smaller


def test_non_finite_metrics_survive_jsonb(store: StateStore) -> None:
    run = realistic_run()
    gate = replace(
        run.stages[1].gates[0], metrics=MappingProxyType({"ratio": math.nan, "max": math.inf})
    )
    store.save_run(replace(run, stages=(replace(run.stages[1], gates=(gate,)),)))
    metrics = store.get_run(run.run_id).stages[0].gates[0].metrics
    assert math.isnan(metrics["ratio"])
    assert metrics["max"] == math.inf


def test_listing_and_prefixes(store: StateStore) -> None:
    for index, service in enumerate(["shop", "cart", "shop"]):
        store.save_run(simple_run(f"AbCdEf-{index}", service, T0 + timedelta(minutes=index)))
    assert [r.run_id for r in store.list_runs("shop", limit=5)] == ["AbCdEf-2", "AbCdEf-0"]
    assert store.get_run("AbCdEf-1").service == "cart"
    with pytest.raises(UsageError, match="ambiguous"):
        store.get_run("AbCdEf")
    with pytest.raises(NotFound):
        store.get_run("abcdef")


def test_approvals_flow(store: StateStore) -> None:
    run = realistic_run()
    store.save_run(run)
    requested = store.request_approval(run.run_id, "shop", run.commit, "coverage", "81%", at=T0)
    assert store.request_approval(run.run_id, "shop", run.commit, "coverage", "x", at=T0) == (
        requested
    )
    decided_at = T0 + timedelta(minutes=1)
    [decided] = store.decide_approvals(
        run.run_id, approve=True, by="alice", reason="ok", at=decided_at
    )
    assert decided.status == ApprovalStatus.APPROVED
    assert decided.decided_at == decided_at
    assert store.find_decision("shop", run.commit, "coverage") == decided
    assert store.find_decision("shop", None, "coverage") is None
    with pytest.raises(NotFound):
        store.decide_approvals(run.run_id, approve=False, by="bob", reason="no", at=decided_at)
    store.set_run_status(run.run_id, RunStatus.APPROVED)
    assert store.get_run(run.run_id).status is RunStatus.APPROVED


def test_opening_concurrently_migrates_once(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("project")
    first = StateStore.open(postgres_url, root)
    second = StateStore.open(postgres_url, root)  # already at head
    try:
        first.save_run(realistic_run())
        assert second.list_runs() == [realistic_run()]
    finally:
        first.close()
        second.close()


def test_a_missing_database_is_store_unavailable(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = postgres_server.url("no_such_database").replace("postgres@", "postgres:t0ps3cret@")
    with pytest.raises(StoreUnavailable, match="no_such_database") as caught:
        StateStore.open(url, tmp_path_factory.mktemp("project"))
    assert "t0ps3cret" not in "\n".join(caught.value.diagnostics())
    assert "postgres:***@127.0.0.1" in caught.value.message
