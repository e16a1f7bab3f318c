"""The gate family's contract: the :class:`Gate` ABC, its options base and its context.

A gate backend is one module named after its YAML ``type:``. It declares an options model (a
pydantic model deriving from :class:`GateOptions`, validated at the config edge) and a
:class:`Gate` subclass whose :meth:`Gate.evaluate` returns a :class:`GateCheck`.

Rules every backend follows:

* A check that finds a problem returns ``Verdict.FAILED`` with findings that say where.
* A check that *cannot run* (tool missing, endpoint down, report unreadable) raises
  :class:`safeship.errors.GateCannotRun` (or a ``DependencyUnavailable``); the engine records
  ERROR, which never passes.
* Side effects go through the context: ``ctx.run`` for programs, ``ctx.http`` for HTTP.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from safeship._internal.excerpts import first_lines
from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship._internal.subprocess import CommandRunner, run_command
from safeship.model.enums import FailAction, RiskLevel
from safeship.model.results import Finding, GateCheck


class GateOptions(BaseModel):
    """Base of every backend's options model: strict, immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


OptionsT = TypeVar("OptionsT", bound=GateOptions)


@dataclass(frozen=True)
class GateContext:
    """Everything a gate may use to evaluate: the project, the seams, and run facts."""

    project_root: Path
    run: CommandRunner = run_command
    http: HttpClientFactory = default_client_factory
    service: str = "unknown"
    risk: RiskLevel = RiskLevel.MEDIUM
    commit: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    """How a gate waits (between retries); the engine passes its clock's sleep."""

    def resolve(self, path: str | Path) -> Path:
        """``path`` made absolute against the project root."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.project_root / candidate

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the project root (forward slashes) when inside it, else as is."""
        candidate = Path(path)
        for base in (self.project_root, self.project_root.resolve()):
            try:
                return candidate.relative_to(base).as_posix()
            except ValueError:
                continue
        return candidate.as_posix()

    def child_env(self) -> dict[str, str] | None:
        """Environment for child programs: ours plus the run's extra variables, if any."""
        return {**os.environ, **self.env} if self.env else None


def command_check(ctx: GateContext, command: str, rule: str) -> GateCheck:
    """Run a ``command:`` from gates.yaml in the project; its exit code decides the verdict."""
    # `command:` in gates.yaml is a shell line by design; it comes from the project itself.
    result = ctx.run([command], cwd=ctx.project_root, env=ctx.child_env(), shell=True)  # noqa: S604
    output = "\n".join(part for part in (result.stdout, result.stderr) if part.strip())
    if result.returncode == 0:
        return GateCheck.passed(f"`{command}` exited 0", exit_code=0)
    return GateCheck.failed(
        f"`{command}` exited {result.returncode}",
        (Finding(rule, first_lines(output)),),
        exit_code=result.returncode,
    )


class Gate(ABC, Generic[OptionsT]):
    """One kind of check. Subclasses set the class variables and implement :meth:`evaluate`."""

    type_name: ClassVar[str]
    """The YAML ``type:`` this backend answers to (equal to its module name)."""
    default_action: ClassVar[FailAction]
    """The guide's fail action for this gate (section 2.1), used unless ``on_fail:`` says else."""
    checks: ClassVar[str]
    """What the gate checks, in a few words, for ``safeship gates list``."""
    options_model: ClassVar[type[GateOptions]]

    def __init__(self, options: OptionsT) -> None:
        self.options = options

    @abstractmethod
    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Run the check. Raise ``GateCannotRun`` when it cannot be run."""
