"""kill -9 a rollout controller at random points, resume it, and check nothing is ever lost.

Each rollout runs the real engine in a subprocess (``rollout_driver.py``) with the real SQLite
store and the real ``local`` target (one ``python -m http.server`` per instance). The router is
kept by this test and served over HTTP on 127.0.0.1 (it outlives the controller, like HAProxy
or NGINX would); a second, smaller run uses the embedded router, which lives and dies with the
controller process.

For every rollout (seeded): v1 is released, then v2 is started as a canary (10 %, 50 %, then
100 % verification), killed with SIGKILL at a random instant, resumed (and sometimes killed
again) until it ends. Some canaries are scripted to fail at one step. The test then checks:

* every rollout ended, promoted or rolled back as scripted, never stuck, and no controller owns
  the service any more;
* the router sends 100 % to exactly one version (v2 when promoted, v1 when rolled back) and only
  that version still runs;
* the store holds every step: each forward step started once (a repeated one is recorded as
  resumed), completed in order, and the rollback plan's steps each started and completed once.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from safeship.engine.clock import SystemClock
from safeship.engine.rollout import RolloutController, RolloutSetup
from safeship.engine.rollout_codec import decode_plan
from safeship.model.endpoints import Endpoint
from safeship.routers.interface import RouterRejected
from safeship.store.rollouts import ReleaseRecord, RolloutStore
from safeship.strategies.canary import CanaryStrategy
from safeship.strategies.interface import ArtifactRef, RolloutRequest
from safeship.targets.local import LocalOptions, LocalTarget
from safeship.testing.fake_router import FakeRouter
from tests.integration.rollout_driver import HttpRouter, scripted_judge

DRIVER = Path(__file__).with_name("rollout_driver.py")
SEED = 20260301
ROLLOUTS = 20
EMBEDDED_ROLLOUTS = 3
WORKERS = 4
PROCESS_TIMEOUT_S = 40.0
MAX_KILLS = 2
MAX_AFTER = 20


class RouterServer:
    """Per-service fake routers (the shared FakeRouter's rules) behind a tiny HTTP API."""

    def __init__(self) -> None:
        self.routers: dict[str, FakeRouter] = {}
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                _, service, what = ([*self.path.split("/"), "", ""])[:3]
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                router = owner.router(service)
                try:
                    if self.command == "PUT" and what == "backends":
                        router.set_backends({v: [Endpoint(h, p) for h, p in eps]
                                             for v, eps in body.items()})
                    elif self.command == "PUT" and what == "weights":
                        router.set_weights(body)
                    elif self.command == "DELETE":
                        router.reset()
                except RouterRejected as exc:
                    self._answer(422, {"error": exc.message})
                    return
                self._answer(200, router.weights())

            do_GET = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def router(self, service: str) -> FakeRouter:
        with self.lock:
            return self.routers.setdefault(service, FakeRouter())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Rollout:
    """One service's story in the test."""

    service: str
    bad_percent: float | None
    router: str
    state_dir: Path
    kill_points: list[tuple[int, float]] = field(default_factory=list)
    kills: int = 0
    mid_rollout_kills: int = 0
    resumes: int = 0
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def expected(self) -> str:
        return "succeeded" if self.bad_percent is None else "rolled_back"


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A fast scratch dir (memory-backed when possible) for the store and the instances."""
    shm = Path("/dev/shm")
    folder = (Path(tempfile.mkdtemp(prefix="safeship-kill9-", dir=shm))
              if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path)
    try:
        yield folder
    finally:
        if folder != tmp_path:
            shutil.rmtree(folder, ignore_errors=True)


def _driver(action: str, rollout: Rollout, db: str, version: str = "v2"
            ) -> subprocess.Popen[str]:
    args = [sys.executable, str(DRIVER), action, "--db", db, "--service", rollout.service,
            "--version", version, "--router", rollout.router,
            "--state-dir", str(rollout.state_dir)]
    if rollout.bad_percent is not None:
        args += ["--bad-percent", str(rollout.bad_percent)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=PROCESS_TIMEOUT_S)
    assert process.returncode == 0, err[-3000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def _transitions(store: RolloutStore, service: str) -> int:
    found = [r for r in store.list_releases(service) if r.version == "v2"]
    return len(store.transitions(found[0].release_id)) if found else 0


def _kill_at(process: subprocess.Popen[str], store: RolloutStore, service: str, after: int,
             jitter_s: float) -> bool:
    """SIGKILL ``process`` once ``after`` more transitions of v2 are stored (plus a jitter, to
    land anywhere between a write and the action it announces). True when it was killed."""
    goal = _transitions(store, service) + after
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        if _transitions(store, service) >= goal:
            time.sleep(jitter_s)
            if process.poll() is not None:
                break
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=PROCESS_TIMEOUT_S)
            return True
        time.sleep(0.005)
    process.communicate(timeout=PROCESS_TIMEOUT_S)
    return False


def _v2(db: str, rollout: Rollout) -> ReleaseRecord | None:
    """The v2 release of the service, once its controller recorded it."""
    with RolloutStore.open(db, rollout.state_dir) as store:
        found = [r for r in store.list_releases(rollout.service) if r.version == "v2"]
    return found[0] if found else None


def _next_action(db: str, rollout: Rollout) -> str | None:
    """start (v2 not recorded yet), resume (in progress) or None (it ended)."""
    rec = _v2(db, rollout)
    if rec is None:
        return "start"
    return "resume" if rec.active else None


def _release_v1(rollout: Rollout, db: str) -> None:
    """The first release, in this process: nothing to kill there."""
    router: Any = (HttpRouter(rollout.router, rollout.service) if rollout.router != "embedded"
                   else FakeRouter())
    with RolloutStore.open(db, rollout.state_dir) as store:
        controller = RolloutController(
            store, router, _target(rollout), clock=SystemClock(),
            holder=f"test-{rollout.service}", strategies=lambda name: CanaryStrategy(),
            judges=lambda name: scripted_judge(None))
        artifact = rollout.state_dir / "v1.tar"
        artifact.write_text(f"{rollout.service} v1\n")
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
        outcome = controller.start(
            RolloutRequest(rollout.service, "v1", 1, ArtifactRef(str(artifact), digest)),
            RolloutSetup("canary", actor="kill9"))
    router.close()
    assert outcome.status.value == "succeeded"


def play(rollout: Rollout, db: str) -> None:
    """v1, then v2 killed and resumed until it ends."""
    rollout.state_dir.mkdir(parents=True, exist_ok=True)
    _release_v1(rollout, db)
    action: str | None = "start"
    with RolloutStore.open(db, rollout.state_dir) as watcher:
        for after, jitter in rollout.kill_points:
            assert action is not None
            process = _driver(action, rollout, db)
            rollout.resumes += action == "resume"
            killed = _kill_at(process, watcher, rollout.service, after, jitter)
            action = _next_action(db, rollout)
            if killed:
                rollout.kills += 1
                rollout.mid_rollout_kills += action == "resume"
            if action is None:
                return
    while action is not None:  # no more kills: let it finish
        rollout.resumes += action == "resume"
        rollout.outputs.append(_finish(_driver(action, rollout, db)))
        action = _next_action(db, rollout)


def _target(rollout: Rollout) -> LocalTarget:
    return LocalTarget(LocalOptions(
        command=[sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"],
        health={"path": "/", "timeout": 2.0}, startup_timeout=15.0, grace_period=0.5,
        state_dir=rollout.state_dir / "target"))


def _stop_instances(rollout: Rollout) -> dict[str, int]:
    target = _target(rollout)
    running = {v: len(target.instances(v)) for v in ("v1", "v2")}
    for version in ("v1", "v2"):
        target.retire(version)
    return running


def _check_steps(store: RolloutStore, rec: ReleaseRecord) -> None:
    events = store.transitions(rec.release_id)
    plan = decode_plan(rec.plan)
    forward_started = [e.step_index for e in events
                       if e.event == "step_started" and e.phase == "forward"]
    forward_done = [e.step_index for e in events
                    if e.event == "step_completed" and e.phase == "forward"]
    assert forward_started == sorted(set(forward_started)), forward_started  # each once
    assert forward_done == sorted(set(forward_done)), forward_done
    assert forward_started[:len(forward_done)] == forward_done
    assert forward_started == list(range(len(forward_started)))  # none skipped
    if rec.status == "succeeded":
        assert forward_done == list(range(len(plan)))
        return
    rollback = decode_plan(rec.rollback_plan)
    started = [e.step_index for e in events if e.phase == "rollback" and (
        e.event == "step_started" or (e.event == "rollback_started" and e.step_kind))]
    done = [e.step_index for e in events
            if e.event == "step_completed" and e.phase == "rollback"]
    assert started == done == list(range(len(rollback))), (started, done)
    assert rec.rollback_seconds is not None


def _run(rollouts: list[Rollout], db: str) -> None:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for future in [pool.submit(play, rollout, db) for rollout in rollouts]:
            future.result(timeout=180)


def _plan_rollouts(count: int, router: str, base: Path, rng: random.Random,
                   prefix: str) -> list[Rollout]:
    rollouts = []
    for index in range(count):
        bad = rng.choice([None, None, 10.0, 50.0, 100.0])
        # Kill after 0..MAX_AFTER more stored transitions, 0..30 ms later: anywhere between
        # recording a step and carrying it out, in analysis, mid-rollback.
        points = [(rng.randint(0, MAX_AFTER), round(rng.uniform(0.0, 0.03), 4))
                  for _ in range(rng.randint(1, MAX_KILLS))]
        rollouts.append(Rollout(f"{prefix}{index:02d}", bad, router,
                                base / f"{prefix}{index:02d}", points))
    return rollouts


def _verify(rollouts: list[Rollout], db: str, server: RouterServer | None) -> None:
    with RolloutStore.open(db, rollouts[0].state_dir) as store:
        for rollout in rollouts:
            [rec, first] = store.list_releases(rollout.service, limit=5)
            assert first.status == "succeeded"
            assert not rec.active, rollout
            assert rec.status == rollout.expected, (rollout, rec.reason)
            lease = store.lease(rollout.service)
            assert lease is None, (rollout.service, lease)  # no owner left behind
            _check_steps(store, rec)
            winner = "v2" if rec.status == "succeeded" else "v1"
            if server is not None:
                router = server.router(rollout.service)
                split = router.weights()
                assert split.get(winner) == 100.0, (rollout.service, split)
                assert all(share == 0 for v, share in split.items() if v != winner)
                assert set(router.backends()) == {winner}
            else:
                assert rec.observed_weights is not None
                assert rec.observed_weights.get(winner) == 100.0
            running = _stop_instances(rollout)
            assert running[winner] == 1, (rollout.service, running)
            assert running["v2" if winner == "v1" else "v1"] == 0, (rollout.service, running)


def test_kill9_at_random_points_always_resumes_or_rolls_back(workdir: Path) -> None:
    rng = random.Random(SEED)  # noqa: S311 - seeded, for reproducible kill points
    db = f"sqlite:///{workdir}/state.db"
    server = RouterServer()
    rollouts = _plan_rollouts(ROLLOUTS, server.url, workdir, rng, "http")
    try:
        started = time.monotonic()
        _run(rollouts, db)
        _verify(rollouts, db, server)
    finally:
        server.close()
        for rollout in rollouts:
            _stop_instances(rollout)
    kills = sum(r.kills for r in rollouts)
    mid = sum(r.mid_rollout_kills for r in rollouts)
    print(f"\n{len(rollouts)} rollouts, {kills} SIGKILLs ({mid} mid-rollout), "
          f"{sum(r.resumes for r in rollouts)} resumes, "
          f"{sum(r.expected == 'rolled_back' for r in rollouts)} scripted to roll back, "
          f"{time.monotonic() - started:.1f} s")
    assert mid >= len(rollouts) // 2  # the kills really land inside rollouts


def test_kill9_with_the_embedded_router(workdir: Path) -> None:
    rng = random.Random(SEED + 1)  # noqa: S311 - seeded, for reproducible kill points
    db = f"sqlite:///{workdir}/state.db"
    rollouts = _plan_rollouts(EMBEDDED_ROLLOUTS, "embedded", workdir, rng, "emb")
    try:
        _run(rollouts, db)
        _verify(rollouts, db, None)
    finally:
        for rollout in rollouts:
            _stop_instances(rollout)
    assert sum(r.mid_rollout_kills for r in rollouts) >= 1
