"""``safeship rollout`` with ``strategy: feature_flag``, and ``rollout undo`` preferring the flag.

The CLI runs in process on a temp project (SQLite store). The cohorts' counters are simulated
from the flag as stored (each variant gets its share of a steady request rate, with its own
error rate): the per-variant scrape of the apps is tested in
``tests/unit/routers/test_feature_flag_counters.py`` and end to end, with real apps, in
``tests/integration/test_flag_rollout.py``. Steps last a fraction of a second.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeship.cli import rollout_cmd
from safeship.flags import EvaluationContext, evaluate
from safeship.flags import changes as change
from safeship.flags.changes import FlagAction
from safeship.metrics.builtin import BuiltinProvider
from safeship.model.counters import CounterSnapshot
from safeship.registry_delivery import STRATEGIES
from safeship.routers.feature_flag_split import split_of
from safeship.store.flags import FlagStore
from safeship.store.rollouts import NewTransition, RolloutStore
from safeship.strategies.feature_flag import FeatureFlagStrategy, FeatureFlagUndoStrategy
from tests.e2e.conftest import CliRunner
from tests.unit.store.test_rollouts import release

FLAG = "new-checkout"
RATE = 100_000.0
"""Simulated requests per second: enough for min_sample_size at 1 % in 0.3 s."""
SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: shop
strategy:
  type: feature_flag
  flag: new-checkout
  environment: production
  scrape_interval: 0.05s
  lease_ttl: 5s
  counters_from: [http://127.0.0.1:9/metrics]
metrics:
  type: builtin
"""
CANARY = """\
apiVersion: analysis/v1
kind: CanaryConfig
metadata: {name: shop}
spec:
  steps:
    - {percentage: 1, duration: 0.3s}
    - {percentage: 5, duration: 0.3s}
    - {percentage: 25, duration: 0.3s}
    - {percentage: 100, duration: 0.3s}
  metrics:
    - name: error_rate
      query: errors
      category: availability
      threshold: {max_absolute: 0.05}
  judge: {name: threshold}
"""


@pytest.fixture(autouse=True)
def _flag_strategies(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until registry_delivery lists them (see the report), the tests register them.
    monkeypatch.setitem(STRATEGIES, "feature_flag", FeatureFlagStrategy)
    monkeypatch.setitem(STRATEGIES, "feature_flag_undo", FeatureFlagUndoStrategy)


class Cohorts:
    """Counters of a steady stream of requests split by the flag as stored (a CounterSource)."""

    def __init__(self, root: Path, error_rate: dict[str, float]) -> None:
        self.flags = FlagStore.open(None, root)
        self.error_rate = error_rate
        self.totals: dict[str, list[float]] = {}
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def snapshot(self, version: str) -> CounterSnapshot:
        with self.lock:
            now = time.monotonic()
            elapsed, self.last = now - self.last, now
            split = split_of(self.flags.get(FLAG).flag, "production")
            for variant, share in split.items():
                totals = self.totals.setdefault(variant, [0.0, 0.0])
                requests = RATE * elapsed * share / 100.0
                totals[0] += requests
                totals[1] += requests * self.error_rate.get(variant, 0.0)
            requests, errors = self.totals.get(version, [0.0, 0.0])
        return CounterSnapshot(0.0, float(int(requests)), float(int(errors)), {})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".pipeline").mkdir()
    (tmp_path / ".pipeline" / "service.yaml").write_text(SERVICE)
    (tmp_path / ".pipeline" / "canary-analysis.yaml").write_text(CANARY)
    with FlagStore.open(None, tmp_path) as flags:
        flags.create(change.new_flag(FLAG, environments=("production", "dev")),
                     actor="dev", reason="ships off", at=datetime.now(UTC))
    return tmp_path


@pytest.fixture
def cohorts(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cohorts]:
    made = Cohorts(project, {})

    def metrics(spec: object, target: object, scope: object, other: object) -> BuiltinProvider:
        return BuiltinProvider(made, scope=scope)  # type: ignore[arg-type]

    monkeypatch.setattr(rollout_cmd, "flag_metrics", metrics)
    yield made
    made.flags.close()


def served(root: Path, keys: int = 500) -> Counter[str]:
    with FlagStore.open(None, root) as flags:
        flag = flags.get(FLAG).flag
    return Counter(str(evaluate(flag, EvaluationContext(f"u{i}"), "production").variant)
                   for i in range(keys))


def releases(root: Path) -> list[dict[str, object]]:
    with RolloutStore.open(None, root) as store:
        return [{"strategy": r.strategy, "kind": r.kind, "status": r.status,
                 "version": r.version, "rollback_seconds": r.rollback_seconds,
                 "artifact": r.artifact_reference, "reason": r.reason}
                for r in store.list_releases("shop", limit=10)]


def test_a_good_flag_is_ramped_to_everyone(cli: CliRunner, project: Path,
                                           cohorts: Cohorts) -> None:
    cohorts.error_rate = {"off": 0.01, "on": 0.01}
    result = cli("rollout", "start", "shop", "-C", str(project))
    assert result.code == 0, result.out + result.err
    assert "ramping flag 'new-checkout' (on, off: off) in production" in result.out
    assert served(project) == Counter({"on": 500})
    latest = releases(project)[0]
    assert (latest["strategy"], latest["status"], latest["version"]) == (
        "feature_flag", "succeeded", "on")
    assert latest["artifact"] == "flag:new-checkout@production"
    status = cli("rollout", "status", "shop", "-f", "json", "-C", str(project))
    assert json.loads(status.out)["max_canary_percent"] == 100.0


def test_a_bad_flag_is_switched_off_automatically(cli: CliRunner, project: Path,
                                                  cohorts: Cohorts) -> None:
    cohorts.error_rate = {"off": 0.01, "on": 0.5}
    result = cli("rollout", "start", "shop", "-C", str(project))
    assert result.code == 1, result.out + result.err
    assert "rolled_back" in result.out
    assert "the flag reading back off" in result.out
    assert served(project) == Counter({"off": 500})
    latest = releases(project)[0]
    assert latest["status"] == "rolled_back"
    assert isinstance(latest["rollback_seconds"], float)
    with FlagStore.open(None, project) as flags:
        last = flags.history(FLAG)[-1]
    assert (last.action, last.actor) == ("disable", "safeship-rollout")


def test_undo_of_a_ramped_flag_is_the_flag_toggle(cli: CliRunner, project: Path,
                                                  cohorts: Cohorts) -> None:
    cohorts.error_rate = {"off": 0.0, "on": 0.0}
    assert cli("rollout", "start", "shop", "-C", str(project)).code == 0
    result = cli("rollout", "undo", "-C", str(project))
    assert result.code == 0, result.out + result.err
    assert "undo: flag 'new-checkout' off in production first" in result.out
    assert "flag toggle: the flag reads back off" in result.out
    assert served(project) == Counter({"off": 500})
    latest = releases(project)[0]
    assert (latest["strategy"], latest["kind"], latest["status"]) == (
        "feature_flag_undo", "undo", "succeeded")
    assert isinstance(latest["rollback_seconds"], float)


def test_undo_of_a_rollout_in_progress_switches_the_flag_off_first(
        cli: CliRunner, project: Path, cohorts: Cohorts) -> None:
    # A controller that died at 25 %: its lease has expired, nobody drives the release.
    cohorts.error_rate = {"off": 0.0, "on": 0.0}
    with RolloutStore.open(None, project) as store:
        _stranded_release(store, project)
    result = cli("rollout", "undo", "-C", str(project))
    assert "flag toggle: 'new-checkout' switched off in production" in result.out, result.out
    assert served(project) == Counter({"off": 500})
    latest = releases(project)[0]
    assert latest["status"] == "aborted", (latest, result.out, result.err)
    assert "switched off in production first" in str(latest["reason"])
    assert result.code == 0, result.out + result.err


def test_undo_flag_only_switches_the_guarding_flag_and_keeps_the_version(
        cli: CliRunner, project: Path) -> None:
    service = project / ".pipeline" / "service.yaml"
    service.write_text(SERVICE.replace("type: feature_flag", "type: canary"))
    with FlagStore.open(None, project) as flags:
        flags.update(FLAG, lambda f: change.set_rollout(change.enable(f, "production"),
                                                        "production", 0.5),
                     action=FlagAction.ROLLOUT, actor="dev", reason="half", at=datetime.now(UTC))
    result = cli("rollout", "undo", "--flag-only", "-C", str(project))
    assert result.code == 0, result.out + result.err
    assert served(project) == Counter({"off": 500})
    assert [r["strategy"] for r in releases(project)] == ["feature_flag_undo"]


def test_undo_with_a_guarding_flag_and_no_earlier_version_stops_after_the_toggle(
        cli: CliRunner, project: Path) -> None:
    (project / ".pipeline" / "service.yaml").write_text(
        SERVICE.replace("type: feature_flag", "type: canary"))
    now = datetime.now(UTC)
    with RolloutStore.open(None, project) as store:
        store.acquire_lease("shop", "h", at=now, ttl_s=5)
        rec = replace(release(version="v1", at=now), status="succeeded", finished_at=now)
        store.create_release(rec, holder="h", first=NewTransition("created", "v1"))
        store.release_lease("shop", "h")
    result = cli("rollout", "undo", "-C", str(project))
    assert result.code == 0, result.out + result.err
    assert "the flag toggle was the undo" in result.out


def test_flag_only_without_a_flag_is_a_usage_error(cli: CliRunner, project: Path) -> None:
    (project / ".pipeline" / "service.yaml").write_text(
        SERVICE.replace("type: feature_flag", "type: canary").replace(
            "  flag: new-checkout\n", ""))
    result = cli("rollout", "undo", "--flag-only", "-C", str(project))
    assert result.code == 2
    assert "no flag guards the releases of 'shop'" in result.err


@pytest.mark.parametrize(("change_service", "args", "message"), [
    (lambda s: s.replace("  counters_from: [http://127.0.0.1:9/metrics]\n", ""), (),
     "strategy.counters_from"),
    (lambda s: s.replace("flag: new-checkout", "flag: nope"), (), "no flag 'nope'"),
    (lambda s: s, ("--artifact", "x.tar"), "deploys nothing"),
    (lambda s: s, ("--version", "off"), "is the off variant"),
    (lambda s: s.replace("type: feature_flag", "type: canary"), (), "--version is required"),
    (lambda s: s.replace("type: feature_flag", "type: canary").replace(
        "  flag: new-checkout\n", ""), ("--strategy", "feature_flag"),
     "needs the key of the flag to ramp"),
    (lambda s: s.replace("type: feature_flag", "type: canary") + "router: {type: feature_flag}\n",
     ("--version", "v2"), "not in `router:`"),
])
def test_bad_flag_rollouts_are_refused_before_anything_changes(
        cli: CliRunner, project: Path, change_service: object, args: tuple[str, ...],
        message: str) -> None:
    service = project / ".pipeline" / "service.yaml"
    service.write_text(change_service(SERVICE))  # type: ignore[operator]
    result = cli("rollout", "start", "shop", *args, "-C", str(project))
    assert result.code == 2, result.out + result.err
    assert message in result.err
    assert served(project) == Counter({"off": 500})
    assert releases(project) == []


def _stranded_release(store: RolloutStore, root: Path) -> None:
    """A feature_flag release at 25 % whose controller is gone (its lease expired)."""
    from safeship.engine.rollout import RolloutController, RolloutSetup
    from safeship.engine.rollout_flags import NoDeployTarget
    from safeship.engine.rollout_loop import AnalysisPolicy
    from safeship.model.canary import CanaryStep
    from safeship.registry_analysis import judge_for
    from safeship.routers.feature_flag import FeatureFlagOptions, FeatureFlagRouter
    from safeship.strategies.interface import ArtifactRef, RolloutRequest, StableVersion
    from safeship.testing.fake_clock import FakeClock
    from tests.unit.engine.test_rollout_fakes import NoMetrics

    class DiesAt25(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if flags.get(FLAG).flag.environment("production").enabled:  # type: ignore[union-attr]
                raise KeyboardInterrupt  # the controller dies mid-analysis

    with FlagStore.open(None, root) as flags:
        router = FeatureFlagRouter(FeatureFlagOptions(flag=FLAG), flags=flags)
        controller = RolloutController(
            store, router, NoDeployTarget(), clock=DiesAt25(), holder="gone-1",
            strategies=lambda name: STRATEGIES[name](),  # type: ignore[arg-type,return-value]
            judges=judge_for, metrics=NoMetrics())
        request = RolloutRequest(service="shop", version="on", replicas=1,
                                 artifact=ArtifactRef("flag:new-checkout@production"),
                                 stable=StableVersion("off"),
                                 canary_steps=(CanaryStep(25, 60), CanaryStep(100, 60)))
        from safeship.config.canary_file import parse_canary_document
        from safeship.config.yaml_source import read_yaml

        spec = parse_canary_document(read_yaml(root / ".pipeline" / "canary-analysis.yaml"))
        with pytest.raises(KeyboardInterrupt):
            controller.start(request, RolloutSetup("feature_flag", spec, AnalysisPolicy(
                scrape_interval_s=1.0), actor="ci"))
    assert served(root)["on"] > 0  # stranded at 25 %


def test_undo_with_a_guarding_flag_toggles_it_then_returns_to_the_previous_version(
        cli: CliRunner, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.engine.test_rollout_fakes import FakeRouter, FakeTarget

    (project / ".pipeline" / "service.yaml").write_text(
        SERVICE.replace("type: feature_flag", "type: canary"))
    router, target = FakeRouter(), FakeTarget()
    target.deploy("v2", 2, None)
    router.set_backends({"v2": [i.endpoint for i in target.instances("v2")]})
    router.set_weights({"v2": 100.0})
    monkeypatch.setattr(rollout_cmd, "build_router", lambda spec: router)
    monkeypatch.setattr(rollout_cmd, "build_target", lambda spec: target)
    monkeypatch.setattr(rollout_cmd, "build_metrics", lambda *args: None)
    now = datetime.now(UTC)
    with RolloutStore.open(None, project) as store:
        for index, version in enumerate(("v1", "v2")):
            store.acquire_lease("shop", "h", at=now, ttl_s=5)
            rec = replace(release(release_id=f"r{index}", version=version, at=now),
                          status="succeeded", finished_at=now.replace(microsecond=index))
            store.create_release(rec, holder="h", first=NewTransition("created", version))
            store.release_lease("shop", "h")
    with FlagStore.open(None, project) as flags:
        flags.update(FLAG, lambda f: change.set_rollout(change.enable(f, "production"),
                                                        "production", 1.0),
                     action=FlagAction.ROLLOUT, actor="dev", reason="all", at=now)
    result = cli("rollout", "undo", "-C", str(project))
    assert result.code == 0, result.out + result.err
    out = result.out
    assert out.index("undo: flag 'new-checkout' off") < out.index("undo: shop back to v1")
    assert served(project) == Counter({"off": 500})
    assert router.history[-1] == {"v1": 100.0}  # the router is closed by now
    assert [(r["strategy"], r["version"]) for r in releases(project)][:2] == [
        ("undo", "v1"), ("feature_flag_undo", "off")]


# --- the helpers behind the commands ------------------------------------------------------------


def test_a_flag_release_names_its_flag_even_when_service_yaml_changed(project: Path) -> None:
    from safeship.cli.rollout_flags import FlagTarget, release_flag
    from safeship.config.service_file import load_service_file

    spec = load_service_file(project / ".pipeline" / "service.yaml")
    rec = replace(release(), strategy="feature_flag", artifact_reference="flag:other@staging")
    assert release_flag(spec, rec) == FlagTarget("other", "staging")
    unmarked = replace(rec, artifact_reference=None)
    assert release_flag(spec, unmarked) == FlagTarget(FLAG, "production")
    assert release_flag(spec, replace(rec, strategy="canary")) is None


def test_the_flag_undo_leaves_the_flags_rollout_variant(project: Path) -> None:
    from safeship.cli.rollout_flags import FlagTarget, flag_undo_request
    from safeship.config.service_file import load_service_file
    from safeship.errors import UsageError
    from safeship.flags import FlagType

    spec = load_service_file(project / ".pipeline" / "service.yaml")
    request = flag_undo_request(spec, project, FlagTarget(FLAG, "production"), None)
    assert (request.version, request.stable.version if request.stable else None) == ("off", "on")
    with FlagStore.open(None, project) as flags:
        flags.create(change.new_flag("layout", FlagType.STRING,
                                     variants=[("a", "a"), ("b", "b"), ("c", "c")]),
                     actor="dev", reason="three", at=datetime.now(UTC))
        flags.create(change.new_flag("lonely", FlagType.STRING, variants=[("only", "x")]),
                     actor="dev", reason="one", at=datetime.now(UTC))
    several = flag_undo_request(spec, project, FlagTarget("layout", "production"), None)
    assert several.stable is not None
    assert several.stable.version == "b"  # no single rollout variant: the first other one
    with pytest.raises(UsageError, match="off already"):
        flag_undo_request(spec, project, FlagTarget("lonely", "production"), None)


def test_rollback_lines_say_how_the_release_went_back() -> None:
    from safeship.cli.rollout_flags import rollback_line

    base = replace(release(), rollback_seconds=0.25)
    assert "router reporting 0 % on the canary" in rollback_line(base)
    assert "on 'v1'" in rollback_line(replace(base, kind="undo"))
    assert "flag reading back off" in rollback_line(replace(base, strategy="feature_flag"))
    assert rollback_line(replace(base, kind="undo", strategy="feature_flag_undo")).startswith(
        "flag toggle: the flag reads back off 0.250 s")
