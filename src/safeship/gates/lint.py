"""The ``lint`` gate: code style and syntax, by default with ruff (the guide's "Lint / Format").

By default the gate runs the ruff installed alongside safeship (``python -m ruff``) in the
project root, so the project's own ruff configuration (``pyproject.toml``/``ruff.toml``) applies,
and counts its diagnostics against ``threshold`` (``error_free`` = none allowed). With
``command:`` it runs that shell line instead and lets its exit code decide.

It fails closed: when ruff is missing, fails, prints something that is not its JSON, or finds no
file to lint, the gate raises and the engine records ERROR.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictInt, ValidationInfo, field_validator

from safeship._internal.excerpts import first_lines
from safeship._internal.subprocess import CommandResult
from safeship.errors import GateCannotRun, ToolUnavailable
from safeship.gates.interface import Gate, GateContext, GateOptions, command_check
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck

_PROJECT_LINTER_NAMES = frozenset({"(any linter)", "any", "ruff"})
_RULE_SELECTOR = re.compile(r"^(ALL|[A-Z]{1,4}[0-9]{0,4})$")
_MAX_FINDINGS = 1000


class LintOptions(GateOptions):
    """Options of ``type: lint``.

    ``command`` comes first so that the validators of the other fields can see it and report a
    clash on the field that clashes (``tool:``, ``select:`` ...), with its line in gates.yaml.
    """

    command: str | None = Field(
        default=None,
        description=(
            "A shell command to run in the project root instead of ruff; exit code 0 passes, "
            "anything else fails with the first lines of its output as the finding."
        ),
    )
    tool: str | None = Field(
        default=None,
        description=(
            "Which linter: '(any linter)', 'ruff' or absent use the ruff installed with safeship. "
            "Any other linter needs `command:` (the name is then only a label)."
        ),
    )
    threshold: Literal["error_free"] | Annotated[StrictInt, Field(ge=0)] = Field(
        default="error_free",
        description="Most lint errors allowed: 'error_free' (none) or a whole number >= 0.",
    )
    paths: list[str] = Field(
        default_factory=lambda: ["."],
        min_length=1,
        description="Files or directories to lint, relative to the project root.",
    )
    select: list[str] | None = Field(
        default=None,
        description=(
            "Rule codes or prefixes passed to ruff --select (e.g. ['E9', 'F']); absent uses "
            "the project's own ruff configuration, or ruff's defaults."
        ),
    )

    @field_validator("command")
    @classmethod
    def _command_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("command must not be empty")
        return value

    @field_validator("tool")
    @classmethod
    def _supported_tool(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or info.data.get("command") is not None:
            return value  # with command:, the tool name is only a label
        if value.strip().lower() not in _PROJECT_LINTER_NAMES:
            raise ValueError(
                f"unsupported linter {value}; use command: to run it "
                f'(e.g. command: "{value.strip()} .")'
            )
        return value

    @field_validator("threshold")
    @classmethod
    def _threshold_needs_ruff(cls, value: int | str, info: ValidationInfo) -> int | str:
        if value != "error_free" and info.data.get("command") is not None:
            raise ValueError(
                "threshold cannot be used with command: the command's exit code decides"
            )
        return value

    @field_validator("paths")
    @classmethod
    def _paths_not_blank(cls, value: list[str], info: ValidationInfo) -> list[str]:
        _only_for_ruff("paths", info)
        if any(not path.strip() for path in value):
            raise ValueError("paths must not contain empty entries")
        return value

    @field_validator("select")
    @classmethod
    def _known_selectors(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is None:
            return None
        _only_for_ruff("select", info)
        if not value:
            raise ValueError("select must name at least one rule code, e.g. ['E9', 'F']")
        for code in value:
            if not _RULE_SELECTOR.match(code):
                raise ValueError(
                    f"'{code}' is not a ruff rule code or prefix (e.g. 'F', 'E9', 'F401', 'ALL')"
                )
        return value

    @property
    def max_errors(self) -> int:
        """The threshold as a number of allowed errors."""
        return 0 if self.threshold == "error_free" else self.threshold


class LintGate(Gate[LintOptions]):
    """Runs ruff (or the configured command) and fails when errors exceed the threshold."""

    type_name: ClassVar[str] = "lint"
    default_action: ClassVar[FailAction] = FailAction.BLOCK
    checks: ClassVar[str] = "code style and syntax (ruff, or your own lint command)"
    options_model: ClassVar[type[GateOptions]] = LintOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Lint the project; see the module docstring."""
        if self.options.command is not None:
            return command_check(ctx, self.options.command, "lint-command")
        return self._run_ruff(ctx)

    def _run_ruff(self, ctx: GateContext) -> GateCheck:
        options = self.options
        root = ctx.project_root
        for path in options.paths:
            if not ctx.resolve(path).exists():
                raise GateCannotRun(
                    f"lint path '{path}' does not exist under {root}",
                    hint="fix `paths:` of the lint gate",
                )
        ruff = [sys.executable, "-m", "ruff", "check", "--no-cache", "--force-exclude"]
        listed = _run_ruff(ctx, [*ruff, "--show-files", "--", *options.paths])
        # ruff also lists pyproject.toml (it checks its [tool.ruff] table); that is not source.
        files = [
            line
            for line in listed.stdout.splitlines()
            if line.strip() and Path(line.strip()).name != "pyproject.toml"
        ]
        if not files:
            raise GateCannotRun(
                f"no files to lint under {', '.join(options.paths)} in {root}",
                hint="point `paths:` at your Python sources, or check ruff's exclude settings",
            )
        select = ["--select", ",".join(options.select)] if options.select else []
        checked = _run_ruff(
            ctx,
            [
                *ruff,
                "--output-format",
                "json",
                "--no-fix",
                "--exit-zero",
                *select,
                "--",
                *options.paths,
            ],
        )
        findings = _parse_ruff_json(checked.stdout, ctx)
        return _judge(findings, len(files), options)


def _only_for_ruff(name: str, info: ValidationInfo) -> None:
    if info.data.get("command") is not None:
        raise ValueError(
            f"{name} is for the built-in ruff linter only; with command:, put it in the command"
        )


def _judge(findings: list[Finding], file_count: int, options: LintOptions) -> GateCheck:
    count = len(findings)
    allowed = options.max_errors
    files = f"{file_count} file{'s' if file_count != 1 else ''}"
    limit = "error-free" if options.threshold == "error_free" else f"at most {allowed}"
    shown = findings[:_MAX_FINDINGS]
    note = f" (first {_MAX_FINDINGS} shown)" if count > _MAX_FINDINGS else ""
    metrics = {"errors": count, "files": file_count, "threshold": allowed}
    if count > allowed:
        return GateCheck.failed(
            f"ruff found {count} error{'s' if count != 1 else ''} in {files}; "
            f"required: {limit}{note}",
            tuple(shown),
            **metrics,
        )
    if count == 0:
        return GateCheck.passed(f"ruff found no errors in {files}", **metrics)
    tolerated = tuple(
        Finding(f.rule, f.message, Severity.WARNING, f.path, f.line, f.column) for f in shown
    )
    return GateCheck(
        Verdict.PASSED,
        f"ruff found {count} error{'s' if count != 1 else ''} in {files}, within the "
        f"threshold of {allowed}{note}",
        tolerated,
        MappingProxyType(metrics),
    )




def _run_ruff(ctx: GateContext, argv: list[str]) -> CommandResult:
    result = ctx.run(argv, cwd=ctx.project_root, env=ctx.child_env())
    if result.returncode == 0:
        return result
    if "No module named ruff" in result.stderr:
        raise ToolUnavailable(
            f"ruff is not installed alongside safeship ({sys.executable})",
            hint="install it into the same environment: pip install ruff",
        )
    raise GateCannotRun(
        f"ruff failed with exit code {result.returncode}: {first_lines(result.stderr, 5)}",
        hint="run `ruff check` in the project to see the problem (often its configuration)",
    )




def _parse_ruff_json(stdout: str, ctx: GateContext) -> list[Finding]:
    try:
        data: Any = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise GateCannotRun(
            f"ruff's output is not the JSON report expected: {exc}; it began with {stdout[:80]!r}"
        ) from exc
    if not isinstance(data, list):
        raise GateCannotRun(f"ruff's JSON report is a {type(data).__name__}, not a list")
    findings = []
    for item in data:
        try:
            code = item.get("code") or "invalid-syntax"
            location = item.get("location") or {}
            findings.append(
                Finding(
                    rule=str(code),
                    message=str(item["message"]),
                    severity=Severity.ERROR,
                    path=ctx.relative(str(item["filename"])),
                    line=_as_int(location.get("row")),
                    column=_as_int(location.get("column")),
                )
            )
        except (AttributeError, KeyError, TypeError) as exc:
            raise GateCannotRun(f"unexpected entry in ruff's JSON report: {item!r:.200}") from exc
    return findings


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None



