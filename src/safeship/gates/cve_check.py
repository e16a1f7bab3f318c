"""The ``cve_check`` gate: known vulnerabilities in dependencies, matched offline against OSV.

The guide's template::

    - type: cve_check
      critical_severity: block
      high_severity: warn

Dependencies come from ``requirements:`` (one file or a list), ``sbom:`` (a CycloneDX JSON
file), ``environment: true`` (the installed packages), or else the project's own dependency
file (``uv.lock``, ``poetry.lock``, ``Pipfile.lock``, ``requirements.txt``, ``pyproject.toml``:
the first found). They are matched against a local OSV database (``db:``, default
``.safeship/osv/PyPI-all.zip``, written by ``safeship cve db update``): PEP 503 names, PEP 440
ranges, aliases merged into one finding (see :mod:`safeship.scanners.osv`).

Each finding's severity (CVSS v3.x computed from the vector, else the database's label, else
unknown) gets the decision its ``*_severity`` option names: ``block``, ``warn`` or ``pass``.
Defaults: critical blocks, high warns, medium and low pass, unknown warns (most PyPA records
have no vector, and an unrated vulnerability must not pass silently). A dependency without an
exact version cannot be checked; ``unpinned`` decides it (default warn), and a scan that could
check nothing at all cannot run. Ignore entries (``ignore:``, a file or a list) need a reason
and an expiry date; after it the finding counts again.

Verdicts: FAILED when any finding blocks; PASSED otherwise, with warnings as findings. A
missing or unreadable database, or no dependency to check, raises: the engine records ERROR,
which never passes. Findings are placed at the file and line that declare the dependency.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from safeship.errors import ConfigError, GateCannotRun, SafeshipError, UsageError
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck
from safeship.scanners.osv import (
    DEFAULT_DB_PATH,
    GET_A_DATABASE,
    AdvisoryIndex,
    DatabaseUnavailable,
    Decision,
    IgnoreEntry,
    OsvDatabase,
    ScanReport,
    ScanTarget,
    SeverityPolicy,
    load_database,
    load_ignore_file,
    parse_entries,
    scan,
)
from safeship.scanners.sbom import (
    Inventory,
    project_of,
    read_environment,
    read_project,
    read_requirements,
    read_sbom,
)

Action = Literal["block", "warn", "pass"]
_LEVEL = {Decision.BLOCK: Severity.ERROR, Decision.WARN: Severity.WARNING,
          Decision.PASS: Severity.NOTE, Decision.IGNORED: Severity.NOTE}


class CveCheckOptions(GateOptions):
    """Options of ``type: cve_check``."""

    critical_severity: Action = Field(default="block", description="CVSS >= 9.0.")
    high_severity: Action = Field(default="warn", description="CVSS 7.0-8.9.")
    medium_severity: Action = Field(default="pass", description="CVSS 4.0-6.9.")
    low_severity: Action = Field(default="pass", description="CVSS 0.1-3.9.")
    unknown_severity: Action = Field(
        default="warn",
        description="No CVSS vector and no database label (most PyPA records).")
    unpinned: Action = Field(
        default="warn", description="A dependency without an exact version (not checkable).")
    db: str | None = Field(
        default=None,
        description=f"OSV database: a folder of JSON/YAML records or a zip (default "
        f"{DEFAULT_DB_PATH.as_posix()}, written by `safeship cve db update`).")
    requirements: str | list[str] | None = Field(
        default=None, description="Requirements file(s) to scan, relative to the project root.")
    sbom: str | None = Field(default=None, description="A CycloneDX JSON SBOM to scan.")
    environment: bool = Field(
        default=False, description="Scan the packages installed for the Python running safeship.")
    ignore: str | list[dict[str, Any]] | None = Field(
        default=None,
        description="Accepted vulnerabilities: a YAML/TOML file, or a list of {id, reason, "
        "expires, package?}.")
    max_db_age_days: int | None = Field(
        default=None, ge=1,
        description="Refuse (ERROR) a database whose newest record is older than this.")

    @field_validator("ignore")
    @classmethod
    def _check_ignore(cls, value: object) -> object:
        if isinstance(value, list):
            try:
                parse_entries(value, "gates.yaml")
            except ConfigError as exc:
                raise ValueError("; ".join(p.render() for p in exc.problems)) from exc
        return value

    def policy(self) -> SeverityPolicy:
        """The severity policy these options describe."""
        return SeverityPolicy(
            critical=Decision(self.critical_severity), high=Decision(self.high_severity),
            medium=Decision(self.medium_severity), low=Decision(self.low_severity),
            unknown=Decision(self.unknown_severity),
        )


@dataclass(frozen=True)
class CveScan:
    """A finished scan: the report and the inputs it used."""

    report: ScanReport
    database: OsvDatabase
    sources: tuple[str, ...]
    notes: tuple[str, ...]


_CACHE_LOCK = threading.Lock()
_CACHE: dict[tuple[str, int, int], tuple[OsvDatabase, AdvisoryIndex]] = {}


def open_database(path: Path) -> tuple[OsvDatabase, AdvisoryIndex]:
    """Load and index the database at ``path``; the last one is kept while it is unchanged."""
    if not path.exists():
        raise DatabaseUnavailable(f"no OSV database at {path}", hint=GET_A_DATABASE)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            database = load_database(path)
            cached = (database, AdvisoryIndex(database.advisories))
            _CACHE.clear()
            _CACHE[key] = cached
        return cached


def read_inventories(root: Path, *, requirements: Sequence[Path] = (), sbom: Path | None = None,
                     environment: bool = False) -> list[Inventory]:
    """The dependency inventories to scan; the project's own file when nothing is named.

    Raises :class:`~safeship.errors.UsageError` (a ``DependencyFileError``) for bad input.
    """
    inventories = [read_requirements(path) for path in requirements]
    if sbom is not None:
        inventories.append(read_sbom(sbom))
    if environment:
        inventories.append(read_environment(project=project_of(root)))
    if not inventories:
        inventories.append(read_project(root))
    return inventories


def scan_targets(inventories: Sequence[Inventory],
                 relative: Callable[[str], str]) -> list[ScanTarget]:
    """Every package of the inventories as a scan target, placed relative to the project."""
    return [
        ScanTarget(d.name, d.version, relative(d.path) if d.path else None, d.line)
        for inventory in inventories
        for d in inventory.dependencies
    ]


def load_ignores(root: Path, ignore: str | list[dict[str, Any]] | None,
                 relative: Callable[[str], str]) -> tuple[IgnoreEntry, ...]:
    """The ignore entries from a file (path relative to ``root``) or an inline list."""
    if ignore is None:
        return ()
    if isinstance(ignore, list):
        return parse_entries(ignore, "gates.yaml")
    path = Path(ignore) if Path(ignore).is_absolute() else root / ignore
    return load_ignore_file(path, relative(str(path)))


def run_scan(root: Path, *, db: Path, inventories: Sequence[Inventory],
             policy: SeverityPolicy, ignores: Sequence[IgnoreEntry], today: dt.date,
             relative: Callable[[str], str], max_db_age_days: int | None = None) -> CveScan:
    """Match the inventories against the database at ``db`` and decide."""
    database, index = open_database(db)
    _check_age(database, max_db_age_days, today)
    targets = scan_targets(inventories, relative)
    report = scan(targets, index, policy=policy, ignores=ignores, today=today)
    stats = database.stats
    report = replace(report, database={
        "path": relative(str(db)), "advisories": stats.records, "withdrawn": stats.withdrawn,
        "packages": index.package_count, "unreadable": stats.problem_count,
        "newest_modified": stats.newest_modified,
    })
    notes = [n for inventory in inventories for n in inventory.notes]
    if stats.problem_count:
        notes.append(f"{stats.problem_count} database file(s) could not be read, e.g. "
                     f"{stats.problems[0]}")
    notes.extend(f"ignore entry for {e.id} matched nothing" for e in report.unused_ignores)
    sources = tuple(relative(s) if s != "importlib.metadata" else s
                    for inventory in inventories for s in inventory.sources)
    return CveScan(report, database, sources, tuple(dict.fromkeys(notes)))


def _check_age(database: OsvDatabase, max_days: int | None, today: dt.date) -> None:
    if max_days is None:
        return
    newest = database.stats.newest_modified
    try:
        stamp = dt.datetime.fromisoformat(newest.replace("Z", "+00:00")) if newest else None
    except ValueError:
        stamp = None
    if stamp is None or (today - stamp.date()).days > max_days:
        when = stamp.date().isoformat() if stamp else "unknown"
        raise DatabaseUnavailable(
            f"OSV database {database.path} is older than {max_days} days (newest record: "
            f"{when})", hint="refresh it with `safeship cve db update`")


def decide(scan_result: CveScan, unpinned: Decision) -> Decision:
    """The overall decision: the report's, made worse by unpinned dependencies per policy."""
    decision = scan_result.report.decision
    if scan_result.report.unpinned and unpinned is Decision.BLOCK:
        return Decision.BLOCK
    if scan_result.report.unpinned and unpinned is Decision.WARN and decision is Decision.PASS:
        return Decision.WARN
    return decision


def findings_of(scan_result: CveScan, unpinned: Decision) -> tuple[Finding, ...]:
    """The report as gate findings: one per vulnerability, one per unpinned dependency."""
    findings = []
    for item in scan_result.report.findings:
        score = f" {item.severity.score:.1f}" if item.severity.score is not None else ""
        text = f"{item.package} {item.version}: {item.id} ({item.severity.level.value}{score})"
        if item.aliases:
            text += f" aka {', '.join(item.aliases)}"
        if item.summary:
            text += f": {item.summary}"
        text += (f"; fixed in {', '.join(item.fixed_in)}" if item.fixed_in
                 else "; no fixed version known")
        if item.ignore is not None:
            text += (f" [ignored until {item.ignore.expires.isoformat()}: "
                     f"{item.ignore.reason}]")
        elif item.expired_ignore is not None:
            text += f" [ignore entry expired on {item.expired_ignore.expires.isoformat()}]"
        text += f" -> {item.decision.value}"
        findings.append(Finding(item.id, text, _LEVEL[item.decision], item.path, item.line))
    level = _LEVEL[unpinned]
    findings.extend(
        Finding("cve_check/unpinned",
                f"{target.name} has no exact version: not checked for vulnerabilities "
                "(pin it or use a lock file) -> "
                f"{unpinned.value}", level, target.path, target.line)
        for target in scan_result.report.unpinned
    )
    return tuple(findings)


def summary_of(scan_result: CveScan, decision: Decision) -> str:
    """One line: what was checked, what was found, what it means."""
    report = scan_result.report
    counts = [f"{report.count(d)} {d.value}" for d in
              (Decision.BLOCK, Decision.WARN, Decision.PASS, Decision.IGNORED) if report.count(d)]
    found = (f"{len(report.findings)} vulnerabilit{'y' if len(report.findings) == 1 else 'ies'}"
             f" ({', '.join(counts)})" if report.findings else "no known vulnerability")
    text = (f"{found} in {report.scanned} pinned dependencies, against "
            f"{scan_result.database.stats.records} advisories; decision: {decision.value}")
    if report.unpinned:
        text += f"; {len(report.unpinned)} unpinned dependencies not checked"
    return text


def _today() -> dt.date:
    return dt.date.today()


class CveCheckGate(Gate[CveCheckOptions]):
    """Matches the project's dependencies against a local OSV database."""

    type_name: ClassVar[str] = "cve_check"
    default_action: ClassVar[FailAction] = FailAction.FAIL
    checks: ClassVar[str] = "no known vulnerability in dependencies above the policy (OSV)"
    options_model: ClassVar[type[GateOptions]] = CveCheckOptions

    def __init__(self, options: CveCheckOptions, *,
                 today: Callable[[], dt.date] = _today) -> None:
        super().__init__(options)
        self._today = today

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Scan and decide; see the module docstring."""
        options = self.options
        root = ctx.project_root
        requirements = options.requirements
        files = [requirements] if isinstance(requirements, str) else list(requirements or [])
        try:
            inventories = read_inventories(
                root, requirements=[ctx.resolve(f) for f in files],
                sbom=ctx.resolve(options.sbom) if options.sbom else None,
                environment=options.environment)
            ignores = load_ignores(root, options.ignore, ctx.relative)
        except UsageError as exc:
            raise GateCannotRun(exc.message, hint=exc.hint) from exc
        except ConfigError as exc:
            raise GateCannotRun("; ".join(exc.diagnostics())) from exc
        db = ctx.resolve(options.db) if options.db else root / DEFAULT_DB_PATH
        try:
            result = run_scan(root, db=db, inventories=inventories, policy=options.policy(),
                              ignores=ignores, today=self._today(), relative=ctx.relative,
                              max_db_age_days=options.max_db_age_days)
        except SafeshipError as exc:
            raise GateCannotRun(exc.message, hint=exc.hint) from exc
        report = result.report
        if report.scanned == 0 and report.unpinned:
            raise GateCannotRun(
                f"none of the {len(report.unpinned)} dependencies has an exact version, so "
                "none could be checked",
                hint="scan a lock file or pinned requirements (`requirements:`), an SBOM "
                "(`sbom:`) or the installed packages (`environment: true`)")
        unpinned = Decision(options.unpinned)
        decision = decide(result, unpinned)
        metrics: dict[str, Any] = {
            **report.to_json(),
            "decision": decision.value,
            "sources": list(result.sources),
            "notes": [*report.notes, *result.notes],
        }
        verdict = Verdict.FAILED if decision is Decision.BLOCK else Verdict.PASSED
        return GateCheck(verdict, summary_of(result, decision), findings_of(result, unpinned),
                         metrics)
