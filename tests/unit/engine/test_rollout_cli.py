"""``safeship rollout``: the commands end to end, on real and on fake backends."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from safeship.cli import app as cli_app
from safeship.cli import rollout_cmd
from safeship.engine.rollout import encode_request
from safeship.engine.rollout_codec import encode_plan
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.store.rollouts import NewTransition, RolloutStore
from safeship.strategies.interface import RolloutRequest, StableVersion
from safeship.strategies.rolling import RollingStrategy
from safeship.targets.local import LocalOptions, LocalTarget
from tests.unit.engine.test_rollout_fakes import FakeRouter, FakeTarget
from tests.unit.store.test_rollouts import release

if not any(group.name == "rollout" for group in cli_app.app.registered_groups):
    cli_app.app.add_typer(rollout_cmd.app, name="rollout")

SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: shop
strategy:
  type: {strategy}
  replicas: 1
  scrape_interval: 0.05s
  health_timeout: 20s
  lease_ttl: 5s
target:
  type: local
  command: ["{python}", "-m", "http.server", "{{port}}", "--bind", "127.0.0.1"]
  health: {{path: /}}
  grace_period: 0.5s
router:
  type: embedded
metrics:
  type: builtin
"""

CANARY = """\
apiVersion: analysis/v1
kind: CanaryConfig
metadata:
  name: shop
spec:
  steps:
    - percentage: 50
      duration: 0.3s
  metrics:
    - name: error_rate
      query: errors
      threshold:
        max_increase_ratio: 2.0
  judge:
    name: threshold
"""


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with .pipeline/ for a rolling service, and two artifacts."""
    (tmp_path / ".pipeline").mkdir()
    (tmp_path / ".pipeline" / "service.yaml").write_text(
        SERVICE.format(strategy="rolling", python=sys.executable))
    (tmp_path / ".pipeline" / "canary-analysis.yaml").write_text(CANARY)
    (tmp_path / "v1.tar").write_text("one\n")
    (tmp_path / "v2.tar").write_text("two\n")
    return tmp_path


@pytest.fixture
def cli(repo: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = cli_app.run(["rollout", *args, "-C", str(repo)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeRouter, FakeTarget]:
    """Replace the backends service.yaml names with in-memory fakes."""
    router, target = FakeRouter(), FakeTarget()
    monkeypatch.setattr(rollout_cmd, "build_router", lambda spec: router)
    monkeypatch.setattr(rollout_cmd, "build_target", lambda spec: target)
    monkeypatch.setattr(rollout_cmd, "build_metrics", lambda *args: None)
    return router, target


def _stop(repo: Path) -> None:
    target = LocalTarget(LocalOptions(command="true {port}", grace_period=0.5,
                                      state_dir=repo / ".safeship/targets/shop"))
    for version in ("v1", "v2"):
        target.retire(version)


def test_rolling_releases_undo_and_views_on_real_backends(cli: Cli, repo: Path) -> None:
    try:
        first = cli("start", "shop", "--version", "v1", "--artifact", "v1.tar")
        assert first.code == 0, first.err
        assert "first release" in first.out
        second = cli("start", "shop", "--version", "v2", "--artifact", "v2.tar")
        assert second.code == 0, second.err
        assert "shop v2: succeeded" in second.out
        status = json.loads(cli("status", "--format", "json").out)
        assert status["status"] == "succeeded"
        assert status["observed_weights"] == {"v2": 100.0}
        assert status["artifact"]["sha256"] is not None
        listed = json.loads(cli("list", "--format", "json").out)
        assert [r["version"] for r in listed] == ["v2", "v1"]
        undo = cli("undo")
        assert undo.code == 0, undo.err
        assert "undo: shop back to v1 (from v2)" in undo.out
        history = cli("history")
        assert history.code == 0
        assert "undo" in history.out
        transitions = json.loads(cli("history", "--release", listed[0]["release_id"][:8],
                                     "--format", "json").out)
        assert transitions[0]["event"] == "created"
        assert transitions[-1]["event"] == "finished"
        table = cli("status")
        assert "forward: all 5 steps done" in table.out
        watched = cli("status", "--watch", "--interval", "0.1")  # ended: one view, then exit
        assert watched.code == 0
        assert "succeeded" in watched.out
        streamed = cli("status", "--watch", "--format", "json")
        assert json.loads(streamed.out)["status"] == "succeeded"
    finally:
        _stop(repo)


def test_a_canary_without_traffic_fails_closed(cli: Cli, repo: Path) -> None:
    (repo / ".pipeline" / "service.yaml").write_text(
        SERVICE.format(strategy="canary", python=sys.executable))
    try:
        assert cli("start", "shop", "--version", "v1", "--artifact", "v1.tar").code == 0
        result = cli("start", "shop", "--version", "v2", "--artifact", "v2.tar")
        assert result.code == 1
        assert "rolled_back" in result.out
        assert "rollback took" in result.out
    finally:
        _stop(repo)


def _active(repo: Path, holder: str = "ctl-elsewhere", live: bool = True) -> str:
    """A rolling release of v2 in progress, its lease live or long expired."""
    request = RolloutRequest("shop", "v2", 1, stable=StableVersion("v1"))
    with RolloutStore.open(None, repo) as store:
        at = datetime.now(UTC)
        store.acquire_lease("shop", holder, at=at, ttl_s=600 if live else 0.001)
        rec = replace(release(at=at), strategy="rolling",
                      request=encode_request(request, None, AnalysisPolicy()),
                      plan=encode_plan(RollingStrategy().plan(request)),
                      desired_weights={"v1": 100.0})
        store.create_release(rec, holder=holder, first=NewTransition("created", "test"))
        return rec.release_id


def test_a_second_start_is_refused_naming_the_running_rollout(cli: Cli, repo: Path,
                                                              fakes: Any) -> None:
    release_id = _active(repo)
    result = cli("start", "shop", "--version", "v3")
    assert result.code == 4
    assert f"already has rollout {release_id}" in result.err
    assert "controller ctl-elsewhere drives it" in result.err


def test_commands_are_recorded_for_the_live_controller(cli: Cli, repo: Path) -> None:
    release_id = _active(repo)
    assert cli("pause", "--reason", "lunch", "--by", "ana").code == 0
    with RolloutStore.open(None, repo) as store:
        assert store.get_release(release_id).command == "pause"
    promoted = cli("promote", "--full")
    assert promoted.code == 0
    assert "warning: promote --full skips every remaining analysis" in promoted.err
    resume = cli("resume")
    assert resume.code == 4  # a live controller drives it and it is not paused
    abort = cli("abort", "--wait", "0.3")
    assert abort.code == 4
    assert "still rolling back" in abort.out


def test_abort_without_a_controller_rolls_back_here(cli: Cli, repo: Path, fakes: Any) -> None:
    router, target = fakes
    target.deploy("v1", 1)
    router.set_backends({"v1": [i.endpoint for i in target.instances("v1")]})
    router.set_weights({"v1": 100})
    _active(repo, live=False)
    result = cli("abort", "--reason", "bad idea")
    assert result.code == 0, result.err
    assert "aborted" in result.out


def test_status_watch_and_views_without_rollouts(cli: Cli, repo: Path) -> None:
    assert cli("status").code == 2
    assert cli("list").out.strip() == "no rollouts recorded yet"
    _active(repo, live=False)
    watched = cli("status", "--format", "json")
    assert json.loads(watched.out)["status"] == "running"
    assert cli("status").code == 0


@pytest.mark.parametrize(("edit", "code", "message"), [
    (lambda s: s.replace("router:\n  type: embedded\n", ""), 2, "rollouts need a `router:`"),
    (lambda s: s.replace("type: embedded", "type: teleport"), 2, "unknown router type"),
    (lambda s: s.replace("type: builtin", "type: nope"), 2, "unknown metrics provider"),
])
def test_config_mistakes(cli: Cli, repo: Path, edit: Callable[[str], str], code: int,
                         message: str) -> None:
    path = repo / ".pipeline" / "service.yaml"
    path.write_text(edit(path.read_text()))
    result = cli("start", "shop", "--version", "v1")
    assert result.code == code
    assert message in result.err


def test_usage_mistakes(cli: Cli, fakes: Any) -> None:
    assert "describes service 'shop', not 'cart'" in cli("start", "cart", "--version",
                                                         "v1").err
    missing = cli("start", "shop", "--version", "v1", "--artifact", "nope.tar")
    assert missing.code == 2
    assert "is not a file" in missing.err
    unknown = cli("start", "shop", "--version", "v1", "--strategy", "yolo")
    assert unknown.code == 2
    assert "unknown strategy 'yolo'" in unknown.err
    assert cli("undo").code == 2  # nothing was ever stable
    assert cli("pause").code == 2  # nothing in progress


def test_relative_target_paths_belong_to_the_project(repo: Path) -> None:
    path = repo / ".pipeline" / "service.yaml"
    spec = rollout_cmd.parse_service_document(rollout_cmd.read_yaml(path))
    target = rollout_cmd.build_target(spec)
    assert target.options.state_dir == repo / ".safeship" / "targets" / "shop"  # type: ignore[attr-defined]
    path.write_text(path.read_text().replace("  grace_period: 0.5s\n",
                                             "  grace_period: 0.5s\n  state_dir: run/x\n"))
    spec = rollout_cmd.parse_service_document(rollout_cmd.read_yaml(path))
    assert rollout_cmd.build_target(spec).options.state_dir == repo / "run" / "x"  # type: ignore[attr-defined]


def test_an_image_pinned_by_digest_is_an_artifact(cli: Cli, fakes: Any) -> None:
    result = cli("start", "shop", "--version", "v1", "--artifact",
                 "registry.example/shop@sha256:" + "e" * 64)
    assert result.code == 0, result.err
    status = json.loads(cli("status", "--format", "json").out)
    assert status["artifact"]["sha256"] == "e" * 64


def test_the_next_start_resumes_an_orphaned_rollout_first(
        cli: Cli, repo: Path, fakes: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    router, target = fakes
    # One command builds the router twice (takeover, then the new rollout); in real use each
    # build is a new client of the same router, so the shared fake must survive a close().
    monkeypatch.setattr(router, "close", lambda: None)
    target.deploy("v1", 1)
    router.set_backends({"v1": [i.endpoint for i in target.instances("v1")]})
    router.set_weights({"v1": 100})
    orphan = _active(repo, live=False)  # its controller is gone: the lease expired
    result = cli("start", "shop", "--version", "v3")
    assert "shop v2 was left at step 0" in result.out
    assert "resuming it first" in result.out
    with RolloutStore.open(None, repo) as store:
        finished = store.get_release(orphan)
        assert finished.status in ("succeeded", "rolled_back"), result.out
    # Then the new rollout ran.
    assert "rolling out shop v3" in result.out, result.out + result.err
    assert router.weights() == {"v3": 100.0}


def test_a_live_controller_is_not_taken_over_by_start(cli: Cli, repo: Path,
                                                      fakes: Any) -> None:
    _active(repo, live=True)
    result = cli("start", "shop", "--version", "v3")
    assert result.code == 4
    assert "resuming it first" not in result.out
