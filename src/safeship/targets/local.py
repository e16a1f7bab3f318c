"""The ``local`` target: every instance of a version is a process on this machine.

Each instance runs the command template (``python -m app --port {port}``, see
:mod:`safeship.targets.local_command`) on a free port of ``host``, in its own session, with
``SAFESHIP_VERSION``, ``PORT`` and the options' ``env`` in its environment, and its stdout and
stderr in ``<state_dir>/logs/``. An instance is healthy when ``GET health.path`` answers
``health.status`` within ``health.timeout``.

``deploy`` starts what is missing and waits, at most ``startup_timeout``, until every new
instance is healthy; an instance that exits or stays unhealthy fails the deploy with the last
lines of its log, and the instances started by that call are stopped again. Running healthy
instances are kept, so a repeated deploy changes nothing. Stopping is SIGTERM to the process
group, SIGKILL after ``grace_period`` (:mod:`safeship.targets.local_process`).

The target records its instances in ``<state_dir>/instances.json``. A new target on the same
state dir adopts the instances that still run (:meth:`LocalTarget.adopt`, done before its first
action), so a restarted controller keeps, scales or stops them, and never orphans them. Use one
state dir per service.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, ClassVar, NoReturn

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from safeship._internal.durations import format_duration, parse_duration
from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship.errors import UsageError
from safeship.model.endpoints import Endpoint
from safeship.targets.interface import (
    Artifact,
    Instance,
    InstanceHealth,
    Target,
    TargetOptions,
    TargetUnavailable,
)
from safeship.targets.local_command import TemplateError, placeholders_in, render, split_template
from safeship.targets.local_logs import tail
from safeship.targets.local_ports import free_port, port_in_use
from safeship.targets.local_process import (
    LocalProcess,
    ProcessIdentity,
    SystemWaitClock,
    WaitClock,
    adopt,
    leader_alive,
    spawn,
)
from safeship.targets.local_state import STATE_FILE, InstanceRecord, load_records, save_records

Seconds = Annotated[float, BeforeValidator(parse_duration)]
"""A duration: ``30s``, ``1m30s``, ``250ms`` or a number of seconds."""

MAX_REPLICAS = 1024
PORT_RETRIES = 3
"""How many times one deploy moves an instance whose port another program took meanwhile."""
RESERVED_ENV = frozenset({"PORT", "SAFESHIP_VERSION"})
"""Variables the target sets itself; the options' ``env`` cannot override them."""

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


class LocalHealthOptions(BaseModel):
    """How the ``local`` target asks an instance whether it is healthy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(default="/healthz", description="HTTP path to GET, e.g. /healthz.")
    status: int = Field(default=200, ge=100, le=599, description="The status a healthy "
                        "instance answers.")
    timeout: Seconds = Field(default=2.0, gt=0, le=120,
                             description="How long one health request may take.")

    @field_validator("path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError(f"'{value}' is not an absolute URL path such as /healthz")
        return value


class LocalOptions(TargetOptions):
    """Options of ``type: local``."""

    command: str | list[str] = Field(description=(
        "Command that runs one instance; placeholders {port}, {version}, {instance} and "
        "{artifact}. A string is split like a shell would split it, but no shell runs it."
    ))
    cwd: Path | None = Field(default=None, description="Working directory of the instances.")
    env: dict[str, str] = Field(default_factory=dict, description=(
        "Extra environment variables (SAFESHIP_VERSION and PORT are always set)."
    ))
    host: str = Field(default="127.0.0.1", description="Address the instances listen on.")
    health: LocalHealthOptions = Field(default_factory=LocalHealthOptions)
    startup_timeout: Seconds = Field(default=30.0, gt=0, le=3600, description=(
        "How long a deploy waits for a new instance to become healthy."
    ))
    grace_period: Seconds = Field(default=10.0, ge=0, le=3600, description=(
        "How long a stopping instance gets after SIGTERM before SIGKILL."
    ))
    state_dir: Path = Field(default=Path(".safeship/targets/local"), description=(
        "Where the state file and the instances' logs live (one per service)."
    ))

    @field_validator("command")
    @classmethod
    def _valid_template(cls, value: str | list[str]) -> str | list[str]:
        # TemplateError is a ValueError, so pydantic reports it as this field's error.
        placeholders_in(split_template(value))
        return value

    @field_validator("env", mode="before")
    @classmethod
    def _scalars_as_text(cls, value: object) -> object:
        # YAML reads `WORKERS: 4` or `DEBUG: true` as numbers and booleans; the environment
        # only holds text, so write them the way YAML did.
        if not isinstance(value, dict):
            return value
        return {key: (str(item).lower() if isinstance(item, bool) else
                      str(item) if isinstance(item, int | float) else item)
                for key, item in value.items()}

    @field_validator("env")
    @classmethod
    def _valid_env(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not name or "=" in name or "\0" in name:
                raise ValueError(f"'{name}' is not an environment variable name")
            if name in RESERVED_ENV:
                raise ValueError(f"{name} is set by the target for each instance")
        return value

    @field_validator("host")
    @classmethod
    def _concrete_host(cls, value: str) -> str:
        host = value.strip().strip("[]")
        if not host:
            raise ValueError("the host cannot be empty")
        try:
            unspecified = ipaddress.ip_address(host).is_unspecified
        except ValueError:
            unspecified = False
        if unspecified:
            raise ValueError(f"'{value}' is not an address a router can send traffic to; "
                             "name a concrete one such as 127.0.0.1")
        return host

    def argv_template(self) -> tuple[str, ...]:
        """The command split into arguments, placeholders not filled in yet."""
        return split_template(self.command)


class InstanceFailed(TargetUnavailable):
    """A new instance exited or stayed unhealthy; carries the end of its log."""

    def __init__(self, message: str, *, log: Path, log_lines: list[str],
                 hint: str | None = None) -> None:
        super().__init__(f"{message} (log: {log})", hint=hint)
        self.log = log
        self.log_lines = list(log_lines)

    def diagnostics(self) -> list[str]:
        lines = [self.message]
        if self.log_lines:
            lines.append(f"last lines of {self.log}:")
            lines.extend(f"  | {line}" for line in self.log_lines)
        else:
            lines.append(f"{self.log} is empty")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return lines


@dataclass
class _Slot:
    """An instance as the target tracks it: what was recorded and the process behind it."""

    record: InstanceRecord
    process: LocalProcess

    @property
    def instance(self) -> Instance:
        record = self.record
        return Instance(record.version, record.instance_id, Endpoint(record.host, record.port))


class LocalTarget(Target):
    """Runs each instance of a version as a local process; see the module docstring."""

    type_name: ClassVar[str] = "local"
    options_model: ClassVar[type[TargetOptions]] = LocalOptions

    def __init__(self, options: LocalOptions, *,
                 http: HttpClientFactory = default_client_factory,
                 clock: WaitClock | None = None) -> None:
        self.options = options
        self._argv = options.argv_template()
        self._uses_artifact = "artifact" in placeholders_in(self._argv)
        self._http = http
        self._clock: WaitClock = clock or SystemWaitClock()
        self.state_dir = options.state_dir.absolute()
        self.state_file = self.state_dir / STATE_FILE
        self._slots: dict[str, _Slot] = {}
        self._loaded = False
        self._lock = threading.RLock()

    # -- the Target interface ------------------------------------------------------------------

    def deploy(self, version: str, replicas: int,
               artifact: Artifact | None = None) -> tuple[Instance, ...]:
        """Ensure ``version`` runs ``replicas`` healthy instances; keep those that already do."""
        _check_request(version, replicas)
        with self._lock:
            self._ensure_loaded()
            if artifact is not None:
                self._verify_artifact(artifact)
            running = self._drop_dead(version)
            with self._client() as client:
                healthy = [slot for slot in running
                           if self._probe(client, slot).healthy and _same_artifact(slot, artifact)]
            self._stop([slot for slot in running if slot not in healthy])
            self._stop(healthy[replicas:])
            kept = healthy[:replicas]
            if artifact is None and kept:
                artifact = _artifact_of(kept[0].record)
            started = self._start(version, replicas - len(kept), artifact)
            self._await_healthy(started)
            return self._instances_of(version)

    def scale(self, version: str, replicas: int) -> tuple[Instance, ...]:
        """Start or stop instances of a deployed version until ``replicas`` run."""
        _check_request(version, replicas)
        with self._lock:
            self._ensure_loaded()
            known = self._slots_of(version)
            if not known:
                if replicas == 0:
                    return ()
                raise TargetUnavailable(f"version '{version}' does not run here; deploy it first")
            artifact = _artifact_of(known[0].record)
            running = self._drop_dead(version)
            self._stop(running[replicas:])
            started = self._start(version, replicas - min(replicas, len(running)), artifact)
            self._await_healthy(started)
            return self._instances_of(version)

    def instances(self, version: str) -> tuple[Instance, ...]:
        """The instances of ``version`` whose process runs now."""
        with self._lock:
            self._ensure_loaded()
            return self._instances_of(version)

    def health(self, version: str) -> tuple[InstanceHealth, ...]:
        """Ask every instance of ``version`` now; one whose process ended is unhealthy."""
        with self._lock:
            self._ensure_loaded()
            slots = self._slots_of(version)
            if not slots:
                return ()
            with self._client() as client:
                return tuple(self._probe(client, slot) for slot in slots)

    def retire(self, version: str) -> None:
        """Stop every instance of ``version`` (harmless when it does not run)."""
        with self._lock:
            self._ensure_loaded()
            self._stop(self._slots_of(version))

    def close(self) -> None:
        """Stop every instance this target knows, adopted ones included."""
        with self._lock:
            self._ensure_loaded()
            self._stop(sorted(self._slots.values(), key=_order))

    # -- adoption --------------------------------------------------------------------------------

    def adopt(self) -> tuple[Instance, ...]:
        """Reload the state file: keep the instances that still run, drop the others.

        A dropped instance's leftover children (its leader is gone, they still carry its
        marker) are stopped, so nothing started by a previous controller runs unaccounted for.
        Returns every instance now known, of every version.
        """
        with self._lock:
            slots: dict[str, _Slot] = {}
            leftovers: list[LocalProcess] = []
            for record in load_records(self.state_file):
                current = self._slots.get(record.instance_id)
                if current is not None and current.record.pid == record.pid:
                    slots[record.instance_id] = current
                    continue
                identity = ProcessIdentity(record.pid, record.pgid, record.start_ticks,
                                           record.marker)
                if leader_alive(identity) and current is None:
                    slots[record.instance_id] = _Slot(record, adopt(identity))
                else:
                    # Gone (its children may linger), or a duplicate of an instance we hold.
                    leftovers.append(adopt(identity))
            # Stop leftovers before the file forgets them: if one survives, it stays recorded.
            for process in leftovers:
                process.stop(self.options.grace_period, self._clock)
            # Never forget a process this object holds, even if the file lost track of it.
            for instance_id, slot in self._slots.items():
                slots.setdefault(instance_id, slot)
            self._slots = slots
            self._loaded = True
            self._save()
            return tuple(slot.instance for slot in sorted(slots.values(), key=_order))

    # -- internals -------------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.adopt()

    def _slots_of(self, version: str) -> list[_Slot]:
        return sorted((s for s in self._slots.values() if s.record.version == version),
                      key=_order)

    def _instances_of(self, version: str) -> tuple[Instance, ...]:
        return tuple(slot.instance for slot in self._slots_of(version) if slot.process.running())

    def _drop_dead(self, version: str) -> list[_Slot]:
        """Forget the instances of ``version`` whose process ended; return the running ones."""
        slots = self._slots_of(version)
        self._stop([slot for slot in slots if not slot.process.running()])
        return [slot for slot in slots if slot.instance.instance_id in self._slots]

    def _stop(self, slots: Iterable[_Slot]) -> None:
        """Stop each slot's process group and forget it; re-raise the first failure at the end."""
        failure: TargetUnavailable | None = None
        for slot in sorted(slots, key=_order, reverse=True):
            try:
                slot.process.stop(self.options.grace_period, self._clock)
            except TargetUnavailable as exc:
                failure = failure or exc
                continue
            self._slots.pop(slot.record.instance_id, None)
            self._save()
        if failure is not None:
            raise failure

    def _start(self, version: str, count: int, artifact: Artifact | None) -> list[_Slot]:
        if count <= 0:
            return []
        if self._uses_artifact and artifact is None:
            raise UsageError(
                f"the local target's command uses {{artifact}} but version '{version}' was "
                "deployed without an artifact"
            )
        taken = {slot.record.index for slot in self._slots_of(version)}
        ports = {slot.record.port for slot in self._slots.values()}
        started: list[_Slot] = []
        try:
            for _ in range(count):
                index = next(i for i in range(len(taken) + 1) if i not in taken)
                taken.add(index)
                port = free_port(self.options.host, ports)
                ports.add(port)
                started.append(self._start_one(version, index, port, artifact))
        except BaseException:
            self._stop(started)
            raise
        return started

    def _start_one(self, version: str, index: int, port: int,
                   artifact: Artifact | None) -> _Slot:
        values = {"port": str(port), "version": version, "instance": str(index)}
        if artifact is not None:
            values["artifact"] = artifact.reference
        try:
            argv = render(self._argv, values)
        except TemplateError as exc:
            raise UsageError(f"local target command: {exc}") from exc
        instance_id = f"{version}-{index}"
        log = self.state_dir / "logs" / f"{_file_stem(version)}-{index}.log"
        _keep_previous(log)
        env = {**os.environ, **self.options.env, "SAFESHIP_VERSION": version,
               "PORT": str(port)}
        marker = uuid.uuid4().hex
        process = spawn(argv, cwd=self.options.cwd, env=env, marker=marker, log_path=log)
        identity = process.identity
        record = InstanceRecord(
            version=version, index=index, instance_id=instance_id, host=self.options.host,
            port=port, pid=identity.pid, pgid=identity.pgid, start_ticks=identity.start_ticks,
            marker=marker, log=str(log),
            artifact=artifact.reference if artifact else None,
            artifact_sha256=artifact.sha256 if artifact else None,
        )
        slot = _Slot(record, process)
        self._slots[instance_id] = slot
        self._save()
        return slot

    def _await_healthy(self, started: list[_Slot]) -> None:
        """Wait (bounded) until every started instance is healthy; else stop them and raise."""
        if not started:
            return
        timeout = self.options.startup_timeout
        deadline = self._clock.monotonic() + timeout
        pending = list(started)
        last: dict[str, str] = {}
        pause = 0.02
        moves = 0
        with self._client() as client:
            while True:
                waiting = []
                for slot in pending:
                    code = slot.process.exit_code()
                    if code is not None and moves < PORT_RETRIES and port_in_use(
                            slot.record.host, slot.record.port):
                        # Another program took the port between our pick and the instance's
                        # bind: try again on another port instead of failing the deploy.
                        moves += 1
                        slot = self._restart_elsewhere(slot)
                        started.append(slot)
                        waiting.append(slot)
                        continue
                    if code is not None:
                        self._fail(started, slot, f"exited with code {code} before it became "
                                   "healthy", "run the command by hand to see why it stops")
                    answer = self._probe(client, slot)
                    if not answer.healthy:
                        waiting.append(slot)
                        last[slot.record.instance_id] = answer.detail
                pending = waiting
                if not pending:
                    return
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0:
                    slot = pending[0]
                    self._fail(started, slot,
                               f"was not healthy within {format_duration(timeout)}: "
                               f"{last[slot.record.instance_id]}",
                               "raise startup_timeout if it starts slowly, or check health.path")
                self._clock.sleep(min(pause, remaining))
                pause = min(pause * 2, 0.25)

    def _restart_elsewhere(self, slot: _Slot) -> _Slot:
        """Replace an instance that lost its port to another program by one on a new port."""
        record = slot.record
        self._stop([slot])
        ports = {s.record.port for s in self._slots.values()} | {record.port}
        return self._start_one(record.version, record.index,
                               free_port(self.options.host, ports), _artifact_of(record))

    def _fail(self, started: list[_Slot], slot: _Slot, why: str, hint: str) -> NoReturn:
        record = slot.record
        log = Path(record.log)
        failure = InstanceFailed(
            f"instance {record.instance_id} of version '{record.version}' {why}",
            log=log, log_lines=tail(log), hint=hint,
        )
        # Leave nothing half-started behind; a failure to stop is chained to the first cause.
        try:
            self._stop(started)
        except TargetUnavailable as exc:
            raise failure from exc
        raise failure

    def _probe(self, client: httpx.Client, slot: _Slot) -> InstanceHealth:
        instance = slot.instance
        code = slot.process.exit_code()
        if code is not None:
            return InstanceHealth(instance, False, f"not running (exited with code {code})")
        health = self.options.health
        url = instance.endpoint.url() + health.path
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            return InstanceHealth(instance, False,
                                  f"GET {health.path}: {type(exc).__name__}: {exc}")
        if response.status_code != health.status:
            return InstanceHealth(instance, False, f"GET {health.path} answered "
                                  f"{response.status_code}, expected {health.status}")
        return InstanceHealth(instance, True, f"GET {health.path} answered {response.status_code}")

    def _client(self) -> httpx.Client:
        return self._http(self.options.health.timeout)

    def _verify_artifact(self, artifact: Artifact) -> None:
        if artifact.sha256 is None:
            return
        path = Path(artifact.reference)
        if not path.is_absolute() and self.options.cwd is not None:
            path = self.options.cwd / path
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise TargetUnavailable(
                f"cannot read artifact {artifact.reference} to check its sha256: "
                f"{exc.strerror or exc}"
            ) from exc
        if digest.hexdigest() != artifact.sha256.lower():
            raise TargetUnavailable(
                f"artifact {artifact.reference} has sha256 {digest.hexdigest()}, "
                f"expected {artifact.sha256}",
                hint="the artifact changed after it was built; rebuild or re-sign it",
            )

    def _save(self) -> None:
        records = [slot.record for slot in sorted(self._slots.values(), key=_order)]
        save_records(self.state_file, records)


def _check_request(version: str, replicas: int) -> None:
    if not version or len(version) > 200 or any(ord(c) < 32 for c in version):
        raise UsageError(f"{version!r} is not a version name")
    if isinstance(replicas, bool) or not 0 <= replicas <= MAX_REPLICAS:
        raise UsageError(f"replicas must be between 0 and {MAX_REPLICAS}, got {replicas}")


def _order(slot: _Slot) -> tuple[str, int]:
    return slot.record.version, slot.record.index


def _artifact_of(record: InstanceRecord) -> Artifact | None:
    if record.artifact is None:
        return None
    return Artifact(record.artifact, record.artifact_sha256)


def _same_artifact(slot: _Slot, artifact: Artifact | None) -> bool:
    if artifact is None:
        return True
    return (slot.record.artifact, slot.record.artifact_sha256) == (artifact.reference,
                                                                   artifact.sha256)


def _file_stem(version: str) -> str:
    """``version`` fit for a file name; a hash suffix keeps distinct versions distinct."""
    stem = _UNSAFE_FILE_CHARS.sub("_", version)
    if stem != version or stem.startswith("."):
        stem = f"{stem}.{hashlib.sha256(version.encode()).hexdigest()[:8]}"
    return stem


def _keep_previous(log: Path) -> None:
    """Keep the previous run's log of this slot as ``*.log.1`` (it may explain a crash)."""
    if log.exists():
        try:
            log.replace(log.with_name(log.name + ".1"))
        except OSError:
            return

