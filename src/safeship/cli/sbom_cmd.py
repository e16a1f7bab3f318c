"""``safeship sbom``: write a CycloneDX SBOM; ``safeship sbom validate``: check one.

``safeship sbom [PATH | --environment] [-o sbom.json]`` reads the project's dependency file
(PATH: a folder, default ``.``, or the file itself) or the installed packages, builds CycloneDX
JSON, validates it against the schema and only then writes it (to stdout without ``-o``).

``safeship sbom validate FILE`` checks any CycloneDX 1.4-1.6 JSON document against the schema
of its ``specVersion`` (plus bom-ref integrity) and lists every error.

Exit codes: 0 written / valid; 1 invalid (the errors are listed); 2 bad input (no dependency
file, unreadable file, unsupported specVersion).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from safeship.cli.output import emit, stderr_console
from safeship.errors import ExitCode, NotFound, UsageError
from safeship.scanners.sbom import (
    SbomValidation,
    generate_sbom,
    project_of,
    read_environment,
    read_project,
    sbom_timestamp,
    validate_sbom_text,
)


class _GenerateByDefault(TyperGroup):
    """Runs ``generate`` when the first argument is not a sub-command (``sbom PATH``)."""

    # ``ctx`` is typer's own click Context; typed loosely to stay clear of its private module.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["generate", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_GenerateByDefault,
    help="Write a CycloneDX SBOM (the default command: `sbom [PATH | --environment] -o FILE`) "
    "or validate one (`sbom validate FILE`).",
)


class SpecVersion(StrEnum):
    """CycloneDX versions safeship writes."""

    V1_4 = "1.4"
    V1_5 = "1.5"
    V1_6 = "1.6"


class ValidateFormat(StrEnum):
    """Output formats of ``sbom validate``."""

    TEXT = "text"
    JSON = "json"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@app.command("generate")
def generate_command(
    path: Annotated[Path | None, typer.Argument(
        help="project folder or dependency file (requirements*.txt, pyproject.toml, uv.lock, "
        "poetry.lock, Pipfile.lock); default: the current folder")] = None,
    environment: Annotated[bool, typer.Option(
        "--environment", help="describe the packages installed for this Python instead")]
    = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the SBOM here (default: stdout)", dir_okay=False)] = None,
    spec_version: Annotated[SpecVersion, typer.Option(
        "--spec-version", help="CycloneDX version")] = SpecVersion.V1_6,
) -> None:
    """Generate a CycloneDX JSON SBOM, validate it, and write it."""
    if environment and path is not None:
        raise UsageError("give either PATH or --environment, not both")
    if environment:
        inventory = read_environment(project=project_of(Path.cwd()))
    else:
        target = path or Path()
        if not target.exists():
            raise NotFound(f"{target} does not exist")
        inventory = read_project(target)
    generated = generate_sbom(inventory, timestamp=sbom_timestamp(os.environ, _now),
                              spec_version=spec_version.value)
    console = stderr_console()
    if not generated.validation.valid:
        console.print("error: the generated SBOM does not validate; nothing written",
                      style="bold red", markup=False)
        _print_problems(generated.validation)
        raise typer.Exit(ExitCode.BLOCKED)
    emit(generated.text, output)
    for note in generated.notes:
        console.print(f"note: {note}", markup=False)
    if generated.unversioned:
        names = ", ".join(d.name for d in generated.unversioned[:10])
        more = "" if len(generated.unversioned) <= 10 else ", ..."
        console.print(f"warning: {len(generated.unversioned)} package(s) without an exact "
                      f"version ({names}{more}); use a lock file or pinned requirements",
                      style="yellow", markup=False)
    if output is not None:
        console.print(f"{output} written: CycloneDX {spec_version.value}, "
                      f"{generated.components} components, schema-valid", markup=False)


def _print_problems(validation: SbomValidation) -> None:
    console = stderr_console()
    for problem in validation.problems:
        console.print(f"  {problem.render()}", markup=False, highlight=False)


@app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="a CycloneDX JSON document (1.4, 1.5 or 1.6)",
                                         dir_okay=False)],
    fmt: Annotated[ValidateFormat, typer.Option(
        "--format", "-f", help="text or json", case_sensitive=False)] = ValidateFormat.TEXT,
) -> None:
    """Validate a CycloneDX JSON SBOM against its schema; list every error.

    Exit codes: 0 valid, 1 invalid, 2 unreadable file or unsupported specVersion.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"{file} not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from exc
    validation = validate_sbom_text(text)
    if fmt is ValidateFormat.JSON:
        data: dict[str, Any] = {
            "file": str(file),
            "valid": validation.valid,
            "spec_version": validation.spec_version,
            "errors": [{"path": p.path, "message": p.message, "kind": p.kind}
                       for p in validation.problems],
        }
        emit(json.dumps(data, indent=2), None)
    elif validation.valid:
        emit(f"{file}: valid CycloneDX {validation.spec_version}", None)
    else:
        version = f" {validation.spec_version}" if validation.spec_version else ""
        emit(f"{file}: INVALID CycloneDX{version}: {len(validation.problems)} error(s)\n"
             + "\n".join(f"  {p.render()}" for p in validation.problems), None)
    raise typer.Exit(ExitCode.OK if validation.valid else ExitCode.BLOCKED)

