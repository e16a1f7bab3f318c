"""The ignore list: accepted vulnerabilities, each with a reason and an expiry date.

A YAML or TOML file (or the same entries inline in gates.yaml)::

    ignore:
      - id: PYSEC-2023-74          # or any alias: CVE-..., GHSA-...
        package: requests          # optional: only for this package
        reason: "we never send Proxy-Authorization"
        expires: 2025-06-30

``[[ignore]]`` tables say the same in TOML. ``reason`` and ``expires`` are required: an
acceptance without a reason or an end date is refused. An entry applies up to and including its
expiry date; from the next day on the finding counts again and the report says the entry
expired. Dates are compared with a ``today`` the caller passes (tests inject it).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from safeship.errors import ConfigError, ConfigProblem, NotFound, SourceLocation
from safeship.scanners.osv.index import normalize_name

IGNORE_HINT = "each entry needs `id`, `reason` and `expires` (YYYY-MM-DD); `package` is optional"


@dataclass(frozen=True)
class IgnoreEntry:
    """One accepted vulnerability."""

    id: str
    reason: str
    expires: dt.date
    package: str | None = None

    def covers(self, ids: Iterable[str], package: str) -> bool:
        """True when the entry names one of ``ids`` (and ``package``, if it names one)."""
        if self.package is not None and normalize_name(self.package) != normalize_name(package):
            return False
        wanted = self.id.upper()
        return any(i.upper() == wanted for i in ids)

    def active(self, today: dt.date) -> bool:
        """True up to and including the expiry date."""
        return today <= self.expires


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_entries(raw: object, source: str = "ignore") -> tuple[IgnoreEntry, ...]:
    """Validate ignore entries from a parsed file or from gate options.

    ``raw`` is a list of mappings, or a mapping with an ``ignore`` list. Raises
    :class:`~safeship.errors.ConfigError` listing every problem.
    """
    items: Any = raw.get("ignore", []) if isinstance(raw, Mapping) else raw
    if raw is None:
        items = []
    problems: list[ConfigProblem] = []
    where = SourceLocation(source)
    if not isinstance(items, list):
        problems.append(ConfigProblem(where, "ignore", "expected a list of entries"))
        raise ConfigError(problems, hint=IGNORE_HINT)
    entries: list[IgnoreEntry] = []
    for index, item in enumerate(items):
        path = f"ignore[{index}]"
        if not isinstance(item, Mapping):
            problems.append(ConfigProblem(where, path, "expected a mapping"))
            continue
        unknown = sorted(set(item) - {"id", "reason", "expires", "package"})
        problems.extend(ConfigProblem(where, f"{path}.{key}", "unknown key") for key in unknown)
        ident, reason = item.get("id"), item.get("reason")
        expires = _date(item.get("expires"))
        package = item.get("package")
        if not isinstance(ident, str) or not ident.strip():
            problems.append(ConfigProblem(where, f"{path}.id", "missing advisory id"))
        if not isinstance(reason, str) or not reason.strip():
            problems.append(ConfigProblem(where, f"{path}.reason",
                                          "a reason is required for every ignore entry"))
        if expires is None:
            problems.append(ConfigProblem(where, f"{path}.expires",
                                          "an expiry date (YYYY-MM-DD) is required"))
        if package is not None and not isinstance(package, str):
            problems.append(ConfigProblem(where, f"{path}.package", "expected a package name"))
        if isinstance(ident, str) and isinstance(reason, str) and expires is not None and (
            package is None or isinstance(package, str)
        ) and ident.strip() and reason.strip():
            entries.append(IgnoreEntry(ident.strip(), reason.strip(), expires, package))
    if problems:
        raise ConfigError(problems, hint=IGNORE_HINT)
    return tuple(entries)


def load_ignore_file(path: Path, shown: str | None = None) -> tuple[IgnoreEntry, ...]:
    """Read an ignore list from a ``.toml`` file or a YAML file (any other suffix)."""
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"ignore file {shown} not found") from exc
    except OSError as exc:
        raise NotFound(f"cannot read ignore file {shown}: {exc.strerror or exc}") from exc
    try:
        data: Any = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        message = str(exc).strip().split("\n")[0]
        raise ConfigError([ConfigProblem(SourceLocation(shown, line), "", message)],
                          hint=IGNORE_HINT) from exc
    return parse_entries(data, shown)


@dataclass(frozen=True)
class IgnoreCheck:
    """How an ignore list applies to one finding."""

    entry: IgnoreEntry | None
    expired: IgnoreEntry | None


def check(entries: Sequence[IgnoreEntry], ids: Iterable[str], package: str,
          today: dt.date) -> IgnoreCheck:
    """The active entry covering the finding, or the expired one that used to."""
    id_list = list(ids)
    expired = None
    for entry in entries:
        if entry.covers(id_list, package):
            if entry.active(today):
                return IgnoreCheck(entry, None)
            expired = expired or entry
    return IgnoreCheck(None, expired)
