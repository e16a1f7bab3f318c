"""The ``api_contract`` gate: no breaking change between the last release's API spec and this one.

::

    - type: api_contract
      spec: openapi.yaml                  # the revision, relative to the project
      base: git:v1.4.0:openapi.yaml       # or a path: the spec of the previous release
      fail_on: ERR                        # ERR (default) or WARN
      deprecation_days: 0                 # least days from deprecation to sunset (0: no policy)
      ignore:
        - id: response-property-enum-value-added
          operation: GET /pets/{id}       # optional; all operations when left out
          reason: clients treat unknown statuses as "other" since v1.3

Both specs are loaded and validated (OpenAPI 3.0/3.1, local ``$ref``\\ s) and compared by
:mod:`safeship.scanners.openapi`, whose rule ids are oasdiff's. ``base: git:<ref>:<path>`` reads
the file with ``git show`` in the project, so CI can compare against the last tag (fetch tags
first). Findings carry the rule id and sit at the revision file's line.

Verdicts: FAILED when a change at ``fail_on`` or above remains after the ignore list; PASSED
otherwise, with the lower-level changes (WARN, and ignored ones as notes) still listed and INFO
changes counted in the metrics. A spec that cannot be read or is not valid OpenAPI, and a git
ref or path that does not exist, raise :class:`~safeship.errors.GateCannotRun`: the engine
records ERROR, which never passes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from safeship.errors import ConfigError, GateCannotRun, NotFound
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck
from safeship.scanners.openapi import (
    RULES,
    Change,
    DiffOptions,
    DiffReport,
    Level,
    Spec,
    diff_specs,
    load_spec,
    parse_spec,
)

GIT_PREFIX = "git:"
_VARIABLE = re.compile(r"\{[^}/]*\}")


class IgnoreRule(GateOptions):
    """An accepted change: a rule id, optionally limited to one operation, and why."""

    id: str = Field(description="The rule id to accept (see docs/api-contract.md).")
    operation: str | None = Field(
        default=None, description="`METHOD /path`; every operation when left out.")
    reason: str = Field(min_length=1, description="Why this change is acceptable.")

    @field_validator("id")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in RULES:
            # A truncated id is the common typo; otherwise the nearest spelling.
            longer = sorted((r for r in RULES if r.startswith(value)), key=len)
            close = longer[:1] or difflib.get_close_matches(value, list(RULES), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"unknown rule id '{value}'{hint}")
        return value

    @field_validator("operation")
    @classmethod
    def _operation_shape(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 2:
            raise ValueError(f"'{value}' is not of the form `METHOD /path`")
        return value

    def matches(self, change: Change) -> bool:
        """True when this entry accepts ``change``."""
        if change.id != self.id:
            return False
        if self.operation is None:
            return True
        return _operation_key(self.operation) == _operation_key(change.operation)


def _operation_key(operation: str) -> str:
    # `/pets/{id}` and `/pets/{petId}` are the same path, as in the diff itself.
    method, _, path = operation.strip().partition(" ")
    return f"{method.upper()} {_VARIABLE.sub('{}', path.strip())}"


class ApiContractOptions(GateOptions):
    """Options of ``type: api_contract``."""

    spec: str = Field(description="The revision's OpenAPI spec, relative to the project root.")
    base: str = Field(
        description="The previous release's spec: a path, or `git:<ref>:<path>` read with "
        "`git show`.")
    fail_on: Literal["ERR", "WARN"] = Field(
        default="ERR", description="The least serious level that fails the gate.")
    deprecation_days: int = Field(
        default=0, ge=0,
        description="Least days between deprecating something and its sunset; 0 for none.")
    ignore: list[IgnoreRule] = Field(
        default_factory=list, description="Accepted changes: {id, operation?, reason}.")

    @field_validator("base")
    @classmethod
    def _base_shape(cls, value: str) -> str:
        if value.startswith(GIT_PREFIX):
            ref, sep, path = value[len(GIT_PREFIX):].partition(":")
            if not sep or not ref or not path:
                raise ValueError(f"'{value}' is not of the form `git:<ref>:<path>`")
        return value


def load_revision(ctx: GateContext, spec: str) -> Spec:
    """The revision spec at ``spec`` (relative to the project); GateCannotRun if unusable."""
    path = ctx.resolve(spec)
    try:
        return load_spec(path, name=ctx.relative(path))
    except (ConfigError, NotFound) as exc:
        raise GateCannotRun(f"cannot use the spec {spec}: {'; '.join(exc.diagnostics())}",
                            hint="fix the spec (safeship contract diff shows the same errors)"
                            ) from exc


def load_base(ctx: GateContext, base: str) -> Spec:
    """The base spec: a file, or ``git:<ref>:<path>`` read with ``git show``."""
    if not base.startswith(GIT_PREFIX):
        return load_revision(ctx, base)
    ref, _, path = base[len(GIT_PREFIX):].partition(":")
    # `./` makes git read the path relative to the project, not the repository's top.
    relative = path if path.startswith("/") else f"./{path}"
    result = ctx.run(["git", "show", f"{ref}:{relative}"], cwd=ctx.project_root, timeout_s=60.0)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise GateCannotRun(
            f"cannot read the base spec {path} at git ref {ref}: {detail}",
            hint="check that the ref exists (in CI fetch tags and history: "
            "`git fetch --tags --unshallow`) and that the file existed at that ref")
    try:
        return parse_spec(result.stdout, f"{ref}:{path}")
    except ConfigError as exc:
        raise GateCannotRun(f"the base spec {ref}:{path} is not usable: "
                            f"{'; '.join(exc.diagnostics())}") from exc


def _severity(level: Level, fail_on: Level) -> Severity:
    if level.at_least(fail_on):
        return Severity.ERROR
    return Severity.WARNING if level is Level.WARN else Severity.NOTE


def findings_of(changes: Sequence[Change], ignored: Sequence[tuple[Change, IgnoreRule]],
                fail_on: Level, revision_file: str) -> tuple[Finding, ...]:
    """The WARN-and-above changes as findings at the revision's lines, then the ignored ones."""
    found = [Finding(c.id, f"{c.operation}: {c.message}" if c.operation else c.message,
                     _severity(c.level, fail_on), revision_file, c.revision_line)
             for c in changes if c.level.at_least(Level.WARN)]
    found.extend(Finding(c.id, f"{c.operation}: {c.message} [ignored: {rule.reason}]"
                         if c.operation else f"{c.message} [ignored: {rule.reason}]",
                         Severity.NOTE, revision_file, c.revision_line)
                 for c, rule in ignored)
    return tuple(found)


def summary_of(report: DiffReport, kept: Sequence[Change], ignored: int,
               fail_on: Level) -> str:
    """One line: how many changes of each level, against which base."""
    counts = {level: sum(1 for c in kept if c.level is level) for level in Level}
    blocking = sum(n for level, n in counts.items() if level.at_least(fail_on))
    parts = [f"{counts[Level.ERR]} breaking (ERR)", f"{counts[Level.WARN]} potentially "
             f"breaking (WARN)", f"{counts[Level.INFO]} other (INFO)"]
    text = f"{', '.join(parts)} from {report.base} to {report.revision}"
    if ignored:
        text += f"; {ignored} ignored"
    verdict = (f"{blocking} at or above {fail_on.value}" if blocking
               else f"nothing at or above {fail_on.value}")
    return f"{text}; {verdict}"


def _today() -> dt.date:
    return dt.date.today()


class ApiContractGate(Gate[ApiContractOptions]):
    """Compares the project's OpenAPI spec with the previous release's and fails on breaks."""

    type_name: ClassVar[str] = "api_contract"
    default_action: ClassVar[FailAction] = FailAction.FAIL
    checks: ClassVar[str] = "no breaking API changes (OpenAPI diff, oasdiff rule ids)"
    options_model: ClassVar[type[GateOptions]] = ApiContractOptions

    def __init__(self, options: ApiContractOptions, *,
                 today: Callable[[], dt.date] = _today) -> None:
        super().__init__(options)
        self._today = today

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Load both specs, diff them and decide; see the module docstring."""
        options = self.options
        revision = load_revision(ctx, options.spec)
        base = load_base(ctx, options.base)
        try:
            report = diff_specs(base, revision, DiffOptions(
                today=self._today(), deprecation_days=options.deprecation_days))
        except ConfigError as exc:
            raise GateCannotRun("; ".join(exc.diagnostics())) from exc
        fail_on = Level(options.fail_on)
        kept: list[Change] = []
        ignored: list[tuple[Change, IgnoreRule]] = []
        used: set[int] = set()
        for change in report.changes:
            rule = next((r for r in options.ignore if r.matches(change)), None)
            if rule is None:
                kept.append(change)
            else:
                ignored.append((change, rule))
                used.add(id(rule))
        revision_file = revision.source
        findings = findings_of(kept, ignored, fail_on, revision_file)
        metrics: dict[str, Any] = {
            "base": report.base, "revision": report.revision, "fail_on": fail_on.value,
            "counts": {level.value: sum(1 for c in kept if c.level is level) for level in Level},
            "ignored": len(ignored),
            "info_rules": sorted({c.id for c in kept if c.level is Level.INFO}),
            "unused_ignores": [f"{r.id} {r.operation or ''}".strip() for r in options.ignore
                               if id(r) not in used],
        }
        summary = summary_of(report, kept, len(ignored), fail_on)
        if any(c.level.at_least(fail_on) for c in kept):
            return GateCheck(Verdict.FAILED, summary, findings, MappingProxyType(metrics))
        return GateCheck(Verdict.PASSED, summary, findings, MappingProxyType(metrics))
