"""The one error tree of safeship.

Every error a user can meet derives from :class:`SafeshipError`. Each one carries the advice the
user needs next in :meth:`SafeshipError.diagnostics`, and an ``exit_code`` that only the CLI turns
into a process exit status::

    SafeshipError                     70  internal bug (the base is never raised directly)
    +-- UsageError                     2  bad CLI arguments or combinations
    +-- ConfigError                    2  a config file is invalid (file:line:col, field path)
    |   +-- ConfigSyntaxError          2  the YAML itself does not parse
    +-- DependencyUnavailable          3  a tool, endpoint or store could not be used
    |   +-- ToolUnavailable            3  an external program is missing or failed to start
    |   +-- EndpointUnavailable        3  an HTTP endpoint did not answer usably
    |   +-- StoreUnavailable           3  the state store could not be opened or written
    |   +-- MetricsUnavailable         3  a metrics provider failed or answered unusably
    +-- GateCannotRun                  3  a gate could not evaluate (recorded as ERROR)
    +-- NotFound                       2  a run, approval or file named by the user does not exist
    +-- InternalError                 70  a bug in safeship
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ExitCode:
    """Documented process exit codes (see README, "Exit codes")."""

    OK = 0
    BLOCKED = 1
    USAGE = 2
    DEPENDENCY = 3
    PENDING = 4
    INTERNAL = 70
    INTERRUPTED = 130


@dataclass(frozen=True)
class SourceLocation:
    """A position in a file, 1-based, as editors show it."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class SafeshipError(Exception):
    """Base of every error safeship raises on purpose."""

    exit_code: int = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> list[str]:
        """Lines a person reads to understand and fix the problem, most important first."""
        lines = [self.message]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return lines


class UsageError(SafeshipError):
    """The command line asked for something impossible."""

    exit_code = ExitCode.USAGE


class NotFound(SafeshipError):
    """Something the user named (a run id, a file) does not exist."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in a config file: where, which field, and what is wrong."""

    location: SourceLocation
    field_path: str
    message: str
    suggestion: str | None = None

    def render(self) -> str:
        """Format as ``file:line:col: field: message (did you mean ...?)``."""
        where = str(self.location)
        text = f"{where}: {self.field_path}: {self.message}" if self.field_path else (
            f"{where}: {self.message}"
        )
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text


class ConfigError(SafeshipError):
    """One or more problems in a configuration file."""

    exit_code = ExitCode.USAGE

    def __init__(self, problems: list[ConfigProblem], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0].render() if self.problems else "invalid configuration"
        more = len(self.problems) - 1
        message = first if more <= 0 else f"{first} (and {more} more)"
        super().__init__(message, hint=hint)

    def diagnostics(self) -> list[str]:
        lines = [problem.render() for problem in self.problems]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return lines


class ConfigSyntaxError(ConfigError):
    """The YAML text itself is malformed (indentation, quoting, duplicate keys)."""


class DependencyUnavailable(SafeshipError):
    """Something safeship depends on could not be used."""

    exit_code = ExitCode.DEPENDENCY


class ToolUnavailable(DependencyUnavailable):
    """An external program is missing, timed out, or could not be started."""


class EndpointUnavailable(DependencyUnavailable):
    """An HTTP endpoint was unreachable or answered with something unusable."""


class StoreUnavailable(DependencyUnavailable):
    """The state store could not be opened, migrated or written."""


class MetricsUnavailable(DependencyUnavailable):
    """A metrics provider could not be queried, or its answer could not be used."""


class GateCannotRun(SafeshipError):
    """A gate could not evaluate; the engine records ERROR, which never passes."""

    exit_code = ExitCode.DEPENDENCY


class InternalError(SafeshipError):
    """A bug in safeship itself."""

    exit_code = ExitCode.INTERNAL


@dataclass(frozen=True)
class ErrorReport:
    """A serialisable summary of an error, for ``--format json`` and logs."""

    kind: str
    exit_code: int
    diagnostics: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, error: SafeshipError) -> ErrorReport:
        """Summarise ``error``."""
        return cls(type(error).__name__, error.exit_code, error.diagnostics())
