"""The advisory index: PEP 503 normalised package name -> the advisories that name it.

Built once per database (a dictionary pass over the advisories); each package's entries are
compiled into PEP 440 intervals the first time that package is looked up, and kept. A scan is
then one dictionary lookup plus a few interval tests per dependency, whatever the size of the
database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from safeship.scanners.osv.ranges import CompiledAffected, compile_affected
from safeship.scanners.osv.records import Advisory, AffectedPackage

PYPI = "PyPI"


def normalize_name(name: str) -> str:
    """PEP 503: lower case, runs of ``-``, ``_`` and ``.`` become one ``-``."""
    return str(canonicalize_name(name))


def parse_version(text: str) -> Version | None:
    """``text`` as a PEP 440 version, or None when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


@dataclass(frozen=True, slots=True)
class Match:
    """An advisory that affects one package version, and the fixes that would end it."""

    advisory: Advisory
    fixed_in: tuple[Version, ...]


class AdvisoryIndex:
    """Advisories of one ecosystem grouped by normalised package name."""

    def __init__(self, advisories: Iterable[Advisory], ecosystem: str = PYPI) -> None:
        self.ecosystem = ecosystem
        self._pending: dict[str, list[tuple[Advisory, AffectedPackage]]] = {}
        self._compiled: dict[str, tuple[CompiledAffected, ...]] = {}
        self.advisory_count = 0
        self.other_ecosystems = 0
        for advisory in advisories:
            self.advisory_count += 1
            for affected in advisory.affected:
                if affected.ecosystem.split(":", 1)[0] != ecosystem:
                    self.other_ecosystems += 1
                    continue
                if not affected.name:
                    continue
                key = normalize_name(affected.name)
                self._pending.setdefault(key, []).append((advisory, affected))

    @property
    def package_count(self) -> int:
        """How many distinct packages have at least one advisory."""
        return len(self._pending)

    def entries(self, name: str) -> tuple[CompiledAffected, ...]:
        """The compiled entries naming ``name`` (compiled on first use, then cached)."""
        key = normalize_name(name)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = tuple(compile_affected(adv, aff) for adv, aff in self._pending.get(key, ()))
            self._compiled[key] = compiled
        return compiled

    def compile_all(self) -> None:
        """Compile every package now (otherwise each is compiled at its first lookup)."""
        for key in self._pending:
            self.entries(key)

    def match(self, name: str, version: str) -> list[Match]:
        """Advisories affecting ``name`` at ``version``; several entries of one are merged."""
        parsed = parse_version(version)
        found: dict[str, tuple[Advisory, set[Version]]] = {}
        for entry in self.entries(name):
            if entry.affects(parsed, version):
                slot = found.setdefault(entry.advisory.id, (entry.advisory, set()))
                slot[1].update(entry.fixed_after(parsed))
        return [Match(advisory, tuple(sorted(fixes))) for advisory, fixes in found.values()]
