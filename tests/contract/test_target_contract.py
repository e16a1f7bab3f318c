"""The targets family's contract, run on every real target and on the fake.

Whatever passes here may stand in for any other target in the engine's tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeship.targets.interface import Target, TargetUnavailable
from tests.contract.target_factories import (
    CRASHING_VERSION,
    UNHEALTHY_VERSION,
    FakeHarness,
    LocalHarness,
    TargetHarness,
)


@pytest.fixture(params=["local", "fake"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TargetHarness]:
    made: TargetHarness = LocalHarness(tmp_path) if request.param == "local" else FakeHarness()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def target(harness: TargetHarness) -> Target:
    return harness.build()


def _all_healthy(target: Target, version: str) -> bool:
    answers = target.health(version)
    return bool(answers) and all(answer.healthy for answer in answers)


def test_deploy_n_gives_n_healthy_instances_with_distinct_endpoints(target: Target) -> None:
    instances = target.deploy("v1", 3)
    assert len(instances) == 3
    assert all(instance.version == "v1" for instance in instances)
    assert len({instance.instance_id for instance in instances}) == 3
    assert len({instance.endpoint for instance in instances}) == 3
    assert target.instances("v1") == instances
    answers = target.health("v1")
    assert {answer.instance for answer in answers} == set(instances)
    assert all(answer.healthy for answer in answers), answers


def test_versions_side_by_side_do_not_share_endpoints(target: Target) -> None:
    stable = target.deploy("v1", 2)
    canary = target.deploy("v2", 1)
    assert not {i.endpoint for i in stable} & {i.endpoint for i in canary}
    assert not {i.instance_id for i in stable} & {i.instance_id for i in canary}
    assert _all_healthy(target, "v1")
    assert _all_healthy(target, "v2")


def test_deploy_is_idempotent(harness: TargetHarness, target: Target) -> None:
    first = target.deploy("v1", 2)
    starts = harness.starts(target)
    again = target.deploy("v1", 2)
    assert again == first
    assert harness.starts(target) == starts
    assert not any(harness.is_stopped(target, instance) for instance in first)


def test_deploy_with_fewer_replicas_stops_the_difference(harness: TargetHarness,
                                                         target: Target) -> None:
    first = target.deploy("v1", 3)
    kept = target.deploy("v1", 1)
    assert kept == first[:1]
    assert all(harness.is_stopped(target, instance) for instance in first[1:])


def test_scale_up_starts_only_the_difference(harness: TargetHarness, target: Target) -> None:
    first = target.deploy("v1", 1)
    starts = harness.starts(target)
    scaled = target.scale("v1", 3)
    assert len(scaled) == 3
    assert scaled[0] == first[0]
    assert harness.starts(target) == starts + 2
    assert len({instance.endpoint for instance in scaled}) == 3
    assert _all_healthy(target, "v1")


def test_scale_down_stops_only_the_difference(harness: TargetHarness, target: Target) -> None:
    first = target.deploy("v1", 3)
    starts = harness.starts(target)
    scaled = target.scale("v1", 1)
    assert scaled == first[:1]
    assert harness.starts(target) == starts
    assert all(harness.is_stopped(target, instance) for instance in first[1:])
    assert not harness.is_stopped(target, first[0])
    assert _all_healthy(target, "v1")


def test_scale_to_zero_then_back(harness: TargetHarness, target: Target) -> None:
    first = target.deploy("v1", 2)
    assert target.scale("v1", 0) == ()
    assert all(harness.is_stopped(target, instance) for instance in first)
    assert target.instances("v1") == ()


def test_scale_of_a_version_never_deployed_is_refused(target: Target) -> None:
    with pytest.raises(TargetUnavailable, match="deploy it first"):
        target.scale("never", 2)
    assert target.scale("never", 0) == ()


def test_health_reports_an_instance_killed_from_outside(harness: TargetHarness,
                                                        target: Target) -> None:
    victim, survivor = target.deploy("v1", 2)
    harness.kill_from_outside(target, victim)
    answers = {answer.instance: answer for answer in target.health("v1")}
    assert not answers[victim].healthy
    assert answers[victim].detail
    assert answers[survivor].healthy
    assert target.instances("v1") == (survivor,)


def test_deploy_replaces_an_instance_killed_from_outside(harness: TargetHarness,
                                                         target: Target) -> None:
    victim, survivor = target.deploy("v1", 2)
    harness.kill_from_outside(target, victim)
    healed = target.deploy("v1", 2)
    assert len(healed) == 2
    assert survivor in healed
    assert _all_healthy(target, "v1")


def test_retire_stops_everything_of_that_version_only(harness: TargetHarness,
                                                      target: Target) -> None:
    retired = target.deploy("v1", 2)
    other = target.deploy("v2", 1)
    target.retire("v1")
    assert all(harness.is_stopped(target, instance) for instance in retired)
    assert target.instances("v1") == ()
    assert target.health("v1") == ()
    assert target.instances("v2") == other
    assert _all_healthy(target, "v2")


def test_retire_of_an_unknown_version_is_harmless(harness: TargetHarness,
                                                  target: Target) -> None:
    running = target.deploy("v1", 1)
    target.retire("never-deployed")
    target.retire("never-deployed")
    assert target.instances("never-deployed") == ()
    assert target.health("never-deployed") == ()
    assert target.instances("v1") == running
    target.retire("v1")
    target.retire("v1")
    assert harness.is_stopped(target, running[0])


def test_close_stops_every_version(harness: TargetHarness, target: Target) -> None:
    running = target.deploy("v1", 1) + target.deploy("v2", 2)
    target.close()
    assert all(harness.is_stopped(target, instance) for instance in running)


def test_a_command_that_exits_at_once_fails_the_deploy_naming_the_log(target: Target) -> None:
    with pytest.raises(TargetUnavailable) as caught:
        target.deploy(CRASHING_VERSION, 2)
    text = "\n".join(caught.value.diagnostics())
    assert "log" in text
    assert CRASHING_VERSION in text
    assert target.instances(CRASHING_VERSION) == ()


def test_an_unhealthy_version_fails_the_deploy_after_the_bounded_wait(
        harness: TargetHarness) -> None:
    target = harness.build(startup_timeout_s=1.0)
    with pytest.raises(TargetUnavailable) as caught:
        target.deploy(UNHEALTHY_VERSION, 1)
    text = "\n".join(caught.value.diagnostics())
    assert "500" in text
    assert "log" in text
    assert target.instances(UNHEALTHY_VERSION) == ()


def test_a_failed_deploy_keeps_the_healthy_versions(harness: TargetHarness,
                                                    target: Target) -> None:
    stable = target.deploy("v1", 1)
    with pytest.raises(TargetUnavailable):
        target.deploy(CRASHING_VERSION, 1)
    assert target.instances("v1") == stable
    assert _all_healthy(target, "v1")
