"""Real rollouts of every strategy through every router, for ``test_strategies_routers.py``.

:class:`Matrix` assembles, for one router kind, what ``safeship rollout start`` assembles
(:mod:`safeship.cli.rollout_cmd`): the router (``embedded`` in-process, ``haproxy`` or ``nginx``
as real programs started by :mod:`tests.integration.router_process_factories`), the ``local``
target running the demo's sample service (:mod:`safeship.demo.sample_app`), a temp SQLite
store, the ``builtin`` metrics provider, the ``threshold`` judge, the HTTP smoke tester and the
real :class:`~safeship.engine.rollout.RolloutController`, in real time with compressed steps.

**Metrics.** The ``builtin`` provider reads a :class:`~safeship.metrics.interface.CounterSource`.
The embedded router is one (it counts every request it proxies). HAProxy and NGINX keep no
counters the provider can read, so for them the counter source is :class:`ClientLoad`: the
steady load this module sends through the router, counting each answer under the version the
application names in its ``X-Safeship-Version`` header, with its status and the latency seen
by the client (the embedded router's histogram bounds). Both are real requests through the real
router to the real instances; only who counts them differs.

**Judge.** ``threshold`` with absolute limits only (error rate above 2 %, p50 latency above
50 ms), so it needs no baseline traffic: the canary's 100 % verification and the blue/green
monitor send nothing to the stable version, and a relative limit would have no baseline to
compare with (INSUFFICIENT_DATA, never PROCEED). The sample app's bad mode (80 ms later, 5 % of
requests a 500) breaks the latency limit on nearly every request.

**Bad version.** The sample app is bad when it runs as ``v2``; this matrix rolls ``v2`` out as
the *good* version, so its copy of the app is bad when the version name ends in ``-bad``
(``v2-bad``) instead; the app is otherwise the demo's, byte for byte.

**Teardown.** Every instance PID the target ever started is remembered
(:class:`TrackedTarget`); on close the target stops them (SIGTERM, SIGKILL after the grace
period, by process group), then any of those PIDs still running this app is SIGKILLed and the
close fails the test. HAProxy and NGINX are stopped (and checked gone) by their PIDs by the
router factories.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeship.demo.sample_app import APP_FILE, APP_SOURCE, BAD_VERSION, HEALTH_PATH, VERSION_HEADER
from safeship.engine.clock import SystemClock
from safeship.engine.rollout import (
    ControllerSettings,
    RolloutController,
    RolloutOutcome,
    RolloutSetup,
    stable_of,
)
from safeship.engine.rollout_actions import ActionSettings
from safeship.engine.rollout_lease import new_holder_id
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.rollout_smoke import HttpSmokeTester
from safeship.engine.rollout_state import InsufficientDataPolicy
from safeship.metrics.builtin import BuiltinOptions, BuiltinProvider
from safeship.metrics.interface import CounterSource
from safeship.model.canary import (
    CanaryMetric,
    CanarySpec,
    CanaryStep,
    JudgeConfig,
    JudgeName,
    MetricCategory,
    Scope,
    Threshold,
)
from safeship.model.counters import CounterSnapshot
from safeship.registry_analysis import judge_for
from safeship.routers.embedded import EmbeddedRouter
from safeship.routers.embedded_metrics import LATENCY_BUCKETS
from safeship.routers.embedded_options import EmbeddedOptions
from safeship.routers.interface import Router
from safeship.store.rollouts import RolloutStore
from safeship.strategies.interface import (
    ArtifactRef,
    BlueGreenOptions,
    RollingOptions,
    RolloutRequest,
    SmokeCheck,
    Strategy,
)
from safeship.targets.interface import Artifact, Instance
from safeship.targets.local import LocalOptions, LocalTarget
from safeship.targets.local_state import load_records

SERVICE = "matrix-shop"
STRATEGY_NAMES = ("recreate", "rolling", "blue_green", "canary")
ROUTER_KINDS = ("embedded", "haproxy", "nginx")
REPLICAS = {"rolling": 2}  # every other strategy: 1 instance per version
CANARY_STEPS = (CanaryStep(50.0, 2.0), CanaryStep(100.0, 2.0))
MONITOR_S = 2.0
SCRAPE_INTERVAL_S = 1.0
MIN_SAMPLE_SIZE = 5
ERROR_RATE_LIMIT = 0.02
P50_LIMIT_MS = 50.0
HEALTH_TIMEOUT_S = 20.0
LOAD_THREADS = 3
LOAD_PAUSE_S = 0.01
BAD_SUFFIX = "-bad"

_BAD_TEST = f'BAD = VERSION == "{BAD_VERSION}"'
_MATRIX_BAD_TEST = f'BAD = VERSION.endswith("{BAD_SUFFIX}")'


def write_matrix_app(directory: Path) -> Path:
    """The demo's sample app, bad when its version ends in ``-bad`` (not when it is ``v2``)."""
    if _BAD_TEST not in APP_SOURCE:  # the demo app changed: this copy must follow it
        raise AssertionError(f"the sample app no longer contains {_BAD_TEST!r}")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / APP_FILE
    path.write_text(APP_SOURCE.replace(_BAD_TEST, _MATRIX_BAD_TEST), encoding="utf-8")
    return path


def matrix_spec() -> CanarySpec:
    """Compressed steps, absolute limits only, the threshold judge (see the module doc)."""
    return CanarySpec(
        source="test_strategies_routers", name="matrix-canary", steps=CANARY_STEPS,
        metrics=(
            CanaryMetric("error_rate", "errors", Threshold(max_absolute=ERROR_RATE_LIMIT),
                         category=MetricCategory.AVAILABILITY, critical=True),
            CanaryMetric("latency_p50", "latency p50", Threshold(max_absolute_ms=P50_LIMIT_MS),
                         category=MetricCategory.LATENCY),
        ),
        judge=JudgeConfig(name=JudgeName.THRESHOLD, min_sample_size=MIN_SAMPLE_SIZE,
                          min_exposure_s=0.0))


# --------------------------------------------------------------------------- load and counters


@dataclass
class _Tally:
    requests: int = 0
    errors: int = 0
    in_bucket: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))


class ClientLoad(CounterSource):
    """Steady GET / through the router from a few threads; counts answers per version.

    A new connection per request (``Connection: close``), so every request is balanced by the
    router under the split in force. Answers without the version header (a 502/503 of the
    router, a refused connection) are counted as ``unrouted``.
    """

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        self._host, self._port = host, int(port)
        self._lock = threading.Lock()
        self._tallies: dict[str, _Tally] = {}
        self.unrouted = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name=f"matrix-load-{i}",
                                          daemon=True) for i in range(LOAD_THREADS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10.0)

    def snapshot(self, version: str) -> CounterSnapshot:
        """Cumulative counters of ``version`` (the embedded router's histogram bounds)."""
        with self._lock:
            tally = self._tallies.get(version, _Tally())
            requests, errors, in_bucket = tally.requests, tally.errors, list(tally.in_bucket)
        buckets: dict[float, float] = {}
        running = 0
        for bound, count in zip((*LATENCY_BUCKETS, math.inf), in_bucket, strict=True):
            running += count
            buckets[bound] = float(running)
        return CounterSnapshot(at=time.time(), requests=float(requests), errors=float(errors),
                               latency_buckets=buckets)

    def answered(self, version: str) -> int:
        with self._lock:
            tally = self._tallies.get(version)
            return tally.requests if tally is not None else 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            version, status = None, None
            conn = http.client.HTTPConnection(self._host, self._port, timeout=5.0)
            try:
                conn.request("GET", "/", headers={"Connection": "close"})
                response = conn.getresponse()
                response.read()
                status = response.status
                version = response.getheader(VERSION_HEADER)
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            latency = time.monotonic() - began
            with self._lock:
                if version is None or status is None:
                    self.unrouted += 1
                else:
                    tally = self._tallies.setdefault(version, _Tally())
                    tally.requests += 1
                    tally.errors += 1 if status >= 500 else 0
                    index = next((i for i, bound in enumerate(LATENCY_BUCKETS)
                                  if latency <= bound), len(LATENCY_BUCKETS))
                    tally.in_bucket[index] += 1
            self._stop.wait(LOAD_PAUSE_S)


# --------------------------------------------------------------------------- target with PIDs


class TrackedTarget(LocalTarget):
    """The ``local`` target, remembering the PID of every instance it ever started."""

    def __init__(self, options: LocalOptions) -> None:
        super().__init__(options)
        self.started_pids: set[int] = set()

    def deploy(self, version: str, replicas: int,
               artifact: Artifact | None = None) -> tuple[Instance, ...]:
        try:
            return super().deploy(version, replicas, artifact)
        finally:
            self._remember()

    def scale(self, version: str, replicas: int) -> tuple[Instance, ...]:
        try:
            return super().scale(version, replicas)
        finally:
            self._remember()

    def _remember(self) -> None:
        self.started_pids.update(record.pid for record in load_records(self.state_file))

    def running_pids(self, marker: str) -> set[int]:
        """The remembered PIDs still alive and running a command line containing ``marker``."""
        return {pid for pid in self.started_pids if _runs(pid, marker)}


def _runs(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # a zombie has exited
        return False
    return marker.encode() in cmdline


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Answer:
    """One request through the router after a rollout."""

    status: int | None
    version: str | None
    body: str


class Matrix:
    """One router kind, one target, one store: first release, rollouts, checks."""

    def __init__(self, kind: str, root: Path, router: Router, stack: ExitStack) -> None:
        self.kind = kind
        self.root = root
        self.router = router
        self.stack = stack
        self.spec = matrix_spec()
        self.app = write_matrix_app(root / "app")
        self.target = TrackedTarget(LocalOptions(
            command=[sys.executable, str(self.app), "--port", "{port}"],
            health={"path": HEALTH_PATH, "timeout": 2.0}, startup_timeout=HEALTH_TIMEOUT_S,
            grace_period=1.0, state_dir=root / "target", cwd=root / "app"))
        self.store = RolloutStore.open(None, root)  # SQLite in the temp dir
        self.url: str = router.url  # type: ignore[attr-defined]
        self.load: ClientLoad | None = None

    # -- rollouts ----------------------------------------------------------------------------

    def rollout(self, strategy: str, version: str) -> RolloutOutcome:
        """Roll ``version`` out with ``strategy`` through the real controller, to its end."""
        stable = stable_of(self.store, SERVICE)
        controller = self._controller(stable.version if stable else None, version)
        return controller.start(self.request(strategy, version),
                                RolloutSetup(strategy, self.spec, self.policy(),
                                             actor="test_strategies_routers"))

    def start_load(self) -> ClientLoad:
        """Steady traffic through the router (and, off the embedded router, the counters)."""
        assert self.load is None
        self.load = ClientLoad(self.url)
        self.load.start()
        return self.load

    def stop_load(self) -> None:
        if self.load is not None:
            self.load.stop()

    def request(self, strategy: str, version: str) -> RolloutRequest:
        artifact = self.root / "app" / f"{SERVICE}-{version}.txt"
        artifact.write_text(f"{SERVICE} {version}\n", encoding="utf-8")
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
        return RolloutRequest(
            service=SERVICE, version=version, replicas=REPLICAS.get(strategy, 1),
            artifact=ArtifactRef(str(artifact), digest), stable=stable_of(self.store, SERVICE),
            canary_steps=self.spec.steps, judge=JudgeName.THRESHOLD,
            health_timeout_s=HEALTH_TIMEOUT_S,
            rolling=RollingOptions(max_surge=1, max_unavailable=0),
            blue_green=BlueGreenOptions((SmokeCheck(HEALTH_PATH, contains="ok"),), MONITOR_S))

    @staticmethod
    def policy() -> AnalysisPolicy:
        return AnalysisPolicy(scrape_interval_s=SCRAPE_INTERVAL_S,
                              on_insufficient_data=InsufficientDataPolicy.EXTEND,
                              max_interruption_s=60.0)

    def _controller(self, baseline: str | None, version: str) -> RolloutController:
        scope = Scope("version", baseline or "baseline", version)
        source: Any = self.router if isinstance(self.router, EmbeddedRouter) else self.load
        if source is None:  # a first release has nothing to analyse; counters never read
            source = ClientLoad(self.url)
        metrics = BuiltinProvider(source, BuiltinOptions(), scope=scope)
        judge = judge_for(JudgeName.THRESHOLD)

        def strategies(name: str) -> Strategy:
            from safeship.registry_delivery import STRATEGIES

            return STRATEGIES[name]()  # type: ignore[return-value]

        return RolloutController(
            self.store, self.router, self.target, clock=SystemClock(), holder=new_holder_id(),
            strategies=strategies, judges=lambda name: judge, metrics=metrics,
            smoke=HttpSmokeTester(self.url),
            settings=ControllerSettings(
                lease_ttl_s=30.0, idle_poll_s=0.1, rollback_attempts=3, rollback_backoff_s=0.2,
                actions=ActionSettings(readback_timeout_s=10.0, readback_poll_s=0.02,
                                       health_poll_s=0.1)))

    # -- checks ------------------------------------------------------------------------------

    def ask(self, count: int = 20) -> list[Answer]:
        """``count`` plain GET / through the router (new connection each)."""
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        answers = []
        for _ in range(count):
            conn = http.client.HTTPConnection(host, int(port), timeout=5.0)
            try:
                conn.request("GET", "/", headers={"Connection": "close"})
                response = conn.getresponse()
                body = response.read().decode("utf-8", "replace")
                answers.append(Answer(response.status, response.getheader(VERSION_HEADER),
                                      body))
            except (OSError, http.client.HTTPException) as exc:
                answers.append(Answer(None, None, f"{type(exc).__name__}: {exc}"))
            finally:
                conn.close()
        return answers

    def running_versions(self, *versions: str) -> dict[str, int]:
        """How many instances of each of ``versions`` the target runs now."""
        return {version: len(self.target.instances(version)) for version in versions}

    # -- teardown ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the load and every instance (checked by PID), then the store."""
        try:
            self.stop_load()
            with contextlib.suppress(Exception):
                self.target.close()
            survivors = _wait_gone(self.target, str(self.app))
            for pid in survivors:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            assert not survivors, f"instances {sorted(survivors)} outlived the target's close()"
        finally:
            self.store.close()


def _wait_gone(target: TrackedTarget, marker: str, timeout_s: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout_s
    alive = target.running_pids(marker)
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = target.running_pids(marker)
    return alive


@contextmanager
def matrix(kind: str, root: Path) -> Iterator[Matrix]:
    """A :class:`Matrix` on a started router of ``kind``; everything stopped on the way out."""
    from tests.integration.router_process_factories import managed_haproxy, managed_nginx

    with ExitStack() as stack:
        router: Router
        if kind == "embedded":
            embedded = EmbeddedRouter(EmbeddedOptions())
            embedded.start()
            stack.callback(embedded.close)
            router = embedded
        elif kind == "haproxy":
            router = stack.enter_context(managed_haproxy(root / "router", stats=False))
        elif kind == "nginx":
            router = stack.enter_context(managed_nginx(root / "router", reload_settle_s=0.5))
        else:
            raise ValueError(f"unknown router kind {kind!r}")
        setup = Matrix(kind, root, router, stack)
        stack.callback(setup.close)  # runs before the router is stopped
        yield setup
