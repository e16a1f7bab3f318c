"""Rollback benchmark: how fast traffic leaves a canary, with the embedded router and HAProxy.

Everything runs on 127.0.0.1. Two good versions of the demo's sample service
(:mod:`safeship.demo.sample_app`) run under the ``local`` target, behind each router in turn,
while the demo's load generator (:mod:`safeship.demo.load`) sends steady traffic through it.

Each of ``--rounds`` (default 20) rollbacks:

1. put the canary at ``CANARY_PERCENT`` % and wait until the router reads it back and the canary
   answers requests;
2. at the ROLLBACK decision instant, ``set_weights({stable: 100, canary: 0})`` (what the
   controller does), then poll ``weights()`` until it reads back 0 % on the canary, then send a
   fresh request until one answers from stable;
3. the rollback time is from the decision to the end of step 2.

Reported per router: p50, p99 and max rollback time, requests that failed in the routing
(connection errors, 5xx without the application's version header) while weights changed, and
canary answers to requests sent after the router read back 0 %. Target: p99 <= 1 s and 0 failed
requests: PASS / FAIL per router. HAProxy (``manage_process: true``) is skipped with a message
when ``/usr/sbin/haproxy`` is missing.

``python benchmarks/rollback.py [--rounds 20] [--rate 200]``. Bounded in count and time; exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from safeship.demo.load import LoadGenerator
from safeship.demo.sample_app import HEALTH_PATH, VERSION_HEADER, write_app
from safeship.routers.embedded import EmbeddedOptions, EmbeddedRouter
from safeship.routers.haproxy import HaproxyOptions, HaproxyRouter
from safeship.routers.interface import Router
from safeship.targets.local import LocalOptions, LocalTarget

STABLE = "v1"
CANARY = "v3"
CANARY_PERCENT = 25.0
TARGET_P99_S = 1.0
HAPROXY = Path("/usr/sbin/haproxy")
READBACK_TIMEOUT_S = 5.0
POLL_S = 0.002
CANARY_WARM_TIMEOUT_S = 5.0
FRESH_ATTEMPTS = 200


@dataclass(frozen=True)
class RouterResult:
    """One router's rollbacks."""

    name: str
    seconds: tuple[float, ...]
    failed_requests: int
    canary_after_readback: int
    timeouts: int

    def verdict(self) -> str:
        """PASS when p99 <= the target, nothing failed, nothing reached the canary after."""
        ok = (self.seconds and float(np.percentile(self.seconds, 99)) <= TARGET_P99_S
              and self.failed_requests == 0 and self.canary_after_readback == 0
              and self.timeouts == 0)
        return "PASS" if ok else "FAIL"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_version(host: str, port: int) -> str | None:
    """The version answering one request on a new connection (None on failure)."""
    connection = http.client.HTTPConnection(host, port, timeout=2.0)
    try:
        connection.request("GET", "/", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.getheader(VERSION_HEADER)
    except OSError:
        return None
    finally:
        connection.close()


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``predicate()`` every POLL_S until true or ``timeout_s`` passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(POLL_S)
    return False


def _share(router: Router) -> float:
    return router.weights().get(CANARY, 0.0)


def _canary_answered(load: LoadGenerator, since: float) -> bool:
    return any(a.version == CANARY for a in load.answers(since))


def _healthy(target: LocalTarget, version: str) -> bool:
    return all(h.healthy for h in target.health(version))


def run_rounds(name: str, router: Router, host: str, port: int, rounds: int,
               rate: float) -> RouterResult:
    """``rounds`` rollbacks under steady load through ``router`` listening on host:port."""
    seconds: list[float] = []
    after = 0
    timeouts = 0
    url = f"http://{host}:{port}/"
    router.set_weights({STABLE: 100.0, CANARY: 0.0})
    with LoadGenerator(url, rate_per_s=rate, max_duration_s=600.0) as load:
        time.sleep(0.5)
        begin = time.monotonic()
        for _ in range(rounds):
            router.set_weights({STABLE: 100.0 - CANARY_PERCENT, CANARY: CANARY_PERCENT})
            armed = time.monotonic()
            wait_until(lambda: _share(router) == CANARY_PERCENT, READBACK_TIMEOUT_S)
            wait_until(partial(_canary_answered, load, armed), CANARY_WARM_TIMEOUT_S)
            decided = time.monotonic()  # the ROLLBACK decision
            router.set_weights({STABLE: 100.0, CANARY: 0.0})
            read_back = wait_until(lambda: _share(router) == 0.0, READBACK_TIMEOUT_S)
            zeroed = time.monotonic()
            answered = False
            for _attempt in range(FRESH_ATTEMPTS):
                if fresh_version(host, port) == STABLE:
                    answered = True
                    break
            done = time.monotonic()
            if not (read_back and answered):
                timeouts += 1
                continue
            seconds.append(done - decided)
            time.sleep(0.2)  # let requests in flight at the switch finish
            after += sum(1 for a in load.answers(zeroed)
                         if a.version == CANARY and a.sent_at <= time.monotonic())
        time.sleep(0.3)
        failed = sum(1 for a in load.answers(begin) if a.routing_failure)
        stats = load.stats()
    print(f"  {name}: {stats.sent} requests sent, {stats.skipped} skipped (in-flight limit)")
    return RouterResult(name, tuple(seconds), failed, after, timeouts)


@contextlib.contextmanager
def embedded_router(work: Path) -> Iterator[tuple[Router, str, int]]:
    """The embedded router on a free loopback port."""
    router = EmbeddedRouter(EmbeddedOptions())
    endpoint = router.start()
    try:
        yield router, endpoint.host, endpoint.port
    finally:
        router.close()


@contextlib.contextmanager
def haproxy_router(work: Path) -> Iterator[tuple[Router, str, int]]:
    """A real HAProxy run by safeship's router (manage_process)."""
    socket_dir = Path(tempfile.mkdtemp(prefix="ss-rb-"))
    port = free_port()
    router = HaproxyRouter(HaproxyOptions(
        config_dir=work / "haproxy", socket=socket_dir / "admin.sock",
        listen=f"127.0.0.1:{port}", manage_process=True, haproxy_binary=str(HAPROXY)))
    try:
        router.start()
        yield router, "127.0.0.1", port
    finally:
        router.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


def report(results: list[RouterResult]) -> None:
    """The table and the verdicts."""
    print(f"{'router':<10} {'rounds':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'failed':>7} {'canary after':>12} {'timeouts':>8}  verdict")
    for r in results:
        if r.seconds:
            p50, p99, peak = (float(np.percentile(r.seconds, 50)) * 1e3,
                              float(np.percentile(r.seconds, 99)) * 1e3, max(r.seconds) * 1e3)
        else:
            p50 = p99 = peak = float("nan")
        print(f"{r.name:<10} {len(r.seconds):>6} {p50:>8.1f} {p99:>8.1f} {peak:>8.1f} "
              f"{r.failed_requests:>7} {r.canary_after_readback:>12} {r.timeouts:>8}  "
              f"{r.verdict()}")
    print(f"target: p99 <= {TARGET_P99_S * 1e3:.0f} ms, 0 failed requests, "
          "0 canary answers after the router read back 0 %")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (always exits 0: these are measurements)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, choices=range(1, 201),
                        metavar="N (1-200)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="safeship-bench-rollback-"))
    results: list[RouterResult] = []
    try:
        app = write_app(work / "app")
        target = LocalTarget(LocalOptions(
            command=[sys.executable, str(app), "--port", "{port}"],
            health={"path": HEALTH_PATH, "timeout": 2.0}, startup_timeout=20.0,
            grace_period=0.5, state_dir=work / "target"))
        try:
            backends = {version: [i.endpoint for i in target.deploy(version, 1)]
                        for version in (STABLE, CANARY)}
            for version in backends:
                if not wait_until(partial(_healthy, target, version), 20.0):
                    print(f"{version} of the sample service never became healthy")
                    return 0
            factories = [("embedded", embedded_router)]
            if HAPROXY.exists():
                factories.append(("haproxy", haproxy_router))
            else:
                print(f"haproxy: skipped ({HAPROXY} is missing; apt-get install haproxy)")
            for name, factory in factories:
                print(f"{name}: {args.rounds} rollbacks under {args.rate:g} requests/s ...")
                try:
                    with factory(work) as (router, host, port):
                        router.set_backends(backends)
                        results.append(run_rounds(name, router, host, port, args.rounds,
                                                  args.rate))
                except Exception as exc:  # report and go on: one broken router is a result
                    print(f"  {name}: failed to run: {type(exc).__name__}: {exc}")
        finally:
            target.close()
        report(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
