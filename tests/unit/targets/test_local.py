"""The local target with real processes on 127.0.0.1: environment, adoption, stopping."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship.errors import UsageError
from safeship.targets import local, local_ports, local_process
from safeship.targets.interface import Artifact, TargetUnavailable
from safeship.targets.local import InstanceFailed, LocalOptions, LocalTarget
from safeship.targets.local_state import STATE_FORMAT
from tests.contract.target_factories import port_accepts, process_runs

# A service that reports what it was given, optionally ignores SIGTERM, and optionally forks a
# child that stays in its process group. argv: port, directory to write into, mode flags.
SERVICE = '''\
import http.server, json, os, signal, subprocess, sys, time
port, out, flags = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
facts = {"pid": os.getpid(), "pgid": os.getpgid(0), "cwd": os.getcwd(), "argv": sys.argv[1:],
         "env": {k: v for k, v in os.environ.items()
                 if k in ("PORT", "SAFESHIP_VERSION", "GREETING")}}
if "child" in flags:
    child_code = "import signal, time; "
    if "stubborn-child" in flags:
        child_code += "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    child_code += "time.sleep(600)"
    facts["child"] = subprocess.Popen([sys.executable, "-c", child_code]).pid
if "ignore-term" in flags:
    def on_term(signum, frame):
        print("got SIGTERM, ignoring it", flush=True)
    signal.signal(signal.SIGTERM, on_term)
with open(os.path.join(out, str(port) + ".json"), "w") as handle:
    json.dump(facts, handle)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass

print("password=hunter2 token: abc123", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
'''


@pytest.fixture
def service(tmp_path: Path) -> Path:
    path = tmp_path / "service.py"
    path.write_text(SERVICE, encoding="utf-8")
    (tmp_path / "out").mkdir()
    return path


@pytest.fixture
def targets() -> Iterator[list[LocalTarget]]:
    made: list[LocalTarget] = []
    yield made
    for target in made:
        target.close()


def make(targets: list[LocalTarget], tmp_path: Path, service: Path, *flags: str,
         **options: Any) -> LocalTarget:
    settings: dict[str, Any] = {
        "command": [sys.executable, str(service), "{port}", str(tmp_path / "out"), *flags],
        "state_dir": tmp_path / "state",
        "startup_timeout": 30.0,
        "grace_period": 5.0,
        **options,
    }
    target = LocalTarget(LocalOptions.model_validate(settings))
    targets.append(target)
    return target


def facts(tmp_path: Path, port: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (tmp_path / "out" / f"{port}.json").read_text(encoding="utf-8"))
    return data


def wait_until_gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while process_runs(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not process_runs(pid)


def test_instances_get_their_environment_cwd_and_own_session(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    target = make(targets, tmp_path, service, cwd=workdir, env={"GREETING": "hi"})
    [instance] = target.deploy("v7", 1)
    seen = facts(tmp_path, instance.endpoint.port)
    assert seen["env"] == {"PORT": str(instance.endpoint.port), "SAFESHIP_VERSION": "v7",
                           "GREETING": "hi"}
    assert seen["cwd"] == str(workdir)
    assert seen["pgid"] == seen["pid"] != os.getpgid(0)
    assert instance.endpoint.host == "127.0.0.1"
    assert instance.instance_id == "v7-0"


def test_version_and_instance_placeholders(tmp_path: Path, service: Path,
                                           targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service,
                  command=f"{sys.executable} {service} {{port}} {tmp_path / 'out'} "
                          "tag={version}/{instance}")
    instances = target.deploy("v3", 2)
    tags = [facts(tmp_path, i.endpoint.port)["argv"][-1] for i in instances]
    assert tags == ["tag=v3/0", "tag=v3/1"]


def test_artifact_placeholder_and_digest(tmp_path: Path, service: Path,
                                         targets: list[LocalTarget]) -> None:
    artifact_file = tmp_path / "build 1.pyz"
    artifact_file.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()
    target = make(targets, tmp_path, service, command=[
        sys.executable, str(service), "{port}", str(tmp_path / "out"), "{artifact}"])
    with pytest.raises(UsageError, match="without an artifact"):
        target.deploy("v1", 1)
    with pytest.raises(TargetUnavailable, match="expected 00"):
        target.deploy("v1", 1, Artifact(str(artifact_file), "00" * 32))
    [instance] = target.deploy("v1", 1, Artifact(str(artifact_file), digest))
    assert facts(tmp_path, instance.endpoint.port)["argv"][-1] == str(artifact_file)
    # Scaling reuses the artifact the version was deployed with.
    scaled = target.scale("v1", 2)
    assert facts(tmp_path, scaled[1].endpoint.port)["argv"][-1] == str(artifact_file)


def test_version_names_are_made_safe_for_log_files(tmp_path: Path, service: Path,
                                                   targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service)
    [instance] = target.deploy("feature/../x", 1)
    assert instance.instance_id == "feature/../x-0"
    logs = list((target.state_dir / "logs").iterdir())
    assert len(logs) == 1
    assert logs[0].parent == target.state_dir / "logs"
    assert "/" not in logs[0].name


@pytest.mark.parametrize(("version", "replicas"), [("", 1), ("v1", -1), ("v\n1", 1)])
def test_bad_requests_are_usage_errors(tmp_path: Path, service: Path,
                                       targets: list[LocalTarget], version: str,
                                       replicas: int) -> None:
    target = make(targets, tmp_path, service)
    with pytest.raises(UsageError):
        target.deploy(version, replicas)


def test_a_missing_program_is_target_unavailable(tmp_path: Path,
                                                 targets: list[LocalTarget]) -> None:
    target = LocalTarget(LocalOptions(command=str(tmp_path / "no-such-program"),
                                      state_dir=tmp_path / "state"))
    targets.append(target)
    with pytest.raises(TargetUnavailable, match="cannot start"):
        target.deploy("v1", 1)


def test_a_missing_working_directory_is_named(tmp_path: Path, service: Path,
                                              targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service, cwd=tmp_path / "nowhere")
    with pytest.raises(TargetUnavailable, match="nowhere"):
        target.deploy("v1", 1)


def test_crash_diagnostics_show_the_last_log_lines_with_secrets_masked(
        tmp_path: Path, targets: list[LocalTarget]) -> None:
    script = tmp_path / "crash.py"
    script.write_text("import sys\nprint('booting')\nprint('api_key=s3cr3t')\n"
                      "sys.exit('database unreachable')\n", encoding="utf-8")
    target = LocalTarget(LocalOptions(command=[sys.executable, str(script)],
                                      state_dir=tmp_path / "state"))
    targets.append(target)
    with pytest.raises(InstanceFailed) as caught:
        target.deploy("v1", 1)
    error = caught.value
    assert "exited with code 1" in error.message
    assert str(error.log) in error.message
    text = "\n".join(error.diagnostics())
    assert "database unreachable" in text
    assert "booting" in text
    assert "s3cr3t" not in text
    assert json.loads(target.state_file.read_text())["instances"] == []


def test_health_uses_the_configured_path_status_and_client(
        tmp_path: Path, targets: list[LocalTarget]) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204 if request.url.path == "/ready" else 500)

    options = LocalOptions(command=[sys.executable, "-c", "import time; time.sleep(600)"],
                           state_dir=tmp_path / "state",
                           health={"path": "/ready", "status": 204})
    target = LocalTarget(options,
                         http=client_factory_with_transport(httpx.MockTransport(answer)))
    targets.append(target)
    [instance] = target.deploy("v1", 1)
    [health] = target.health("v1")
    assert health.healthy
    assert "204" in health.detail
    assert seen[-1] == f"http://127.0.0.1:{instance.endpoint.port}/ready"


def test_state_file_records_instances_without_leaking_them_through_the_interface(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service)
    instances = target.deploy("v1", 2)
    document = json.loads(target.state_file.read_text())
    assert document["format"] == STATE_FORMAT
    assert [r["instance_id"] for r in document["instances"]] == ["v1-0", "v1-1"]
    pids = {facts(tmp_path, i.endpoint.port)["pid"] for i in instances}
    assert {r["pid"] for r in document["instances"]} == pids
    assert set(vars(instances[0])) == {"version", "instance_id", "endpoint"}


def test_a_new_target_adopts_running_instances_and_keeps_them(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    first = make(targets, tmp_path, service)
    running = first.deploy("v1", 2)
    pids = [facts(tmp_path, i.endpoint.port)["pid"] for i in running]

    restarted = make(targets, tmp_path, service)
    assert restarted.adopt() == running
    assert restarted.instances("v1") == running
    assert all(answer.healthy for answer in restarted.health("v1"))
    # An idempotent deploy keeps the adopted instances instead of starting new ones.
    assert restarted.deploy("v1", 2) == running
    restarted.retire("v1")
    assert all(wait_until_gone(pid) for pid in pids)
    assert not any(port_accepts("127.0.0.1", i.endpoint.port) for i in running)


def test_a_new_target_adopts_before_its_first_action(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    running = make(targets, tmp_path, service).deploy("v1", 1)
    restarted = make(targets, tmp_path, service)
    assert restarted.deploy("v1", 1) == running


def test_adopt_drops_entries_whose_process_is_gone(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    first = make(targets, tmp_path, service)
    victim, survivor = first.deploy("v1", 2)
    victim_pid = facts(tmp_path, victim.endpoint.port)["pid"]
    os.kill(victim_pid, signal.SIGKILL)
    assert wait_until_gone(victim_pid)

    restarted = make(targets, tmp_path, service)
    assert restarted.adopt() == (survivor,)
    ids = [r["instance_id"] for r in json.loads(restarted.state_file.read_text())["instances"]]
    assert ids == [survivor.instance_id]


def test_adopt_never_signals_a_stranger_that_reuses_a_recorded_pid(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    if not Path("/proc").is_dir():
        pytest.skip("recognising a reused pid needs /proc")
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                                start_new_session=True)
    try:
        state = tmp_path / "state"
        state.mkdir()
        record = {"version": "v1", "index": 0, "instance_id": "v1-0", "host": "127.0.0.1",
                  "port": 1, "pid": stranger.pid, "pgid": stranger.pid, "start_ticks": 1,
                  "marker": "not-the-stranger", "log": str(state / "x.log"),
                  "artifact": None, "artifact_sha256": None}
        (state / "instances.json").write_text(json.dumps(
            {"format": STATE_FORMAT, "instances": [record]}))
        target = make(targets, tmp_path, service)
        assert target.adopt() == ()
        target.close()
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize("text", [
    "not json",
    json.dumps({"format": "other", "instances": []}),
    json.dumps({"format": STATE_FORMAT, "instances": [{"pid": 1}]}),
    json.dumps({"format": STATE_FORMAT, "instances": [
        {"version": "v1", "index": 0, "instance_id": "v1-0", "host": "127.0.0.1", "port": 1,
         "pid": 1, "pgid": 1, "start_ticks": None, "marker": "m", "log": "x"}]}),
])
def test_an_unreadable_state_file_is_an_error_not_an_empty_state(
        tmp_path: Path, service: Path, targets: list[LocalTarget], text: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "instances.json").write_text(text)
    target = LocalTarget(LocalOptions(command="app", state_dir=state))
    with pytest.raises(TargetUnavailable, match="unreadable"):
        target.instances("v1")


def test_sigkill_after_the_grace_period_for_an_app_that_ignores_sigterm(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service, "ignore-term", grace_period=0.3)
    [instance] = target.deploy("v1", 1)
    pid = facts(tmp_path, instance.endpoint.port)["pid"]
    target.retire("v1")
    assert not process_runs(pid)
    assert not port_accepts("127.0.0.1", instance.endpoint.port)
    log = next((target.state_dir / "logs").glob("v1-0.log"))
    assert "got SIGTERM, ignoring it" in log.read_text()


def test_children_in_the_process_group_are_stopped_too(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service, "child", "stubborn-child", grace_period=0.3)
    [instance] = target.deploy("v1", 1)
    seen = facts(tmp_path, instance.endpoint.port)
    assert process_runs(seen["child"])
    target.retire("v1")
    assert not process_runs(seen["pid"])
    assert wait_until_gone(seen["child"])


def test_adoption_stops_the_leftover_children_of_a_dead_instance(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    first = make(targets, tmp_path, service, "child", "stubborn-child", grace_period=0.3)
    [instance] = first.deploy("v1", 1)
    seen = facts(tmp_path, instance.endpoint.port)
    os.kill(seen["pid"], signal.SIGKILL)
    assert wait_until_gone(seen["pid"])
    assert process_runs(seen["child"])
    if not Path("/proc").is_dir():
        pytest.skip("finding leftover children needs /proc")
    restarted = make(targets, tmp_path, service, grace_period=0.3)
    assert restarted.adopt() == ()
    assert wait_until_gone(seen["child"])


def test_scale_heals_and_counts_only_running_instances(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service)
    victim, survivor = target.deploy("v1", 2)
    os.kill(facts(tmp_path, victim.endpoint.port)["pid"], signal.SIGKILL)
    assert wait_until_gone(facts(tmp_path, victim.endpoint.port)["pid"])
    scaled = target.scale("v1", 2)
    assert survivor in scaled
    assert len(scaled) == 2
    assert all(answer.healthy for answer in target.health("v1"))


@pytest.fixture
def without_proc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Behave as on a system without /proc (macOS, BSD)."""
    monkeypatch.setattr(local_process, "_PROC", tmp_path / "no-proc")


@pytest.mark.usefixtures("without_proc")
def test_without_proc_the_whole_group_is_still_stopped(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    target = make(targets, tmp_path, service, "child", "stubborn-child", "ignore-term",
                  grace_period=0.3)
    [instance] = target.deploy("v1", 1)
    seen = facts(tmp_path, instance.endpoint.port)
    target.retire("v1")
    assert wait_until_gone(seen["pid"])
    assert wait_until_gone(seen["child"])


@pytest.mark.usefixtures("without_proc")
def test_without_proc_adoption_leaves_unrecognisable_leftovers_alone(
        tmp_path: Path, service: Path, targets: list[LocalTarget]) -> None:
    first = make(targets, tmp_path, service, "child", "stubborn-child")
    running = first.deploy("v1", 1)
    seen = facts(tmp_path, running[0].endpoint.port)
    try:
        restarted = make(targets, tmp_path, service)
        assert restarted.adopt() == running
        os.kill(seen["pid"], signal.SIGKILL)
        assert wait_until_gone(seen["pid"])
        again = make(targets, tmp_path, service)
        assert again.adopt() == ()
        assert process_runs(seen["child"])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(seen["child"], signal.SIGKILL)


def test_an_instance_whose_port_was_taken_meanwhile_moves_to_another(
        tmp_path: Path, service: Path, targets: list[LocalTarget],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as thief:
        thief.bind(("127.0.0.1", 0))
        thief.listen()
        stolen = thief.getsockname()[1]
        picks = iter([stolen])
        real_free_port = local_ports.free_port

        def pick(host: str, avoid: Collection[int] = ()) -> int:
            return next(picks, None) or real_free_port(host, avoid)

        monkeypatch.setattr(local, "free_port", pick)
        target = make(targets, tmp_path, service)
        [instance] = target.deploy("v1", 1)
        assert instance.endpoint.port != stolen
        assert all(answer.healthy for answer in target.health("v1"))
        assert "Address already in use" in (target.state_dir / "logs" / "v1-0.log.1").read_text()
