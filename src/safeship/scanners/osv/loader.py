"""Read an OSV advisory database: a folder of ``.json``/``.yaml`` records, or a ``.zip`` of them.

Both layouts people have offline are accepted:

* an OSV ecosystem export (``PyPI/all.zip``: one JSON record per member), and
* the PyPA advisory-database (a checkout or its zip: ``vulns/<package>/PYSEC-*.yaml``).

Records are read one at a time (streaming: one parsed file in memory at once) and reduced to
:class:`~safeship.scanners.osv.records.Advisory`. Withdrawn records are skipped and counted.
A file that cannot be parsed is skipped and reported in :attr:`LoadStats.problems`; a database
with no usable record at all raises :class:`DatabaseUnavailable` (the scan must not pass on an
empty database).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from safeship.errors import DependencyUnavailable
from safeship.scanners.osv.records import Advisory, RecordError, parse_record

RECORD_SUFFIXES = (".json", ".yaml", ".yml")
MAX_RECORD_BYTES = 16 * 1024 * 1024
"""A single advisory larger than this is refused (a guard against zip bombs)."""
_MAX_PROBLEMS_KEPT = 50

try:  # The C loader is ~10x faster on the PyPA database's 2,600 YAML files.
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader

GET_A_DATABASE = (
    "run `safeship cve db update` on a machine with network (it downloads the OSV PyPI "
    "export), or point `--db`/`db:` at an OSV folder or zip (e.g. a copy of the PyPA "
    "advisory-database)"
)


class DatabaseUnavailable(DependencyUnavailable):
    """The advisory database is missing, unreadable or empty."""


@dataclass
class LoadStats:
    """What loading a database found, for reports and for the user's confidence."""

    files: int = 0
    records: int = 0
    withdrawn: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    newest_modified: str | None = None

    def problem(self, text: str) -> None:
        """Count one unreadable file and keep its message (the first few only)."""
        self.problem_count += 1
        if len(self.problems) < _MAX_PROBLEMS_KEPT:
            self.problems.append(text)


@dataclass(frozen=True)
class OsvDatabase:
    """The usable (not withdrawn) advisories of a database and how loading went."""

    path: Path
    advisories: tuple[Advisory, ...]
    stats: LoadStats


def _decode(name: str, data: bytes) -> list[Mapping[str, Any]]:
    if name.lower().endswith(".json"):
        loaded: Any = json.loads(data)
    else:
        loaded = yaml.load(data, Loader=_YamlLoader)  # noqa: S506 - a safe loader
    if isinstance(loaded, Mapping) and isinstance(loaded.get("vulns"), list):
        loaded = loaded["vulns"]
    if isinstance(loaded, list):
        return [item for item in loaded if isinstance(item, Mapping)]
    if isinstance(loaded, Mapping):
        return [loaded]
    raise RecordError("the file holds neither a record nor a list of records")


def _is_record_name(name: str) -> bool:
    lower = name.lower()
    base = PurePosixPath(lower).name
    return lower.endswith(RECORD_SUFFIXES) and not base.startswith(".")


def iter_files(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, bytes)`` of every record file in a folder or zip, in name order."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            name = file.relative_to(path).as_posix()
            if _is_record_name(name):
                yield name, file.read_bytes()
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatabaseUnavailable(
            f"OSV database {path} is neither a folder nor a readable zip: {exc}",
            hint=GET_A_DATABASE,
        ) from exc
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not _is_record_name(info.filename):
                continue
            if info.file_size > MAX_RECORD_BYTES:
                yield info.filename, b""
                continue
            yield info.filename, archive.read(info)


def iter_advisories(path: Path, stats: LoadStats | None = None) -> Iterator[Advisory]:
    """Yield the database's advisories one at a time, skipping withdrawn and broken ones."""
    stats = stats if stats is not None else LoadStats()
    for name, data in iter_files(path):
        stats.files += 1
        if not data:
            stats.problem(f"{name}: empty, or larger than {MAX_RECORD_BYTES} bytes")
            continue
        try:
            raws = _decode(name, data)
        except (ValueError, yaml.YAMLError, RecordError) as exc:
            stats.problem(f"{name}: not a readable OSV record ({_first_line(exc)})")
            continue
        for raw in raws:
            try:
                advisory = parse_record(raw, name)
            except RecordError as exc:
                stats.problem(f"{name}: {exc}")
                continue
            if advisory.withdrawn:
                stats.withdrawn += 1
                continue
            stats.records += 1
            if advisory.modified and (
                stats.newest_modified is None or advisory.modified > stats.newest_modified
            ):
                stats.newest_modified = advisory.modified
            yield advisory


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n")[0][:200]


def load_database(path: Path) -> OsvDatabase:
    """Load every usable advisory of the database at ``path`` (a folder or a zip).

    Raises :class:`DatabaseUnavailable` when the path does not exist or holds no usable record.
    """
    if not path.exists():
        raise DatabaseUnavailable(f"no OSV database at {path}", hint=GET_A_DATABASE)
    stats = LoadStats()
    try:
        advisories = tuple(iter_advisories(path, stats))
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot read OSV database {path}: {exc.strerror or exc}", hint=GET_A_DATABASE
        ) from exc
    if stats.records == 0 and stats.withdrawn == 0:
        detail = f"; first problem: {stats.problems[0]}" if stats.problems else ""
        raise DatabaseUnavailable(
            f"OSV database {path} holds no usable advisory ({stats.files} record files"
            f"{detail})",
            hint=GET_A_DATABASE,
        )
    return OsvDatabase(path, advisories, stats)
