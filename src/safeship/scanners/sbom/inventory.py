"""The dependency inventory every reader produces and the SBOM builder and CVE scan consume.

A :class:`Dependency` is one package: its name as written, its exact version when one is known
(pinned or locked or installed), the hashes and licences known for it, the packages it depends
on (PEP 503 names: the edges of the graph), and where it is declared (file and line). An
:class:`Inventory` is the packages of one project or environment plus the project itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from safeship.errors import UsageError


class DependencyFileError(UsageError):
    """A dependency file (requirements, lock file, pyproject, SBOM) that cannot be read."""


def normalize_name(name: str) -> str:
    """PEP 503 normalised name: lower case, runs of ``-_.`` as one ``-``."""
    return str(canonicalize_name(name))


@dataclass(frozen=True)
class FileHash:
    """A hash of a distribution file: algorithm as pip writes it (``sha256``) and hex digest."""

    algorithm: str
    value: str


@dataclass(frozen=True)
class Distribution:
    """A downloadable file of a package (a wheel or sdist) with its URL and hash."""

    url: str
    hashes: tuple[FileHash, ...] = ()


@dataclass(frozen=True)
class Dependency:
    """One package of the inventory."""

    name: str
    version: str | None = None
    specifier: str = ""
    """The version constraint as written when the version is not exact (``>=2,<3``)."""
    hashes: tuple[FileHash, ...] = ()
    distributions: tuple[Distribution, ...] = ()
    licenses: tuple[str, ...] = ()
    """SPDX expressions or licence names, as the metadata states them."""
    requires: tuple[str, ...] = ()
    """Normalised names of the packages this one depends on (edges of the graph)."""
    path: str | None = None
    line: int | None = None
    direct: bool | None = None
    """True for a dependency the project declares itself; None when the source cannot tell."""

    @property
    def key(self) -> str:
        """The PEP 503 normalised name."""
        return normalize_name(self.name)


@dataclass(frozen=True)
class ProjectInfo:
    """The component the SBOM describes: the project (or the environment) itself."""

    name: str
    version: str | None = None
    description: str | None = None
    licenses: tuple[str, ...] = ()
    kind: str = "application"


@dataclass(frozen=True)
class Inventory:
    """What a reader found: the project, its packages, the files read and any notes."""

    project: ProjectInfo
    dependencies: tuple[Dependency, ...]
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    direct: tuple[str, ...] | None = None
    """Normalised names the project depends on directly; None when the source cannot tell."""

    def by_key(self) -> dict[str, Dependency]:
        """Packages by normalised name (the first one wins on duplicates)."""
        found: dict[str, Dependency] = {}
        for dependency in self.dependencies:
            found.setdefault(dependency.key, dependency)
        return found
