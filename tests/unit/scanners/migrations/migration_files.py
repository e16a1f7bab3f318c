"""Helpers for the migration-checker tests: write a small tree of files, check it, summarise."""

from __future__ import annotations

import textwrap
from pathlib import Path

from safeship.model.enums import RiskLevel
from safeship.scanners.migrations import (
    Level,
    MigrationReport,
    SqlDialect,
    check_migrations,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "migrations"
REPO_MIGRATIONS = Path(__file__).resolve().parents[4] / "src" / "safeship" / "store" / "migrations"


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``root``; return ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def check(root: Path, *paths: str, dialect: SqlDialect = SqlDialect.POSTGRES,
          risk: RiskLevel = RiskLevel.MEDIUM, apply_test: bool = False) -> MigrationReport:
    """Check ``paths`` under ``root`` (default: ``root`` itself); files shown relative to it."""

    def show(path: Path) -> str:
        try:
            return path.relative_to(root).as_posix() or "."
        except ValueError:
            return path.as_posix()

    targets = [root / p for p in paths] or [root]
    return check_migrations(targets, dialect=dialect, show=show, risk=risk,
                            apply_test=apply_test)


def rules(report: MigrationReport, level: Level | None = Level.ERROR) -> list[tuple[str, str, int]]:
    """``(rule, file, line)`` of the findings at ``level`` (all levels when None)."""
    return [(f.rule.value, f.place.file, f.place.line) for f in report.findings
            if level is None or f.level is level]


def rule_ids(report: MigrationReport, level: Level | None = Level.ERROR) -> list[str]:
    """The rule ids of the findings at ``level``, in report order."""
    return [rule for rule, _, _ in rules(report, level)]


def line_of(path: Path, snippet: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line of ``path`` containing ``snippet``."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if snippet in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{snippet!r} not in {path}")
