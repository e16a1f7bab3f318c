"""A rollout controller in its own process, for the kill -9 test (``test_rollout_kill9.py``).

Run as ``python tests/integration/rollout_driver.py start|resume ...``. It drives one service
with the real engine, the real SQLite store and the real ``local`` target (one
``python -m http.server`` process per instance), against either

* ``--router http://127.0.0.1:PORT``: a router kept by the test process and driven over HTTP
  (like HAProxy or NGINX, it outlives the controller, so a killed controller leaves its split
  in place for the next one to find), or
* ``--router embedded``: safeship's embedded router inside this process (it dies with it; the
  resumed controller starts a new one and re-asserts the split).

The judge is scripted and depends only on the step (so a resumed controller decides the same):
ROLLBACK once the step at ``--bad-percent`` has run 0.1 s, PROCEED once any other step has run
0.15 s, INSUFFICIENT_DATA before. It prints one JSON line with the outcome and the split the
router reports at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from safeship.engine.clock import SystemClock
from safeship.engine.rollout import (
    ControllerSettings,
    RolloutController,
    RolloutSetup,
    stable_of,
)
from safeship.engine.rollout_actions import ActionSettings
from safeship.engine.rollout_lease import holder_is_dead_here, new_holder_id
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.metrics.interface import MetricsProvider, TimeRange
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    Arm,
    Decision,
    Series,
)
from safeship.model.canary import (
    CanaryMetric,
    CanarySpec,
    CanaryStep,
    JudgeName,
    Scope,
)
from safeship.model.endpoints import Endpoint
from safeship.routers.interface import Router, RouterRejected, RouterUnavailable
from safeship.store.rollouts import RolloutStore
from safeship.strategies.canary import CanaryStrategy
from safeship.strategies.interface import ArtifactRef, RolloutRequest, Strategy
from safeship.targets.local import LocalOptions, LocalTarget

STEPS = (CanaryStep(10, 0.4), CanaryStep(50, 0.4), CanaryStep(100, 0.4))
PROCEED_AFTER_S = 0.15
ROLLBACK_AFTER_S = 0.1


class HttpRouter(Router):
    """A client of the test's router server (one service per path prefix)."""

    type_name: ClassVar[str] = "http_fake"

    def __init__(self, base_url: str, service: str) -> None:
        self._base = f"{base_url.rstrip('/')}/{service}"
        self._client = httpx.Client(timeout=5.0, trust_env=False)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self._client.request(method, self._base + path, json=body)
        except httpx.HTTPError as exc:
            raise RouterUnavailable(f"router server: {exc}") from exc
        if response.status_code == 422:
            raise RouterRejected(response.json()["error"])
        if response.status_code != 200:
            raise RouterUnavailable(f"router server answered {response.status_code}")
        return response.json()

    def set_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> None:
        self._call("PUT", "/backends", {v: [[e.host, e.port] for e in eps]
                                        for v, eps in backends.items()})

    def set_weights(self, weights: Mapping[str, float]) -> None:
        self._call("PUT", "/weights", dict(weights))

    def weights(self) -> dict[str, float]:
        return {str(k): float(v) for k, v in self._call("GET", "/weights").items()}

    def reset(self) -> None:
        self._call("DELETE", "/")

    def close(self) -> None:
        self._client.close()


class QuietMetrics(MetricsProvider):
    """No series: the scripted judge decides from the steps alone."""

    type_name: ClassVar[str] = "quiet"

    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        return Series()


def scripted_judge(bad_percent: float | None) -> Any:
    def judge(data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
        step = data.steps[-1]
        ran = data.now - step.start
        if bad_percent is not None and step.percentage == bad_percent and \
                ran >= ROLLBACK_AFTER_S:
            decision = Decision.ROLLBACK
        elif (bad_percent is None or step.percentage != bad_percent) and \
                ran >= PROCEED_AFTER_S:
            decision = Decision.PROCEED
        else:
            decision = Decision.INSUFFICIENT_DATA
        return AnalysisVerdict(decision, "scripted", (),
                               (f"scripted {decision.value} at {step.percentage:g}% after "
                                f"{ran:.2f} s",))
    return judge


def spec() -> CanarySpec:
    return CanarySpec("driver", "kill9", STEPS, (CanaryMetric("error_rate", "errors"),))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["start", "resume"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--version", default="v2")
    parser.add_argument("--router", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--bad-percent", type=float, default=None)
    args = parser.parse_args(argv)

    root = Path(args.state_dir)
    store = RolloutStore.open(args.db, root)
    if args.router == "embedded":
        from safeship.routers.embedded import EmbeddedRouter

        embedded = EmbeddedRouter()
        embedded.start()
        router: Router = embedded
    else:
        router = HttpRouter(args.router, args.service)
    target = LocalTarget(LocalOptions(
        command=[sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"],
        health={"path": "/", "timeout": 2.0}, startup_timeout=15.0, grace_period=0.5,
        state_dir=root / "target"))

    def strategies(name: str) -> Strategy:
        return CanaryStrategy()

    judge = scripted_judge(args.bad_percent)
    controller = RolloutController(
        store, router, target, clock=SystemClock(), holder=new_holder_id(),
        strategies=strategies, judges=lambda name: judge, metrics=QuietMetrics(),
        settings=ControllerSettings(
            lease_ttl_s=2.0, idle_poll_s=0.05, rollback_attempts=3, rollback_backoff_s=0.2,
            actions=ActionSettings(readback_timeout_s=5.0, readback_poll_s=0.01,
                                   health_poll_s=0.05)))
    try:
        if args.action == "start":
            stable = stable_of(store, args.service)
            artifact = root / f"{args.version}.tar"
            artifact.write_text(f"{args.service} {args.version}\n")
            digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
            request = RolloutRequest(
                service=args.service, version=args.version, replicas=1,
                artifact=ArtifactRef(str(artifact), digest),
                stable=stable, canary_steps=STEPS, judge=JudgeName.THRESHOLD)
            outcome = controller.start(request, RolloutSetup(
                "canary", spec(), AnalysisPolicy(scrape_interval_s=0.05,
                                                 max_interruption_s=60.0), actor="kill9"))
        else:
            lease = store.lease(args.service)
            steal = lease.holder if lease is not None and holder_is_dead_here(lease.holder) \
                else None
            outcome = controller.resume(args.service, steal_from=steal)
        print(json.dumps({"status": outcome.status.value,
                          "release_id": outcome.release.release_id,
                          "weights": router.weights()}), flush=True)
    finally:
        router.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
