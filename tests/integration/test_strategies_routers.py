"""Every rollout strategy, end to end, through every router, with the real rollout controller.

12 combinations (``recreate``, ``rolling``, ``blue_green``, ``canary`` x ``embedded``,
``haproxy``, ``nginx``), each on its own router, ``local`` target, temp SQLite store and free
loopback ports (see :mod:`tests.integration.strategy_matrix` for the assembly, the metrics and
the teardown by PID). HAProxy and NGINX are real programs: skipped locally when missing, failed
under ``CI=true``.

**Good version** (every combination): ``v1`` is the first release (the strategy's first-release
plan: deploy, health gate, route 100 %), then ``v2`` is rolled out with the strategy under
steady load. It must end SUCCEEDED / ``promoted`` with the router reading back 100 % ``v2``,
only ``v2``'s instances running (``v1``'s PIDs gone) and 20 fresh requests through the router
all answered 200 by ``v2``. What each strategy adds:

* ``recreate``: downtime between retiring ``v1`` and ``v2``'s health gate is measured and
  recorded (``downtime_seconds``).
* ``rolling``: 2 replicas, ``max_surge`` 1 (batch 1): the middle batch's 50/50 split was a
  step of the release (a ``set_weights`` step completes only once the router reads the split
  back, and the release completed every step), and ``v2`` ends with 2 instances.
* ``blue_green``: smoke test of green pinned through the router (the router's pin header), the
  flip, then a 2 s monitor judged by the ``threshold`` judge on absolute limits; it must have
  PROCEEDed on real counters (the embedded router's own; HAProxy/NGINX: the load's answers).
* ``canary``: 50 % for up to 2 s, then a 2 s verification at 100 %, judged the same way; the
  50/50 split was a step of the release (read back, as for ``rolling``).

**Bad version** (``canary`` and ``blue_green``, every router): ``v2-bad`` answers 80 ms late
and fails 5 % of requests. It must be ROLLED_BACK by a ROLLBACK verdict with traffic back on
``v1`` (read back 100 % and answering), ``v2-bad`` stopped, and ``rollback_seconds`` recorded.

The controller without metrics: a plan with an ``analyze`` step refuses to start without a
metrics provider (PlanError), and a provider without data only gives INSUFFICIENT_DATA (never a
promotion), which is why HAProxy and NGINX are judged on the load's own counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeship.engine.rollout_state import Decision, Event, RolloutStatus
from safeship.model.analysis import Decision as Verdict
from safeship.store.rollouts import ReleaseRecord
from tests.integration.strategy_matrix import (
    BAD_SUFFIX,
    REPLICAS,
    ROUTER_KINDS,
    STRATEGY_NAMES,
    Matrix,
    matrix,
)

ROUTER_MARKS = {"haproxy": [pytest.mark.haproxy], "nginx": [pytest.mark.nginx]}
WARM_UP_S = 0.5
ANALYSED = ("blue_green", "canary")


def _router_params() -> list[object]:
    return [pytest.param(kind, marks=ROUTER_MARKS.get(kind, []), id=kind)
            for kind in ROUTER_KINDS]


@pytest.fixture(params=_router_params())
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Matrix]:
    """A started router of the parametrized kind, target and store; all stopped afterwards."""
    with matrix(request.param, tmp_path) as built:
        yield built


def _first_release(m: Matrix, strategy: str) -> None:
    first = m.rollout(strategy, "v1")
    assert first.status is RolloutStatus.SUCCEEDED, first.release.reason
    assert _split(m) == {"v1": 100.0}
    m.start_load()
    time.sleep(WARM_UP_S)  # some traffic on v1 before the rollout


def _split(m: Matrix) -> dict[str, float]:
    """The split the router reads back, without the versions at 0 %."""
    return {version: share for version, share in m.router.weights().items() if share > 0}


def _verdicts(m: Matrix, rec: ReleaseRecord) -> list[dict[str, object]]:
    return [t.details for t in m.store.transitions(rec.release_id, event=Event.VERDICT.value)]


def _recorded_splits(m: Matrix, rec: ReleaseRecord) -> list[dict[str, float]]:
    """Every split the release's transitions name (step weights), in order."""
    return [{v: float(w) for v, w in (t.weights or {}).items()}
            for t in m.store.transitions(rec.release_id) if t.weights]


def _assert_serves_only(m: Matrix, version: str, others: tuple[str, ...]) -> None:
    assert _split(m) == {version: 100.0}
    replicas = len(m.target.instances(version))
    assert replicas >= 1
    assert all(not m.target.instances(other) for other in others), m.running_versions(*others)
    answers = m.ask(20)
    assert all(a.status == 200 and a.version == version for a in answers), answers
    assert all(a.body == f"hello from {version}\n" for a in answers), answers


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_good_version_is_promoted(setup: Matrix, strategy: str) -> None:
    m = setup
    _first_release(m, strategy)
    v1_pids = m.target.running_pids(str(m.app))
    assert len(v1_pids) == REPLICAS.get(strategy, 1)

    outcome = m.rollout(strategy, "v2")
    m.stop_load()
    rec = outcome.release

    assert outcome.status is RolloutStatus.SUCCEEDED, rec.reason
    assert rec.decision == Decision.PROMOTED.value
    assert rec.rollback_seconds is None
    _assert_serves_only(m, "v2", ("v1",))
    assert len(m.target.instances("v2")) == REPLICAS.get(strategy, 1)
    assert not (v1_pids & m.target.running_pids(str(m.app))), "v1 processes still run"

    splits = _recorded_splits(m, rec)
    if strategy == "recreate":
        assert rec.downtime_seconds is not None
        assert rec.downtime_seconds >= 0
    if strategy == "rolling":
        assert {"v1": 50.0, "v2": 50.0} in splits, splits
    if strategy == "canary":
        assert {"v1": 50.0, "v2": 50.0} in splits, splits
    if strategy in ANALYSED:
        verdicts = _verdicts(m, rec)
        assert any(v["decision"] == Verdict.PROCEED.value for v in verdicts), verdicts
        assert not any(v["action"] == "rollback" for v in verdicts), verdicts
        assert rec.max_canary_percent == 100.0
        assert m.load is not None
        assert m.load.answered("v2") > 0  # judged on live traffic


@pytest.mark.parametrize("strategy", ANALYSED)
def test_bad_version_is_rolled_back(setup: Matrix, strategy: str) -> None:
    m = setup
    bad = "v2" + BAD_SUFFIX
    _first_release(m, strategy)

    outcome = m.rollout(strategy, bad)
    m.stop_load()
    rec = outcome.release

    assert outcome.status is RolloutStatus.ROLLED_BACK, rec.reason
    assert rec.decision == Decision.ROLLED_BACK.value
    verdicts = _verdicts(m, rec)
    assert any(v["decision"] == Verdict.ROLLBACK.value and v["action"] == "rollback"
               for v in verdicts), verdicts
    assert rec.rollback_seconds is not None, rec
    assert 0 < rec.rollback_seconds < 15, rec
    assert m.load is not None
    assert m.load.answered(bad) > 0  # the bad version served traffic
    _assert_serves_only(m, "v1", (bad,))
    assert len(m.target.instances("v1")) == 1
