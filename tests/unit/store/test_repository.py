"""StateStore on SQLite: exact round trips, listing, prefix lookup, approvals and failures."""

from __future__ import annotations

import math
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from sqlalchemy import func, select

from safeship.errors import InternalError, NotFound, StoreUnavailable, UsageError
from safeship.model.enums import ApprovalStatus, RunStatus
from safeship.store import StateStore, default_database_url
from safeship.store.database import SQLITE_BUSY_TIMEOUT_MS, create_engine, journal_mode
from safeship.store.tables import FindingRow, GateRow, StageRow
from safeship.store.urls import masked_url, scrub
from tests.store_samples import T0, realistic_run, shrunk, simple_run


def _count(url: str, table: type[FindingRow | GateRow | StageRow]) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


# round trips ------------------------------------------------------------------------------


def test_a_realistic_run_round_trips_exactly(store: StateStore) -> None:
    run = realistic_run()
    store.save_run(run)
    loaded = store.get_run(run.run_id)
    assert loaded == run
    lint, secrets = loaded.stages[0].gates
    assert [f.rule for f in lint.findings] == ["E501", "F401", "CFG1", "W605"]
    assert lint.findings[2].path is None
    assert lint.findings[1].column is None
    assert isinstance(secrets.metrics, MappingProxyType)
    assert dict(secrets.metrics) == {
        "files": 41,
        "entropy_threshold": 4.5,
        "detectors": ["aws", "pem"],
    }
    assert secrets.duration_s == 0.1 + 0.2  # the exact double, not a rounded one
    assert loaded.stages[2].skipped
    assert loaded.stages[3].gates == ()
    assert loaded.started_at.tzinfo is UTC
    assert loaded.started_at == run.started_at


def test_non_finite_metrics_survive(store: StateStore) -> None:
    run = realistic_run()
    gate = replace(
        run.stages[1].gates[0],
        metrics=MappingProxyType({"ratio": math.nan, "limits": [math.inf, -math.inf, 1.5]}),
    )
    store.save_run(replace(run, stages=(replace(run.stages[1], gates=(gate,)),)))
    metrics = store.get_run(run.run_id).stages[0].gates[0].metrics
    assert math.isnan(metrics["ratio"])
    assert metrics["limits"] == [math.inf, -math.inf, 1.5]


def test_saving_again_replaces_the_whole_run_but_keeps_approvals(tmp_path: Path) -> None:
    url = default_database_url(tmp_path)
    store = StateStore.open(url, tmp_path)
    try:
        run = realistic_run()
        store.save_run(run)
        store.request_approval(run.run_id, run.service, run.commit, "coverage", "81%", at=T0)
        smaller = shrunk(run)
        store.save_run(smaller)
        assert store.get_run(run.run_id) == smaller
        assert [a.gate_id for a in store.approvals_for_run(run.run_id)] == ["coverage"]
    finally:
        store.close()
    # Nothing of the first version is left behind.
    assert _count(url, StageRow) == 1
    assert _count(url, GateRow) == 1
    assert _count(url, FindingRow) == 1


def test_naive_timestamps_are_refused(store: StateStore) -> None:
    run = replace(realistic_run(), started_at=datetime(2025, 1, 1, 12, 0))
    with pytest.raises(InternalError, match="timezone-aware"):
        store.save_run(run)
    with pytest.raises(NotFound):
        store.get_run(run.run_id)


def test_metrics_must_be_json_data(store: StateStore) -> None:
    run = realistic_run()
    gate = replace(run.stages[1].gates[0], metrics=MappingProxyType({"when": T0}))
    with pytest.raises(InternalError, match="compile: metrics are not JSON data"):
        store.save_run(replace(run, stages=(replace(run.stages[1], gates=(gate,)),)))


# listing and lookup -----------------------------------------------------------------------


def _save_history(store: StateStore) -> None:
    for index, service in enumerate(["shop", "cart", "shop", "shop", "cart"]):
        store.save_run(simple_run(f"run-{index:02d}-aaaa", service, T0 + timedelta(minutes=index)))


def test_list_runs_is_newest_first(store: StateStore) -> None:
    _save_history(store)
    assert [r.run_id for r in store.list_runs()] == [
        "run-04-aaaa",
        "run-03-aaaa",
        "run-02-aaaa",
        "run-01-aaaa",
        "run-00-aaaa",
    ]


def test_list_runs_filters_by_service_and_limits(store: StateStore) -> None:
    _save_history(store)
    assert [r.run_id for r in store.list_runs("shop")] == [
        "run-03-aaaa",
        "run-02-aaaa",
        "run-00-aaaa",
    ]
    assert [r.run_id for r in store.list_runs("shop", limit=2)] == ["run-03-aaaa", "run-02-aaaa"]
    assert [r.run_id for r in store.list_runs(limit=1)] == ["run-04-aaaa"]
    assert store.list_runs("nobody") == []
    with pytest.raises(UsageError):
        store.list_runs(limit=0)


def test_list_runs_returns_whole_runs(store: StateStore) -> None:
    run = realistic_run()
    store.save_run(run)
    assert store.list_runs() == [run]


def test_get_run_by_unique_prefix(store: StateStore) -> None:
    store.save_run(simple_run("7c0ffee1d2e3", "shop", T0))
    store.save_run(simple_run("7c0ffee9a8b7", "shop", T0))
    store.save_run(simple_run("abc", "shop", T0))
    assert store.get_run("7c0ffee1").run_id == "7c0ffee1d2e3"
    assert store.get_run("abc").run_id == "abc"  # an exact id of any length
    with pytest.raises(UsageError, match="ambiguous: it matches 7c0ffee1d2e3, 7c0ffee9a8b7"):
        store.get_run("7c0ffee")
    with pytest.raises(NotFound, match="no run with id '7c0ff'"):
        store.get_run("7c0ff")  # too short to be a prefix
    with pytest.raises(NotFound):
        store.get_run("7C0FFEE1")  # ids are case-sensitive, on SQLite too
    with pytest.raises(NotFound):
        store.get_run("7c0ff%")  # no pattern matching


def test_unknown_runs_are_not_found(store: StateStore) -> None:
    with pytest.raises(NotFound) as caught:
        store.get_run("does-not-exist")
    assert caught.value.exit_code == 2
    with pytest.raises(NotFound):
        store.get_run("")
    with pytest.raises(NotFound):
        store.set_run_status("does-not-exist", RunStatus.ERROR)
    with pytest.raises(NotFound):
        store.approvals_for_run("does-not-exist")


def test_set_run_status(store: StateStore) -> None:
    run = realistic_run()
    store.save_run(run)
    store.set_run_status(run.run_id[:8], RunStatus.APPROVED)
    assert store.get_run(run.run_id) == replace(run, status=RunStatus.APPROVED)


# approvals --------------------------------------------------------------------------------


def test_approvals_flow(store: StateStore) -> None:
    run = realistic_run()
    store.save_run(run)
    coverage = store.request_approval(
        run.run_id, "shop", run.commit, "coverage", "coverage 81% < 85%", at=T0
    )
    assert coverage.status == ApprovalStatus.PENDING
    assert coverage.requested_at == T0
    assert coverage.decided_at is None
    # Asking again while pending returns the same request.
    again = store.request_approval(run.run_id, "shop", run.commit, "coverage", "again", at=T0)
    assert again == coverage
    migration = store.request_approval(
        run.run_id, "shop", run.commit, "migrations", "drops a column", at=T0
    )
    assert [a.gate_id for a in store.approvals_for_run(run.run_id)] == ["coverage", "migrations"]
    assert store.find_decision("shop", run.commit, "coverage") is None  # pending is no decision

    later = T0 + timedelta(hours=1)
    [decided] = store.decide_approvals(
        run.run_id, approve=True, by="alice", reason="tests follow", at=later, gate_id="coverage"
    )
    assert decided == replace(
        coverage,
        status=ApprovalStatus.APPROVED,
        decided_by="alice",
        decision_reason="tests follow",
        decided_at=later,
    )
    assert store.find_decision("shop", run.commit, "coverage") == decided

    [rejected] = store.decide_approvals(
        run.run_id[:6], approve=False, by="bob", reason="no", at=later
    )
    assert rejected.approval_id == migration.approval_id
    assert rejected.status == ApprovalStatus.REJECTED
    with pytest.raises(NotFound, match="no pending approval"):
        store.decide_approvals(run.run_id, approve=True, by="carol", reason="?", at=later)
    assert [a.status for a in store.approvals_for_run(run.run_id)] == [
        ApprovalStatus.APPROVED,
        ApprovalStatus.REJECTED,
    ]


def test_decide_one_gate_leaves_the_others_pending(store: StateStore) -> None:
    run = realistic_run()
    store.save_run(run)
    for gate in ("a", "b"):
        store.request_approval(run.run_id, "shop", run.commit, gate, "why", at=T0)
    with pytest.raises(NotFound, match="for gate 'c'"):
        store.decide_approvals(run.run_id, approve=True, by="x", reason="y", at=T0, gate_id="c")
    store.decide_approvals(run.run_id, approve=True, by="x", reason="y", at=T0, gate_id="b")
    statuses = {a.gate_id: a.status for a in store.approvals_for_run(run.run_id)}
    assert statuses == {"a": ApprovalStatus.PENDING, "b": ApprovalStatus.APPROVED}


def test_find_decision_takes_the_latest_and_matches_the_commit(store: StateStore) -> None:
    first, second = realistic_run("run-one-111"), realistic_run("run-two-222")
    store.save_run(first)
    store.save_run(second)
    commit = first.commit
    store.request_approval(first.run_id, "shop", commit, "coverage", "low", at=T0)
    store.decide_approvals(first.run_id, approve=True, by="a", reason="ok", at=T0)
    store.request_approval(second.run_id, "shop", commit, "coverage", "low", at=T0)
    latest = T0 + timedelta(minutes=3)
    store.decide_approvals(second.run_id, approve=False, by="b", reason="not ok", at=latest)

    found = store.find_decision("shop", commit, "coverage")
    assert found is not None
    assert (found.run_id, found.status, found.decided_at) == (
        second.run_id,
        ApprovalStatus.REJECTED,
        latest,
    )
    assert store.find_decision("shop", None, "coverage") is None  # no commit never matches
    assert store.find_decision("shop", "0" * 40, "coverage") is None
    assert store.find_decision("cart", commit, "coverage") is None
    assert store.find_decision("shop", commit, "lint") is None


def test_approval_for_an_unknown_run_is_not_found(store: StateStore) -> None:
    with pytest.raises(NotFound):
        store.request_approval("nope-nope", "shop", None, "g", "why", at=T0)


def test_a_commit_less_approval_round_trips(store: StateStore) -> None:
    run = replace(realistic_run(), commit=None)
    store.save_run(run)
    made = store.request_approval(run.run_id, "shop", None, "coverage", "why", at=T0)
    assert store.approvals_for_run(run.run_id) == [made]
    assert made.commit is None


# the database itself ----------------------------------------------------------------------


def test_default_location_and_wal_mode(tmp_path: Path) -> None:
    store = StateStore.open(None, tmp_path)
    try:
        store.save_run(realistic_run())
    finally:
        store.close()
    database = tmp_path / ".safeship" / "state.db"
    assert database.is_file()
    assert (tmp_path / ".safeship" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert default_database_url(tmp_path) == f"sqlite:///{database.resolve()}"
    # WAL is a property of the file: a plain connection sees what the store set up.
    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        assert journal_mode(engine) == "wal"
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA busy_timeout").scalar_one() == SQLITE_BUSY_TIMEOUT_MS
            assert pragma("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()


def test_two_stores_write_the_same_file_concurrently(tmp_path: Path) -> None:
    url = default_database_url(tmp_path)
    stores = [StateStore.open(url, tmp_path) for _ in range(2)]
    failures: list[BaseException] = []

    def write(store: StateStore, name: str) -> None:
        try:
            for index in range(10):
                run = realistic_run(f"{name}-{index:02d}-run")
                store.save_run(run)
                store.request_approval(run.run_id, "shop", run.commit, "coverage", "?", at=T0)
                store.decide_approvals(run.run_id[:9], approve=True, by=name, reason="ok", at=T0)
        except BaseException as exc:  # report it in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        assert len(stores[0].list_runs(limit=100)) == 20
    finally:
        for store in stores:
            store.close()


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = StateStore.open(None, tmp_path)
    store.close()
    with pytest.raises(InternalError, match="after close"):
        store.list_runs()


# failures ---------------------------------------------------------------------------------


def test_unwritable_project_root_is_store_unavailable(tmp_path: Path) -> None:
    # Tests may run as root, which ignores permission bits: make the folder impossible instead.
    blocker = tmp_path / "project"
    blocker.write_text("a file where the project folder should be")
    with pytest.raises(StoreUnavailable) as caught:
        StateStore.open(None, blocker)
    error = caught.value
    assert error.exit_code == 3
    assert "could not open and migrate the database" in error.message
    assert str(blocker) in error.message
    assert error.hint is not None
    assert "SAFESHIP_DATABASE_URL" in error.hint


def test_missing_directory_in_url_is_store_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/dir/state.db"
    with pytest.raises(StoreUnavailable, match="unable to open database file") as caught:
        StateStore.open(url, tmp_path)
    assert caught.value.hint is not None
    assert f"{tmp_path}/missing/dir" in caught.value.hint


def test_write_failures_are_store_unavailable(tmp_path: Path) -> None:
    StateStore.open(None, tmp_path).close()
    database = tmp_path / ".safeship" / "state.db"
    read_only = StateStore.open(f"sqlite:///file:{database}?mode=ro&uri=true", tmp_path)
    try:
        with pytest.raises(StoreUnavailable, match=r"could not save run .*readonly"):
            read_only.save_run(realistic_run())
        assert read_only.list_runs() == []  # reading still works
    finally:
        read_only.close()


def test_an_unknown_database_revision_is_store_unavailable(tmp_path: Path) -> None:
    StateStore.open(None, tmp_path).close()
    with sqlite3.connect(tmp_path / ".safeship" / "state.db") as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreUnavailable, match="9999") as caught:
        StateStore.open(None, tmp_path)
    assert caught.value.hint is not None
    assert "another safeship version" in caught.value.hint


def test_passwords_never_reach_the_error(tmp_path: Path) -> None:
    # Port 1 on loopback refuses at once; the password must appear nowhere in what is raised.
    url = "postgresql+psycopg://deployer:s3cr%40t-pw@127.0.0.1:1/safeship?connect_timeout=2"
    with pytest.raises(StoreUnavailable) as caught:
        StateStore.open(url, tmp_path)
    error = caught.value
    text = "\n".join([*error.diagnostics(), str(error.__cause__), str(error.__context__)])
    assert "s3cr" not in text
    assert "postgresql+psycopg://deployer:***@127.0.0.1:1/safeship" in error.message
    assert "database server is running" in (error.hint or "")


def test_bad_urls_are_store_unavailable_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        StateStore.open("nosuchdb://admin:hunter2@db/x", tmp_path)
    assert "hunter2" not in "\n".join(caught.value.diagnostics())
    assert "admin:***@db" in caught.value.message
    assert "SQLAlchemy URL such as" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:pw@h:5432/d", "postgresql+psycopg://u:***@h:5432/d"),
        ("postgresql://u@h/d?password=pw&sslmode=require", "postgresql://u@h/d?password=***&sslmode=require"),
        ("not a url ://u:pw@h/d", "not a url ://u:***@h/d"),
        ("sqlite:////tmp/state.db", "sqlite:////tmp/state.db"),
    ],
)  # fmt: skip
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown
    assert scrub(f"failed for {url}", url).count("pw") == 0
