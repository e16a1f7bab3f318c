"""Rollouts written through the state store's own API, as the controller leaves them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from safeship.store.rollouts import NewTransition, ReleaseRecord, RolloutStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOLDER = "ctl-1"
FINISHED_STATUS = {"promoted": "succeeded", "rolled_back": "rolled_back", "aborted": "aborted"}


def release(release_id: str, service: str, at: datetime, kind: str = "rollout") -> ReleaseRecord:
    """A fresh release as the controller writes it."""
    return ReleaseRecord(
        release_id=release_id, service=service, version=f"v-{release_id}", kind=kind,
        artifact_reference=None, artifact_sha256=None, strategy="canary", status="running",
        decision=None, reason=None, stable_version="v1", max_canary_percent=0.0,
        rollback_seconds=None, downtime_seconds=None, actor="ci", started_at=at,
        finished_at=None, phase="forward", step_index=0, paused=False, step_started_at=None,
        step_deadline_at=None, heartbeat_at=at, desired_weights={}, observed_weights=None,
        observed_at=None, plan={"steps": []}, rollback_plan=None, request={}, progress={},
        command=None, command_by=None, command_reason=None, command_at=None)


def refuse(store: RolloutStore, release_id: str, *, at: datetime, service: str = "shop") -> None:
    """A rollout the controller's pre-deploy SLO check refused: recorded aborted, never run."""
    store.acquire_lease(service, HOLDER, at=at, ttl_s=3600)
    refused = replace(release(release_id, service, at), status="aborted", decision="aborted",
                      finished_at=at, reason="error budget spent")
    store.create_release(refused, holder=HOLDER,
                         first=NewTransition("refused", "error budget spent",
                                             details={"slo_check": {}}))
    store.release_lease(service, HOLDER)


def record(store: RolloutStore, release_id: str, *, at: datetime, service: str = "shop",
           kind: str = "rollout", decision: str | None = None,
           commands: Sequence[str] = (), rollback: dict[str, Any] | None = None,
           rollback_seconds: float | None = None, slo_checked: bool = False) -> None:
    """A release as the controller leaves it: commands by people, a rollback, how it ended."""
    store.acquire_lease(service, HOLDER, at=at, ttl_s=3600)
    store.create_release(release(release_id, service, at, kind), holder=HOLDER,
                         first=NewTransition("created", "created"))
    if slo_checked:
        store.update_release(release_id, holder=HOLDER, at=at,
                             transition=NewTransition("slo_checked", "budgets left"))
    for index, command in enumerate(commands):
        store.set_command(release_id, command, by="alice", reason="looked odd",
                          at=at + timedelta(seconds=1 + index))
    if rollback is not None:
        store.update_release(release_id, holder=HOLDER, at=at + timedelta(seconds=10),
                             changes={"status": "rolling_back", "phase": "rollback"},
                             transition=NewTransition("rollback_started", "rolling back",
                                                      details=rollback))
    if decision is None:
        return
    changes: dict[str, Any] = {"status": FINISHED_STATUS[decision], "decision": decision,
                               "finished_at": at + timedelta(seconds=20)}
    if rollback_seconds is not None:
        changes["rollback_seconds"] = rollback_seconds
    store.update_release(release_id, holder=HOLDER, at=at + timedelta(seconds=20),
                         changes=changes, transition=NewTransition("finished", decision))
    store.release_lease(service, HOLDER)
