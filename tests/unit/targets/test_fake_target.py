"""What the fake target adds to the contract: recorded calls and scripted failures."""

from __future__ import annotations

import pytest

from safeship.errors import UsageError
from safeship.targets.interface import Artifact, TargetUnavailable
from safeship.testing.fake_target import FakeTarget, TargetCall


def test_calls_are_recorded_in_order() -> None:
    target = FakeTarget()
    artifact = Artifact("app.pyz", "ab" * 32)
    target.deploy("v1", 2, artifact)
    target.scale("v1", 1)
    target.health("v1")
    target.retire("v1")
    assert target.calls == [
        TargetCall("deploy", "v1", 2, artifact),
        TargetCall("scale", "v1", 1),
        TargetCall("health", "v1"),
        TargetCall("retire", "v1"),
    ]
    assert [call.replicas for call in target.calls_to("deploy")] == [2]
    assert len(target.started) == 2
    assert len(target.stopped) == 2


def test_a_version_turning_unhealthy_is_reported_and_a_redeploy_fails() -> None:
    target = FakeTarget(first_port=31000)
    instances = target.deploy("v1", 2)
    assert [i.endpoint.port for i in instances] == [31000, 31001]
    assert target.count("v1") == 2
    target.unhealthy_versions.add("v1")
    assert not any(answer.healthy for answer in target.health("v1"))
    with pytest.raises(TargetUnavailable, match="500"):
        target.deploy("v1", 2)
    assert target.instances("v1") == ()


def test_a_new_artifact_replaces_the_instances() -> None:
    target = FakeTarget()
    old = target.deploy("v1", 1, Artifact("a"))
    new = target.deploy("v1", 1, Artifact("b"))
    assert old != new
    assert target.stopped == list(old)


def test_bad_requests_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        FakeTarget().deploy("", 1)
    with pytest.raises(UsageError):
        FakeTarget().deploy("v1", -1)
