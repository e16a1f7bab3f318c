"""``safeship config validate`` and ``safeship config schema``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from safeship import api
from safeship.cli.output import emit, stdout_console
from safeship.config.kinds import FileKind
from safeship.config.schema import file_schema
from safeship.errors import ConfigError
from safeship.registry import GateOptionsResolver

app = typer.Typer(help="Validate safeship's files and print their JSON Schemas.",
                  no_args_is_help=True)


class OutputFormat(StrEnum):
    """Formats of ``config validate``."""

    TEXT = "text"
    JSON = "json"


@app.command("validate")
def validate_command(
    files: Annotated[list[Path] | None, typer.Argument(
        help="files to check (default: every YAML file in .pipeline/)")] = None,
    project: Annotated[Path, typer.Option("--project", "-C", file_okay=False)] = Path(),
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
) -> None:
    """Check files; each one's kind (gates, canary, service) is detected from its content.

    Problems are listed as file:line:column: field: message. Exit 0 when all are valid, 2 if not.
    """
    paths = list(files) if files else api.pipeline_files(project.resolve())
    try:
        results = api.validate_files(paths)
    except ConfigError as exc:
        if fmt is not OutputFormat.JSON:
            raise
        emit(json.dumps({"valid": False, "problems": [
            {"file": p.location.path, "line": p.location.line, "column": p.location.column,
             "field": p.field_path, "message": p.message, "suggestion": p.suggestion}
            for p in exc.problems
        ]}, indent=2), None)
        raise typer.Exit(exc.exit_code) from None
    if fmt is OutputFormat.JSON:
        emit(json.dumps({"valid": True, "files": [
            {"path": str(r.path), "kind": r.kind.value, "summary": r.summary} for r in results
        ]}, indent=2), None)
        return
    console = stdout_console()
    for result in results:
        console.print(f"ok  {result.path} ({result.kind.value}: {result.summary})", markup=False)


@app.command("schema")
def schema_command(
    kind: Annotated[FileKind, typer.Argument(help="gates | canary | service")],
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False)] = None,
) -> None:
    """Print the JSON Schema of a file kind, for editor validation."""
    emit(json.dumps(file_schema(kind, GateOptionsResolver()), indent=2), output)
