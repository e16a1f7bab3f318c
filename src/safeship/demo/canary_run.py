"""The canary part of ``safeship demo``: v1 live, v2 caught and rolled back, v3 promoted.

:class:`CanaryDemo` assembles the real pieces on this machine, in real time with compressed
steps: the embedded router, the ``local`` target running the sample service of
:mod:`safeship.demo.sample_app`, the ``builtin`` metrics provider reading the router's counters,
the rollout controller with its SQLite store, and steady traffic from
:mod:`safeship.demo.load`.

**Judge.** The ``threshold`` judge with ``min_sample_size`` :data:`MIN_SAMPLE_SIZE`. The
``sequential`` judge (the default) is the better judge of a real canary, but it only PROCEEDs
once its confidence bounds prove the canary no worse than the baseline; a good sample service
has no errors at all, so its error test has no evidence and it could never promote v3 within
steps of a few seconds at a few hundred requests per second. The limits: an error rate above 2x
the baseline's (with an error-free baseline, any canary error), and a median (p50) latency above
:data:`P50_LIMIT_MS` ms. v2's extra 80 ms puts every one of its requests above the limit, so a
few requests at 1 % suffice; the good versions answer in a few milliseconds. The median, not the
p95: at 1 % the canary serves two or three requests per scrape, and a p95 of so few requests is
their slowest one, which a busy machine (a test run beside the demo) pushed past 50 ms in one of
the first trials and rolled back the good v3.

**Prometheus** (``safeship demo --prometheus``): when ``/usr/bin/prometheus`` is installed, a
real Prometheus (:mod:`safeship.demo.prometheus_server`) scrapes the router's admin ``/metrics``
every second and the ``prometheus`` provider answers the same two metrics with PromQL over
``safeship_router_requests_total`` and ``safeship_router_request_duration_seconds_bucket``
(rate windows of :data:`PROMQL_RATE_WINDOW`, steps of :data:`PROMETHEUS_STEP_DURATION_S` s so
that each step has several scrapes). Without the binary, or if it cannot start or scrape, the
demo says so and uses the ``builtin`` provider.

Nothing here prints: :meth:`CanaryDemo.status` is what the CLI shows while a release runs;
:attr:`CanaryDemo.notes` says where the metrics came from.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from safeship.demo.load import LoadGenerator, LoadStats
from safeship.demo.prometheus_server import DemoPrometheus, PrometheusStartError
from safeship.demo.sample_app import HEALTH_PATH, write_app
from safeship.engine.clock import SystemClock
from safeship.engine.rollout import (
    ControllerSettings,
    RolloutController,
    RolloutSetup,
    stable_of,
)
from safeship.engine.rollout_actions import ActionSettings
from safeship.engine.rollout_lease import new_holder_id
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.rollout_state import InsufficientDataPolicy, RolloutStatus
from safeship.judge.interface import Judge
from safeship.metrics.builtin import BuiltinOptions, BuiltinProvider
from safeship.metrics.interface import MetricsProvider
from safeship.metrics.prometheus import PrometheusOptions, PrometheusProvider
from safeship.model.analysis import AnalysisInput, AnalysisReport, AnalysisVerdict, Decision
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
from safeship.registry_analysis import judge_for
from safeship.registry_delivery import STRATEGIES
from safeship.report import render_analysis_html
from safeship.routers.embedded import EmbeddedRouter
from safeship.routers.embedded_options import EmbeddedOptions
from safeship.store.rollouts import RolloutStore
from safeship.strategies.interface import ArtifactRef, RolloutRequest, Strategy
from safeship.targets.local import LocalOptions, LocalTarget

SERVICE = "demo-shop"
STEP_PERCENTAGES = (1.0, 5.0, 25.0, 100.0)
STEP_DURATION_S = 4.0
SCRAPE_INTERVAL_S = 1.0
LOAD_RATE_PER_S = 250.0
MIN_SAMPLE_SIZE = 5
P50_LIMIT_MS = 60.0  # v2 adds 80 ms; room for a busy machine beside good versions
WARM_UP_S = 1.0
LOAD_LIMIT_S = 240.0  # the load generator stops by itself after this, whatever happens
_FAILURE_TAIL_S = 0.5  # routing failures this long after a release still count against it
PROMETHEUS_STEP_DURATION_S = 6.0  # a few 1 s scrapes per step, plus the scrape lag
PROMQL_RATE_WINDOW = "5s"
PROMETHEUS_DATA_TIMEOUT_S = 30.0  # the first scrape comes ~6 s after Prometheus starts
_PROMETHEUS_WARM_UP_S = 2.5  # after the first sample: rate() needs two samples of the baseline
_REQUESTS = "safeship_router_requests_total"
_BUCKETS = "safeship_router_request_duration_seconds_bucket"
PROMQL_ERROR_RATE = (
    f'(sum(rate({_REQUESTS}{{code_class="5xx"}}[{PROMQL_RATE_WINDOW}])) or vector(0)) / '
    f"sum(rate({_REQUESTS}[{PROMQL_RATE_WINDOW}]))")
"""Errors over requests; ``or vector(0)``: no 5xx series yet means no errors, not no data."""
PROMQL_LATENCY_P50 = (f"histogram_quantile(0.5, sum by (le) "
                      f"(rate({_BUCKETS}[{PROMQL_RATE_WINDOW}])))")


def step_duration_s(prometheus: bool = False) -> float:
    """Seconds per canary step (longer with Prometheus, which needs scrapes in each step)."""
    return PROMETHEUS_STEP_DURATION_S if prometheus else STEP_DURATION_S


def demo_spec(prometheus: bool = False) -> CanarySpec:
    """The canary analysis of the demo: compressed steps, two metrics, the threshold judge.

    With ``prometheus`` the metrics are PromQL over the router's series (the provider narrows
    each selector to a version) and the steps are :data:`PROMETHEUS_STEP_DURATION_S` long.
    """
    errors, latency = (PROMQL_ERROR_RATE, PROMQL_LATENCY_P50) if prometheus else (
        "errors", "latency p50")
    return CanarySpec(
        source="safeship demo", name="demo-shop-canary",
        steps=tuple(CanaryStep(p, step_duration_s(prometheus)) for p in STEP_PERCENTAGES),
        metrics=(
            CanaryMetric("error_rate", errors, Threshold(max_increase_ratio=2.0),
                         category=MetricCategory.AVAILABILITY, critical=True),
            CanaryMetric("latency_p50", latency, Threshold(max_absolute_ms=P50_LIMIT_MS),
                         category=MetricCategory.LATENCY),
        ),
        judge=JudgeConfig(name=JudgeName.THRESHOLD, min_sample_size=MIN_SAMPLE_SIZE,
                          min_exposure_s=0.0))


@dataclass(frozen=True)
class ReleaseResult:
    """How one release of the demo ended, in the numbers ``--json`` writes."""

    version: str
    decision: str
    max_canary_percent: float
    rollback_seconds: float | None
    canary_requests_after_rollback: int
    failed_requests_during_weight_changes: int
    explanation: tuple[str, ...] = ()
    duration_seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        """The ``releases[]`` entry of ``--json``."""
        return {"version": self.version, "decision": self.decision,
                "max_canary_percent": self.max_canary_percent,
                "rollback_seconds": self.rollback_seconds,
                "canary_requests_after_rollback": self.canary_requests_after_rollback,
                "failed_requests_during_weight_changes":
                    self.failed_requests_during_weight_changes}


@dataclass(frozen=True)
class DemoStatus:
    """A snapshot for the live view."""

    phase: str
    weights: dict[str, float]
    load: LoadStats | None
    elapsed_s: float


class _WatchedRouter(EmbeddedRouter):
    """The embedded router, remembering when each split took effect (monotonic seconds)."""

    def __init__(self, options: EmbeddedOptions) -> None:
        super().__init__(options)
        self.changes: list[tuple[float, dict[str, float]]] = []
        self._changes_lock = threading.Lock()

    def set_weights(self, weights: Mapping[str, float]) -> None:
        super().set_weights(weights)
        with self._changes_lock:
            self.changes.append((time.monotonic(), {k: float(v) for k, v in weights.items()}))

    def zeroed_at(self, version: str, after: float) -> float | None:
        """The last instant after ``after`` at which ``version`` was set to 0 %."""
        with self._changes_lock:
            hits = [at for at, split in self.changes
                    if at >= after and split.get(version, 0.0) <= 0.0 and version in split]
        return hits[-1] if hits else None


@dataclass
class _Recorder:
    """Wraps the judge and keeps every verdict with its evidence (for the HTML report)."""

    judge: Judge
    timeline: list[AnalysisVerdict] = field(default_factory=list)
    last_input: AnalysisInput | None = None
    decided: AnalysisVerdict | None = None

    def __call__(self, data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
        verdict = self.judge(data, spec)
        self.timeline.append(verdict)
        self.last_input = data
        if verdict.decision is Decision.ROLLBACK and self.decided is None:
            self.decided = verdict
        return verdict


class CanaryDemo:
    """The demo's rollouts on this machine (a context manager: it stops what it started).

    ``prometheus_binary``: run that Prometheus and read the metrics from it (None: the
    ``builtin`` provider). If it cannot start or scrape, the demo falls back to ``builtin`` and
    says so in :attr:`notes`.
    """

    def __init__(self, root: Path, *, prometheus_binary: str | None = None) -> None:
        self.root = root
        self.prometheus_binary = prometheus_binary
        self.prometheus: DemoPrometheus | None = None
        self.notes: list[str] = []
        self.spec = demo_spec(prometheus=prometheus_binary is not None)
        self.app = write_app(root / "app")
        self.router = _WatchedRouter(EmbeddedOptions())
        self.target = LocalTarget(LocalOptions(
            command=[sys.executable, str(self.app), "--port", "{port}"],
            health={"path": HEALTH_PATH, "timeout": 2.0}, startup_timeout=20.0,
            grace_period=0.5, state_dir=root / "target", cwd=root / "app"))
        self.store = RolloutStore.open(None, root)
        self.load: LoadGenerator | None = None
        self.phase = "starting"
        self.recorders: dict[str, _Recorder] = {}
        self._began = time.monotonic()

    @property
    def metrics_source(self) -> str:
        """Where the judge's metrics come from: ``prometheus`` or ``builtin``."""
        return "prometheus" if self.prometheus is not None else "builtin"

    def __enter__(self) -> CanaryDemo:
        self.router.start()
        if self.prometheus_binary is not None:
            self._start_prometheus(self.prometheus_binary)
        return self

    def _start_prometheus(self, binary: str) -> None:
        target = urlsplit(self.router.admin_url).netloc
        server = DemoPrometheus(binary, target, self.router.admin_token)
        try:
            server.start()
        except (PrometheusStartError, OSError) as exc:
            self._fall_back(f"Prometheus could not be started ({_first_line(exc)})")
            return
        self.prometheus = server
        self.notes.append(f"metrics from Prometheus at {server.url} (scraping the embedded "
                          f"router's /metrics at {target} every 1 s)")

    def _fall_back(self, why: str) -> None:
        if self.prometheus is not None:
            with contextlib.suppress(Exception):
                self.prometheus.stop()
        self.prometheus = None
        self.spec = demo_spec()
        self.notes.append(f"{why}: falling back to the builtin metrics provider "
                          "(the router's own counters)")

    def __exit__(self, *args: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the load, every instance, the router and the store (each bounded)."""
        if self.load is not None:
            self.load.stop()
        if self.prometheus is not None:
            with contextlib.suppress(Exception):
                self.prometheus.stop()
        with contextlib.suppress(Exception):
            self.target.close()
        with contextlib.suppress(Exception):
            self.router.close()
        with contextlib.suppress(Exception):
            self.store.close()

    def status(self) -> DemoStatus:
        """What runs now: phase, the split the router reports, the traffic so far."""
        try:
            weights = self.router.weights()
        except Exception:  # the live view must never break the demo
            weights = {}
        return DemoStatus(self.phase, weights,
                          self.load.stats() if self.load is not None else None,
                          time.monotonic() - self._began)

    # the steps ------------------------------------------------------------------------------

    def start_stable(self, version: str = "v1") -> RolloutStatus:
        """Release ``version`` as the first version, then start the steady load."""
        self.phase = f"starting {version} behind the embedded router"
        outcome = self._controller(None, version).start(
            self._request(version), RolloutSetup("canary", self.spec, self._policy(),
                                                 actor="demo"))
        self.load = LoadGenerator(self.router.url + "/", rate_per_s=LOAD_RATE_PER_S,
                                  max_duration_s=LOAD_LIMIT_S)
        self.load.start()
        if self.prometheus is not None:
            self.phase = "waiting for Prometheus' first scrape of the router"
            try:
                waited = self.prometheus.wait_for_data(f'{_REQUESTS}{{version="{version}"}}',
                                                       PROMETHEUS_DATA_TIMEOUT_S)
            except PrometheusStartError as exc:
                self._fall_back(f"Prometheus had no data ({_first_line(exc)})")
            else:
                self.notes.append(f"Prometheus' first sample of the router came {waited:.1f} s "
                                  "after it started")
                time.sleep(_PROMETHEUS_WARM_UP_S)
                return outcome.status
        time.sleep(WARM_UP_S)  # a baseline before the first canary step
        return outcome.status

    def canary(self, version: str) -> ReleaseResult:
        """Canary ``version`` through the steps; the judge decides promotion or rollback."""
        began = time.monotonic()
        stable = stable_of(self.store, SERVICE)
        baseline = stable.version if stable is not None else None
        self.phase = f"canary {version}" + (f" (stable {baseline})" if baseline else "")
        recorder = _Recorder(judge_for(JudgeName.THRESHOLD))
        self.recorders[version] = recorder
        controller = self._controller(baseline, version, recorder)
        outcome = controller.start(self._request(version),
                                   RolloutSetup("canary", self.spec, self._policy(),
                                                actor="demo"))
        ended = time.monotonic()
        rec = outcome.release
        zeroed = (self.router.zeroed_at(version, began)
                  if outcome.status is RolloutStatus.ROLLED_BACK else None)
        after = 0
        failures = 0
        if self.load is not None:
            if zeroed is not None:
                after = sum(1 for a in self.load.answers(zeroed) if a.version == version)
            failures = sum(1 for a in self.load.answers(began)
                           if a.routing_failure and a.sent_at <= ended + _FAILURE_TAIL_S)
        decision = {RolloutStatus.ROLLED_BACK: "ROLLED_BACK",
                    RolloutStatus.SUCCEEDED: "PROMOTED"}.get(outcome.status,
                                                             outcome.status.value.upper())
        return ReleaseResult(
            version=version, decision=decision, max_canary_percent=rec.max_canary_percent,
            rollback_seconds=rec.rollback_seconds, canary_requests_after_rollback=after,
            failed_requests_during_weight_changes=failures,
            explanation=_explain(recorder, rec.reason), duration_seconds=ended - began)

    def write_report(self, version: str, path: Path) -> Path | None:
        """The HTML report of ``version``'s analysis (None when it was never judged)."""
        recorder = self.recorders.get(version)
        if recorder is None or recorder.last_input is None or not recorder.timeline:
            return None
        final = recorder.decided or recorder.timeline[-1]
        report = AnalysisReport(self.spec.name, JudgeName.THRESHOLD.value, recorder.last_input,
                                tuple(recorder.timeline), final,
                                source=("Prometheus" if self.prometheus is not None
                                        else "embedded router"))
        path.write_text(render_analysis_html(report, self.spec), encoding="utf-8")
        return path

    # assembly -------------------------------------------------------------------------------

    def _request(self, version: str) -> RolloutRequest:
        artifact = self.root / "app" / f"{SERVICE}-{version}.txt"
        artifact.write_text(f"{SERVICE} {version}\n", encoding="utf-8")
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
        return RolloutRequest(service=SERVICE, version=version, replicas=1,
                              artifact=ArtifactRef(str(artifact), digest),
                              stable=stable_of(self.store, SERVICE),
                              canary_steps=self.spec.steps, judge=JudgeName.THRESHOLD,
                              health_timeout_s=20.0)

    @staticmethod
    def _policy() -> AnalysisPolicy:
        return AnalysisPolicy(scrape_interval_s=SCRAPE_INTERVAL_S,
                              on_insufficient_data=InsufficientDataPolicy.EXTEND,
                              max_interruption_s=60.0)

    def _controller(self, baseline: str | None, version: str,
                    judge: Judge | None = None) -> RolloutController:
        scope = Scope("version", baseline or "baseline", version)
        metrics: MetricsProvider
        if self.prometheus is not None:
            metrics = PrometheusProvider(PrometheusOptions(url=self.prometheus.url, timeout=5.0,
                                                           retries=1))
        else:
            metrics = BuiltinProvider(self.router, BuiltinOptions(), scope=scope)
        chosen: Judge = judge if judge is not None else judge_for(JudgeName.THRESHOLD)

        def strategies(name: str) -> Strategy:
            return STRATEGIES[name]()  # type: ignore[return-value]

        return RolloutController(
            self.store, self.router, self.target, clock=SystemClock(), holder=new_holder_id(),
            strategies=strategies, judges=lambda name: chosen, metrics=metrics,
            settings=ControllerSettings(
                lease_ttl_s=30.0, idle_poll_s=0.1, rollback_attempts=3, rollback_backoff_s=0.2,
                actions=ActionSettings(readback_timeout_s=5.0, readback_poll_s=0.01,
                                       health_poll_s=0.1)))


def _explain(recorder: _Recorder, reason: str | None) -> tuple[str, ...]:
    """Why the release ended (the release's reason, else the deciding verdict's reasons), then
    each metric's verdict with its numbers."""
    verdict = recorder.decided or (recorder.timeline[-1] if recorder.timeline else None)
    lines: list[str] = [reason] if reason else []
    if verdict is not None:
        if not lines:
            lines.extend(verdict.reasons)
        lines.extend(f"{m.name}: {m.outcome.value}: {m.detail}" for m in verdict.metrics)
    return tuple(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
