"""``safeship init``: scaffold ``.pipeline/`` for the current repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeship import api
from safeship.cli.output import stdout_console
from safeship.config.scaffold import scaffold


def init_command(
    project: Annotated[Path, typer.Option("--project", "-C", file_okay=False)] = Path(),
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
) -> None:
    """Write .pipeline/{service,gates,canary-analysis}.yaml adapted to this repository."""
    root = project.resolve()
    facts, written = scaffold(root, force=force)
    api.validate_files(written)
    console = stdout_console()
    console.print(f"detected a {facts.language} project "
                  f"(tests: {facts.test_runner or 'unknown'}, "
                  f"coverage report: {facts.coverage_report or 'none'})", markup=False)
    for path in written:
        console.print(f"wrote {path.relative_to(root)}", markup=False)
    console.print("next: safeship config validate && safeship gates run", markup=False)
