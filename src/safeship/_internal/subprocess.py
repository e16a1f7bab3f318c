"""The one place safeship starts external programs.

Gates receive a :class:`CommandRunner` instead of calling :mod:`subprocess` themselves, so tests
can inject a runner and every call has a timeout and a bounded output size.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from safeship.errors import ToolUnavailable

_MAX_OUTPUT = 16 * 1024 * 1024


@dataclass(frozen=True)
class CommandResult:
    """What a finished program returned."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class CommandRunner(Protocol):
    """Runs a program and returns its result; raises :class:`ToolUnavailable` if it cannot."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        timeout_s: float = 300.0,
        env: Mapping[str, str] | None = None,
        shell: bool = False,
    ) -> CommandResult: ...


def which(program: str) -> str | None:
    """Locate ``program`` on PATH."""
    return shutil.which(program)


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout_s: float = 300.0,
    env: Mapping[str, str] | None = None,
    shell: bool = False,
) -> CommandResult:
    """Run ``argv`` (or, with ``shell=True``, the single command string in it) to completion."""
    args: str | list[str] = argv[0] if shell else list(argv)
    try:
        completed = subprocess.run(
            args,
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            env=dict(env) if env is not None else None,
            shell=shell,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise ToolUnavailable(
            f"program not found: {argv[0]}", hint="install it or put it on PATH"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolUnavailable(f"{' '.join(argv)} did not finish within {timeout_s:g}s") from exc
    except OSError as exc:
        raise ToolUnavailable(f"could not start {argv[0]}: {exc}") from exc
    return CommandResult(
        tuple(argv), completed.returncode, completed.stdout[:_MAX_OUTPUT],
        completed.stderr[:_MAX_OUTPUT],
    )


def start_background(
    argv: Sequence[str],
    *,
    log_path: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` (no shell) running on its own, stdout and stderr appended to ``log_path``.

    For programs that run until told to stop (a version's process, a server the demo starts).
    The caller owns the handle and stops it; :class:`OSError` from the start is passed on so
    the caller can say which of its settings was wrong. ``new_session`` puts the program in its
    own process group, so a stop reaches its children too.
    """
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
            close_fds=True,
        )
