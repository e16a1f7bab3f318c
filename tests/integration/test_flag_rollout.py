"""A flag rollout end to end on loopback: a real flag service, apps with providers, the CLI.

What runs, all on 127.0.0.1 with free ports and a temp project (SQLite state store):

* the flag service (``safeship flags serve``'s :func:`~safeship.server.serve.run_flag_service`
  under uvicorn, in a thread, with a read and a write token);
* three sample-app instances (:mod:`tests.integration.flag_app`), each with its own
  OpenFeature provider following the service's event stream, evaluating the flag per request
  and exposing its per-variant outcome counters on ``/metrics``;
* load from a bounded loop: requests round-robin over the instances, a new user each;
* ``safeship rollout start shop`` (in process) with ``strategy: feature_flag``: the
  ``feature_flag`` router writes the flag's percentage into the store, the service streams
  each change to the providers, and the ``builtin`` metrics provider scrapes the apps'
  counters (flag-on cohort = canary, flag-off = baseline) for the sequential judge.

The flag-on code path fails 30 % of its requests, so the judge says ROLLBACK and the
controller switches the flag off. A watcher thread polls every provider for users who get the
flag at 1 %, and the test prints how long after the ROLLBACK decision each provider served
them the off variant again (the target: at most 1 s with streaming). The second test measures
the same for ``safeship rollout undo --flag-only`` of a flag a person had turned on for all.
Times are printed, never asserted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeship.cli.app import run as safeship
from safeship.flags import EvaluationContext, evaluate
from safeship.flags import changes as change
from safeship.flags.bucketing import bucket
from safeship.flags.changes import FlagAction
from safeship.registry_delivery import STRATEGIES
from safeship.server.auth import Access, Credential, TokenSet
from safeship.server.serve import ServeOptions, run_flag_service
from safeship.server.settings import ServiceSettings
from safeship.store.flags import FlagStore
from safeship.store.rollouts import RolloutStore
from safeship.strategies.feature_flag import FeatureFlagStrategy, FeatureFlagUndoStrategy
from tests.integration.flag_app import FLAG, FlagApps, Load

READ_TOKEN = "read-token-for-the-apps-0123456789"
WRITE_TOKEN = "write-token-for-people-0123456789"
INSTANCES = 3
PROBES = 12
"""Users who get the flag from 1 % up: watched on every provider."""
SERVICE_START_S = 20.0
WATCH_POLL_S = 0.001

CANARY = """\
apiVersion: analysis/v1
kind: CanaryConfig
metadata: {name: shop-new-checkout}
spec:
  steps:
    - {percentage: 1, duration: 10s}
    - {percentage: 5, duration: 10s}
    - {percentage: 25, duration: 10s}
    - {percentage: 100, duration: 10s}
  metrics:
    - name: error_rate
      query: checkout errors / checkout requests
      category: availability
      critical: true
      threshold: {max_increase_ratio: 2.0}
  judge:
    name: sequential
    min_sample_size: 20
    min_exposure: 0s
"""


def service_yaml(strategy: str, counters: list[str]) -> str:
    urls = ", ".join(f"{url}/metrics" for url in counters)
    return f"""\
apiVersion: safeship/v1
kind: Service
name: shop
strategy:
  type: {strategy}
  flag: {FLAG}
  environment: production
  scrape_interval: 0.5s
  lease_ttl: 10s
  counters_from: [{urls}]
metrics:
  type: builtin
"""


@dataclass
class World:
    """The running pieces the tests share."""

    root: Path
    service_url: str
    apps: FlagApps
    probes: list[str]


def _probes() -> list[str]:
    """Users whose bucket lies in the first 1 % of the flag's (so they get it from 1 % up)."""
    found: list[str] = []
    for index in range(200_000):
        key = f"probe-{index}"
        if bucket(FLAG, key) < 1000:
            found.append(key)
            if len(found) == PROBES:
                return found
    raise AssertionError("no probe users found in 200,000 keys")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("flag-rollout")
    (root / ".pipeline").mkdir()
    with FlagStore.open(None, root) as flags:
        flags.create(change.new_flag(FLAG, environments=("production",)), actor="dev",
                     reason="the one-page checkout ships off", at=datetime.now(UTC))
    tokens = TokenSet([Credential.of("apps", Access.READ, READ_TOKEN),
                       Credential.of("ops", Access.WRITE, WRITE_TOKEN)])
    ready: list[str] = []
    failed: list[BaseException] = []
    stop = threading.Event()
    options = ServeOptions(host="127.0.0.1", port=0, settings=ServiceSettings(
        keepalive_s=0.5, poll_interval_s=0.2))

    def serve() -> None:
        try:
            run_flag_service(None, root, tokens, options, on_ready=ready.append, stop=stop)
        except BaseException as exc:  # reported by the fixture, not lost in the thread
            failed.append(exc)

    thread = threading.Thread(target=serve, name="flag-service", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + SERVICE_START_S
        while not ready and not failed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready, f"the flag service did not start: {failed}"
        with FlagApps(INSTANCES, ready[0], READ_TOKEN, refresh_interval_s=5.0,
                      stream_idle_timeout_s=5.0) as apps:
            _wait(lambda: all(app.provider.sync_state.streaming for app in apps.apps),
                  "every provider follows the stream")
            yield World(root, ready[0], apps, _probes())
    finally:
        stop.set()
        thread.join(timeout=15)
        assert not thread.is_alive(), "the flag service did not stop"


@pytest.fixture(autouse=True)
def _flag_strategies(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until registry_delivery lists them (see the report), the test registers them.
    monkeypatch.setitem(STRATEGIES, "feature_flag", FeatureFlagStrategy)
    monkeypatch.setitem(STRATEGIES, "feature_flag_undo", FeatureFlagUndoStrategy)


def _wait(condition: object, what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting until {what}")


@dataclass
class Watch:
    """When each provider last served a probe user the flag, and when it stopped."""

    last_on: dict[int, float] = field(default_factory=dict)
    off_since: dict[int, float] = field(default_factory=dict)
    polls: int = 0


class Watcher:
    """Polls every provider for the probe users (bounded in time) in a thread."""

    def __init__(self, world: World, max_seconds: float) -> None:
        self.world = world
        self.watch = Watch()
        self._stop = threading.Event()
        self._max_seconds = max_seconds
        self._thread = threading.Thread(target=self._run, name="flag-watcher", daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self.watch

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        deadline = time.monotonic() + self._max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            for app in self.world.apps.apps:
                now = time.time()
                on = any(app.variant_for(user) == "on" for user in self.world.probes)
                if on:
                    self.watch.last_on[app.index] = now
                    self.watch.off_since.pop(app.index, None)
                elif app.index in self.watch.last_on:
                    self.watch.off_since.setdefault(app.index, now)
            self.watch.polls += 1
            time.sleep(WATCH_POLL_S)


def _served_by_providers(world: World, users: int = 300) -> Counter[str]:
    return Counter(str(app.variant_for(f"u{i}")) for app in world.apps.apps
                   for i in range(users))


def _report(title: str, decided: float, watch: Watch) -> list[float]:
    delays = [watch.off_since[index] - decided for index in sorted(watch.off_since)]
    print(f"\n{title}: time to off per provider after the decision: "
          + ", ".join(f"app-{i} {d:.3f} s" for i, d in zip(sorted(watch.off_since), delays,
                                                               strict=True))
          + f" (max {max(delays):.3f} s; {watch.polls} watcher polls)")
    return delays


def test_a_bad_flag_is_switched_off_everywhere_on_rollback(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = world.root / ".pipeline"
    (pipeline / "service.yaml").write_text(service_yaml("feature_flag", world.apps.urls))
    (pipeline / "canary-analysis.yaml").write_text(CANARY)
    world.apps.set_on_error_rate(0.3)
    for app in world.apps.apps:
        app.base_error_rate = 0.01
    load = Load(world.apps.urls, concurrency=8)
    with load.running(max_requests=400_000, max_seconds=90) as traffic, \
            Watcher(world, max_seconds=90) as watch:
        _wait(lambda: traffic.completed >= 200, "the load got going")
        code = safeship(["rollout", "start", "shop", "-C", str(world.root)])
        out = capsys.readouterr().out
        _wait(lambda: len(watch.off_since) == INSTANCES, "every provider serves off again")
    print(out)
    assert code == 1, out
    with RolloutStore.open(None, world.root) as store:
        rec = store.list_releases("shop", limit=1)[0]
        verdict = store.last_transition(rec.release_id, "verdict")
        started = store.last_transition(rec.release_id, "rollback_started")
    assert (rec.strategy, rec.status, rec.decision) == ("feature_flag", "rolled_back",
                                                        "rolled_back")
    assert verdict is not None
    assert verdict.details["decision"] == "ROLLBACK"
    assert "ROLLBACK verdict" in (rec.reason or "")
    assert started is not None
    assert rec.rollback_seconds is not None
    # The flag is off in the store, and every connected provider serves off to everyone.
    with FlagStore.open(None, world.root) as flags:
        stored = flags.get(FLAG)
        last = flags.history(FLAG)[-1]
    env = stored.flag.environment("production")
    assert env is not None
    assert not env.enabled
    assert (last.action, last.actor) == ("disable", "safeship-rollout")
    assert last.reason.startswith(f"release {rec.release_id}: ")
    assert Counter(str(evaluate(stored.flag, EvaluationContext(f"u{i}"), "production").variant)
                   for i in range(300)) == Counter({"off": 300})
    assert _served_by_providers(world) == Counter({"off": 300 * INSTANCES})
    assert all(app.provider.sync_state.streaming for app in world.apps.apps)
    assert traffic.statuses["500"] > 0
    assert set(watch.last_on) == set(range(INSTANCES))  # each provider had served it on
    delays = _report("rollback", started.at.timestamp(), watch)
    print(f"controller: rollback_seconds (decision -> the store reads off) "
          f"{rec.rollback_seconds:.3f} s; max canary {rec.max_canary_percent:g}%; "
          f"load {dict(traffic.statuses)}")
    assert all(delay > -0.05 for delay in delays)  # none went off before the decision


def test_undo_switches_a_guarding_flag_off_everywhere(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    (world.root / ".pipeline" / "service.yaml").write_text(
        service_yaml("canary", world.apps.urls))
    with FlagStore.open(None, world.root) as flags:
        flags.update(FLAG, lambda f: change.set_rollout(change.enable(f, "production"),
                                                        "production", 1.0),
                     action=FlagAction.ROLLOUT, actor="dev", reason="everyone, by hand",
                     at=datetime.now(UTC))
    _wait(lambda: _served_by_providers(world, 50) == Counter({"on": 50 * INSTANCES}),
          "every provider serves the flag to everyone")
    with Watcher(world, max_seconds=30) as watch:
        _wait(lambda: len(watch.last_on) == INSTANCES, "the watcher saw the flag on")
        began = time.time()
        code = safeship(["rollout", "undo", "--flag-only", "-C", str(world.root)])
        out = capsys.readouterr().out
        _wait(lambda: len(watch.off_since) == INSTANCES, "every provider serves off again")
    print(out)
    assert code == 0, out
    assert "undo: flag 'new-checkout' off in production first" in out
    assert _served_by_providers(world) == Counter({"off": 300 * INSTANCES})
    with RolloutStore.open(None, world.root) as store:
        rec = store.list_releases("shop", limit=1)[0]
    assert (rec.strategy, rec.kind, rec.status) == ("feature_flag_undo", "undo", "succeeded")
    assert rec.rollback_seconds is not None
    _report("rollout undo --flag-only", began, watch)
    print(f"controller: undo rollback_seconds (undo start -> the store reads off) "
          f"{rec.rollback_seconds:.3f} s")
