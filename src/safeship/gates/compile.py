"""The ``compile`` gate: the code compiles (the guide's "Compilation", fail build).

By default every ``*.py`` file under ``paths`` (minus ``exclude``/``extend_exclude``) is compiled
in memory with ``compile(source, path, "exec", dont_inherit=True)`` by the interpreter running
safeship: nothing is imported, executed or written (no ``.pyc``). Syntax errors, bad encodings
and null bytes become findings with file, line and column; compiler warnings (such as invalid
escape sequences) become warnings that do not fail the gate. With ``command:`` the gate runs
that shell line (your build) instead and lets its exit code decide.

It fails closed: a missing path or a tree with no Python file raises, and the engine records
ERROR.
"""

from __future__ import annotations

import os
import platform
import warnings
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import ClassVar

from pydantic import Field, ValidationInfo, field_validator

from safeship.errors import GateCannotRun
from safeship.gates.interface import Gate, GateContext, GateOptions, command_check
from safeship.model.enums import FailAction, Severity
from safeship.model.results import Finding, GateCheck

DEFAULT_EXCLUDE = (
    ".venv",
    "venv",
    ".git",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".tox",
    ".nox",
    ".eggs",
)
_MAX_WARNINGS = 200


class CompileOptions(GateOptions):
    """Options of ``type: compile``."""

    command: str | None = Field(
        default=None,
        description=(
            "A build command to run in the project root instead of the built-in Python check; "
            "exit code 0 passes, anything else fails with the first lines of its output."
        ),
    )
    paths: list[str] = Field(
        default_factory=lambda: ["."],
        min_length=1,
        description="Files or directories to compile, relative to the project root.",
    )
    exclude: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDE),
        description=(
            "Glob patterns of files and directories to skip. A pattern without '/' matches any "
            "single path component (e.g. '.venv'); one with '/' matches the path relative to the "
            f"project root (e.g. 'src/generated/*'). Default: {', '.join(DEFAULT_EXCLUDE)}. "
            "Setting it replaces the default; use extend_exclude to add to it."
        ),
    )
    extend_exclude: list[str] = Field(
        default_factory=list,
        description="More glob patterns to skip, on top of exclude.",
    )

    @field_validator("command")
    @classmethod
    def _command_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("command must not be empty")
        return value

    @field_validator("paths", "exclude", "extend_exclude")
    @classmethod
    def _for_builtin_check(cls, value: list[str], info: ValidationInfo) -> list[str]:
        # `command` is declared first, so a clash is reported on the field that clashes.
        if info.data.get("command") is not None:
            raise ValueError(
                f"{info.field_name} is for the built-in Python check only; with command:, "
                "put it in the command"
            )
        if any(not entry.strip() for entry in value):
            raise ValueError("must not contain empty entries")
        return value


class CompileGate(Gate[CompileOptions]):
    """Compiles every Python file in memory (or runs your build) and fails on any error."""

    type_name: ClassVar[str] = "compile"
    default_action: ClassVar[FailAction] = FailAction.FAIL
    checks: ClassVar[str] = "code compiles (Python syntax, or your build command)"
    options_model: ClassVar[type[GateOptions]] = CompileOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Compile the project; see the module docstring."""
        if self.options.command is not None:
            return command_check(ctx, self.options.command, "build-command")
        files = sorted(self._python_files(ctx))
        if not files:
            raise GateCannotRun(
                f"no Python files to compile under {', '.join(self.options.paths)} in "
                f"{ctx.project_root}",
                hint="point `paths:` at your sources, check `exclude:`, or use `command:` "
                "for a non-Python build",
            )
        errors: list[Finding] = []
        notes: list[Finding] = []
        for path in files:
            shown = ctx.relative(path)
            error, file_warnings = compile_file(path, shown)
            if error is not None:
                errors.append(error)
            notes.extend(file_warnings)
        interpreter = f"Python {platform.python_version()}"
        count = len(files)
        files_text = f"{count} Python file{'s' if count != 1 else ''}"
        kept_notes = tuple(notes[:_MAX_WARNINGS])
        metrics = {"files": count, "errors": len(errors), "warnings": len(notes)}
        if errors:
            return GateCheck.failed(
                f"{len(errors)} of {files_text} do not compile under {interpreter}",
                (*errors, *kept_notes),
                **metrics,
            )
        check = GateCheck.passed(f"{files_text} compile under {interpreter}", **metrics)
        if notes:
            summary = f"{check.summary} ({len(notes)} compiler warning{'s' * (len(notes) != 1)})"
            check = GateCheck(check.verdict, summary, kept_notes, check.metrics)
        return check

    def _python_files(self, ctx: GateContext) -> Iterator[Path]:
        globs = [*self.options.exclude, *self.options.extend_exclude]
        root = ctx.project_root
        seen: set[Path] = set()
        for entry in self.options.paths:
            base = ctx.resolve(entry)
            if not base.exists():
                raise GateCannotRun(
                    f"compile path '{entry}' does not exist under {root}",
                    hint="fix `paths:` of the compile gate",
                )
            if base.is_file():
                # A file named explicitly is compiled whatever its suffix or the excludes say.
                candidates: Iterator[Path] = iter([base])
            else:
                candidates = _walk(base, root, globs)
            for candidate in candidates:
                key = candidate.resolve()
                if key not in seen:
                    seen.add(key)
                    yield candidate


def _parts(path: Path, root: Path) -> tuple[str, ...]:
    try:
        return path.relative_to(root).parts
    except ValueError:
        return path.parts


def is_excluded(parts: tuple[str, ...], globs: list[str], *, below: int = 0) -> bool:
    """Whether a path matches an exclude glob.

    ``parts`` are the path's components relative to the project root. The first ``below``
    components belong to a directory the user listed in ``paths:``, which is never excluded
    itself: only what lies below it is matched.
    """
    for glob in globs:
        pattern = glob.strip("/")
        if "/" in pattern:
            prefixes = ("/".join(parts[:end]) for end in range(below + 1, len(parts) + 1))
            if any(fnmatchcase(prefix, pattern) for prefix in prefixes):
                return True
        elif any(fnmatchcase(part, pattern) for part in parts[below:]):
            return True
    return False


def _walk(base: Path, root: Path, globs: list[str]) -> Iterator[Path]:
    below = len(_parts(base, root))
    for directory, dirnames, filenames in os.walk(base):
        here = Path(directory)
        # Prune in place so excluded trees (.venv, node_modules) are never even listed.
        dirnames[:] = sorted(
            d for d in dirnames if not is_excluded(_parts(here / d, root), globs, below=below)
        )
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = here / name
                if not is_excluded(_parts(path, root), globs, below=below):
                    yield path


def compile_file(path: Path, shown: str) -> tuple[Finding | None, list[Finding]]:
    """Compile one file in memory; return its error (if any) and its compiler warnings."""
    try:
        source = path.read_bytes()
    except OSError as exc:
        return Finding("read-error", f"cannot read the file: {exc.strerror or exc}", path=shown), []
    filename = str(path)
    # catch_warnings is process-wide; keep only warnings about this file so that a warning
    # raised elsewhere meanwhile is not reported against it.
    error: Finding | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            compile(source, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            error = _syntax_finding(exc, shown)
        except ValueError as exc:  # null bytes on some versions, decoding problems
            error = Finding("syntax-error", f"cannot compile: {exc}", path=shown)
        except (RecursionError, MemoryError):
            error = Finding(
                "too-complex", "too deeply nested for the compiler to handle", path=shown
            )
    notes = [
        Finding(
            "compile-warning",
            f"{item.category.__name__}: {item.message}",
            Severity.WARNING,
            shown,
            item.lineno or None,
        )
        for item in caught
        if item.filename == filename
    ]
    return error, notes


def _syntax_finding(exc: SyntaxError, shown: str) -> Finding:
    message = exc.msg or str(exc)
    rule = "syntax-error"
    if message.startswith("(unicode error)") or "encoding" in message or "codec" in message:
        rule = "encoding-error"
    elif isinstance(exc, IndentationError):
        rule = "indentation-error"
    line = exc.lineno if exc.lineno and exc.lineno > 0 else None
    column = exc.offset if line is not None and exc.offset and exc.offset > 0 else None
    return Finding(rule, message, Severity.ERROR, shown, line, column)





