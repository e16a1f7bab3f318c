"""The rollout store: releases, transitions, the lease lock, and migration 0002 up/down/up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from safeship.errors import InternalError, NotFound, StoreUnavailable, UsageError
from safeship.store.database import create_engine
from safeship.store.migrate import current_revision, downgrade, upgrade
from safeship.store.rollouts import (
    LeaseHeld,
    LeaseLost,
    NewTransition,
    ReleaseInProgress,
    ReleaseRecord,
    RolloutStore,
)
from tests.store_samples import schema_differences

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROLLOUT_TABLES = {"releases", "rollout_transitions", "rollout_leases"}


@pytest.fixture
def rollouts(tmp_path: Path) -> Iterator[RolloutStore]:
    """A migrated rollout store in a temp dir."""
    with RolloutStore.open(None, tmp_path) as store:
        yield store


def release(release_id: str = "a1b2c3d4e5f6", service: str = "shop",
            version: str = "v2", at: datetime = T0) -> ReleaseRecord:
    """A fresh release record as the controller writes it."""
    return ReleaseRecord(
        release_id=release_id, service=service, version=version, kind="rollout",
        artifact_reference="dist/shop.tar.gz", artifact_sha256="ab" * 32, strategy="canary",
        status="running", decision=None, reason=None, stable_version="v1",
        max_canary_percent=0.0, rollback_seconds=None, downtime_seconds=None, actor="ci",
        started_at=at, finished_at=None, phase="forward", step_index=0, paused=False,
        step_started_at=None, step_deadline_at=None, heartbeat_at=at,
        desired_weights={}, observed_weights=None, observed_at=None,
        plan={"steps": [{"kind": "mark_stable", "version": version}]}, rollback_plan=None,
        request={"request": {"replicas": 2}}, progress={"started": {}}, command=None,
        command_by=None, command_reason=None, command_at=None,
    )


def created(store: RolloutStore, rec: ReleaseRecord, holder: str = "ctl-1") -> ReleaseRecord:
    store.acquire_lease(rec.service, holder, at=rec.started_at, ttl_s=30)
    return store.create_release(rec, holder=holder,
                                first=NewTransition("created", "rollout created"))


# --------------------------------------------------------------------------- leases


def test_a_second_holder_is_refused_while_the_lease_is_live(rollouts: RolloutStore) -> None:
    lease = rollouts.acquire_lease("shop", "ctl-1", at=T0, ttl_s=30, release_id="r1")
    assert lease.holder == "ctl-1"
    assert lease.expires_at == T0 + timedelta(seconds=30)
    with pytest.raises(LeaseHeld, match="locked by controller ctl-1 driving release r1") as err:
        rollouts.acquire_lease("shop", "ctl-2", at=T0 + timedelta(seconds=29), ttl_s=30)
    assert err.value.exit_code == 4
    assert rollouts.acquire_lease("other", "ctl-2", at=T0, ttl_s=30).holder == "ctl-2"


def test_the_holder_may_take_its_lease_again(rollouts: RolloutStore) -> None:
    rollouts.acquire_lease("shop", "ctl-1", at=T0, ttl_s=30, release_id="r1")
    again = rollouts.acquire_lease("shop", "ctl-1", at=T0 + timedelta(seconds=10), ttl_s=30)
    assert again.release_id == "r1"
    assert again.acquired_at == T0
    assert again.expires_at == T0 + timedelta(seconds=40)


def test_an_expired_lease_can_be_taken_over(rollouts: RolloutStore) -> None:
    rollouts.acquire_lease("shop", "ctl-1", at=T0, ttl_s=30, release_id="r1")
    later = T0 + timedelta(seconds=30)
    taken = rollouts.acquire_lease("shop", "ctl-2", at=later, ttl_s=30)
    assert (taken.holder, taken.acquired_at, taken.release_id) == ("ctl-2", later, None)
    with pytest.raises(LeaseLost, match="no longer holds the lease"):
        rollouts.renew_lease("shop", "ctl-1", at=later, ttl_s=30)


def test_a_dead_holder_can_be_stolen_from_only_by_name(rollouts: RolloutStore) -> None:
    rollouts.acquire_lease("shop", "ctl-1", at=T0, ttl_s=30)
    with pytest.raises(LeaseHeld):
        rollouts.acquire_lease("shop", "ctl-2", at=T0, ttl_s=30, steal_from="ctl-9")
    assert rollouts.acquire_lease("shop", "ctl-2", at=T0, ttl_s=30,
                                  steal_from="ctl-1").holder == "ctl-2"


def test_renew_and_release(rollouts: RolloutStore) -> None:
    rollouts.acquire_lease("shop", "ctl-1", at=T0, ttl_s=30)
    renewed = rollouts.renew_lease("shop", "ctl-1", at=T0 + timedelta(seconds=20), ttl_s=30,
                                   release_id="r7")
    assert renewed.expires_at == T0 + timedelta(seconds=50)
    assert renewed.release_id == "r7"
    assert not rollouts.release_lease("shop", "ctl-2")
    assert rollouts.release_lease("shop", "ctl-1")
    assert rollouts.lease("shop") is None
    assert not rollouts.release_lease("shop", "ctl-1")
    with pytest.raises(LeaseLost):
        rollouts.renew_lease("shop", "ctl-1", at=T0, ttl_s=30)


def test_a_lease_needs_a_positive_ttl_and_an_aware_time(rollouts: RolloutStore) -> None:
    with pytest.raises(UsageError):
        rollouts.acquire_lease("shop", "ctl-1", at=T0, ttl_s=0)
    with pytest.raises(InternalError):
        rollouts.acquire_lease("shop", "ctl-1", at=datetime(2026, 1, 1), ttl_s=1)


def test_lease_liveness() -> None:
    from safeship.store.rollouts import Lease

    lease = Lease("shop", "ctl", None, T0, T0, T0 + timedelta(seconds=5))
    assert lease.live(T0 + timedelta(seconds=4))
    assert not lease.live(T0 + timedelta(seconds=5))


# --------------------------------------------------------------------------- releases


def test_create_and_read_a_release(rollouts: RolloutStore) -> None:
    rec = created(rollouts, release())
    assert rollouts.get_release("a1b2c3d4e5f6") == rec
    assert rollouts.get_release("a1b2c3") == rec
    assert rollouts.active_release("shop") == rec
    assert rec.active
    [first] = rollouts.transitions(rec.release_id)
    assert (first.event, first.from_status, first.to_status, first.holder) == (
        "created", None, "running", "ctl-1")


def test_a_second_release_is_refused_while_one_is_active(rollouts: RolloutStore) -> None:
    created(rollouts, release())
    with pytest.raises(ReleaseInProgress, match="already has rollout a1b2c3d4e5f6 of version "
                                                "'v2' in progress") as err:
        rollouts.create_release(release("b" * 12, version="v3"), holder="ctl-1",
                                first=NewTransition("created", "x"))
    assert err.value.exit_code == 4


def test_creating_needs_the_lease(rollouts: RolloutStore) -> None:
    with pytest.raises(LeaseLost):
        rollouts.create_release(release(), holder="ctl-1", first=NewTransition("created", "x"))


def test_updates_check_the_lease_and_record_transitions(rollouts: RolloutStore) -> None:
    rec = created(rollouts, release())
    at = T0 + timedelta(seconds=1)
    rollouts.update_release(
        rec.release_id, holder="ctl-1", at=at,
        changes={"step_index": 1, "desired_weights": {"v1": 95.0, "v2": 5.0},
                 "progress": {"nan": float("nan")}},
        transition=NewTransition("step_started", "set weights", step_index=1,
                                 step_kind="set_weights", weights={"v1": 95.0, "v2": 5.0},
                                 details={"verdict": {"score": float("inf")}}))
    updated = rollouts.get_release(rec.release_id)
    assert updated.step_index == 1
    assert updated.progress["nan"] != updated.progress["nan"]  # NaN survives
    assert updated.desired_weights == {"v1": 95.0, "v2": 5.0}
    last = rollouts.last_transition(rec.release_id)
    assert last is not None
    assert (last.event, last.step_index, last.weights) == ("step_started", 1,
                                                            {"v1": 95.0, "v2": 5.0})
    assert last.details["verdict"]["score"] == float("inf")
    assert rollouts.last_transition(rec.release_id, "created") is not None
    assert len(rollouts.transitions(rec.release_id, event="step_started")) == 1
    assert len(rollouts.transitions(rec.release_id, after_id=last.transition_id)) == 0
    rollouts.release_lease("shop", "ctl-1")
    with pytest.raises(LeaseLost):
        rollouts.update_release(rec.release_id, holder="ctl-1", at=at, changes={"step_index": 2})
    # Without a holder (a person's note), no lease is needed.
    rollouts.update_release(rec.release_id, holder=None, at=at,
                            transition=NewTransition("note", "checked"))


def test_unknown_columns_and_releases_are_refused(rollouts: RolloutStore) -> None:
    rec = created(rollouts, release())
    with pytest.raises(InternalError, match="cannot update"):
        rollouts.update_release(rec.release_id, holder="ctl-1", at=T0,
                                changes={"service": "other"})
    with pytest.raises(NotFound):
        rollouts.update_release("nope", holder=None, at=T0)
    with pytest.raises(NotFound):
        rollouts.get_release("nope")
    with pytest.raises(NotFound):
        rollouts.get_release("zzzzzzzz")


def test_an_ambiguous_prefix_is_refused(rollouts: RolloutStore) -> None:
    first = created(rollouts, release("abcdef111111"))
    rollouts.update_release(first.release_id, holder="ctl-1", at=T0,
                            changes={"finished_at": T0, "status": "succeeded"})
    created(rollouts, release("abcdef222222", at=T0 + timedelta(minutes=1)))
    with pytest.raises(UsageError, match="ambiguous"):
        rollouts.get_release("abcdef")


def test_commands_observations_and_listing(rollouts: RolloutStore) -> None:
    rec = created(rollouts, release())
    sent = rollouts.set_command(rec.release_id, "pause", by="ana", reason="lunch", at=T0)
    assert (sent.command, sent.command_by, sent.command_reason) == ("pause", "ana", "lunch")
    rollouts.observe(rec.release_id, holder="ctl-1", at=T0, weights={"v1": 99.0, "v2": 1.0})
    seen = rollouts.get_release(rec.release_id)
    assert seen.observed_weights == {"v1": 99.0, "v2": 1.0}
    assert seen.heartbeat_at == T0
    with pytest.raises(LeaseLost):
        rollouts.observe(rec.release_id, holder="ctl-2", at=T0, weights={})
    rollouts.update_release(rec.release_id, holder="ctl-1", at=T0,
                            changes={"finished_at": T0, "status": "succeeded"})
    with pytest.raises(UsageError, match="already finished"):
        rollouts.set_command(rec.release_id, "abort", by="ana", reason="x", at=T0)
    with pytest.raises(NotFound):
        rollouts.set_command("nope", "abort", by="ana", reason="x", at=T0)
    created(rollouts, release("c" * 12, service="cart", at=T0 + timedelta(minutes=1)), "ctl-3")
    assert [r.service for r in rollouts.list_releases()] == ["cart", "shop"]
    assert [r.service for r in rollouts.list_releases("shop")] == ["shop"]
    assert [r.release_id for r in rollouts.list_releases(status="succeeded")] == [
        rec.release_id]
    assert rollouts.services() == ["cart", "shop"]
    assert rollouts.active_release("shop") is None
    with pytest.raises(UsageError):
        rollouts.list_releases(limit=0)


def test_records_survive_replace(rollouts: RolloutStore) -> None:
    rec = created(rollouts, release())
    assert replace(rec, step_index=3).step_index == 3


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = RolloutStore.open(None, tmp_path)
    store.close()
    with pytest.raises(InternalError):
        store.lease("shop")


def test_an_unreachable_database_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable):
        RolloutStore.open(f"sqlite:///{tmp_path}/missing/dir/state.db", tmp_path)


# --------------------------------------------------------------------------- migration 0002


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    created_engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    try:
        yield created_engine
    finally:
        created_engine.dispose()


def test_migration_0002_up_down_up(engine: Engine, tmp_path: Path) -> None:
    upgrade(engine, "0001")
    assert not ROLLOUT_TABLES & set(inspect(engine).get_table_names())
    upgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert set(inspect(engine).get_table_names()) >= ROLLOUT_TABLES
    # At 0002 only the tables of later revisions (0003: flags, audit) may still be missing.
    later = {"flags", "flag_changes", "audit_events"}
    assert [d for d in schema_differences(engine)
            if not (d[0] in ("add_table", "add_index") and
                    (d[1].name if d[0] == "add_table" else d[1].table.name) in later)] == []
    downgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    assert not ROLLOUT_TABLES & set(inspect(engine).get_table_names())
    assert {"runs", "approvals"} <= set(inspect(engine).get_table_names())
    upgrade(engine, "0002")
    assert set(inspect(engine).get_table_names()) >= ROLLOUT_TABLES
    store = RolloutStore(engine, f"sqlite:///{tmp_path}/m.db")
    created(store, release())
    assert store.active_release("shop") is not None
