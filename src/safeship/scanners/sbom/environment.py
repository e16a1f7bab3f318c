"""Read the installed environment through ``importlib.metadata``.

Every distribution on the interpreter's path (or on the paths given) becomes a package with its
installed version, its licence and the graph from ``Requires-Dist``:

* licence: ``License-Expression`` (PEP 639) if present, else a short ``License`` field (a long
  one is the licence *text*, not a name), else the ``License ::`` trove classifiers;
* graph: requirements without an ``extra`` marker whose marker holds on this interpreter, when
  the required distribution is installed. Extras are left out: the metadata does not record
  which extras were installed, and guessing would draw edges that do not exist;
* hashes: only what ``direct_url.json`` records (packages installed from a local or direct URL
  archive); an index install keeps no hash of the file it came from.

When a name is installed twice on the path, the first one (the one Python imports) wins.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement

from safeship.scanners.sbom.inventory import (
    Dependency,
    FileHash,
    Inventory,
    ProjectInfo,
    normalize_name,
)

_MAX_LICENSE_FIELD = 100


def _field(meta: metadata.PackageMetadata, name: str) -> str | None:
    values = meta.get_all(name)
    return str(values[0]) if values else None


def licenses_of(meta: metadata.PackageMetadata) -> tuple[str, ...]:
    """The distribution's licence(s), best source first (see the module docstring)."""
    expression = _field(meta, "License-Expression")
    if expression and expression.strip():
        return (expression.strip(),)
    field = _field(meta, "License")
    if field and field.strip() and "\n" not in field.strip() and (
        len(field.strip()) <= _MAX_LICENSE_FIELD
    ) and field.strip().upper() not in ("UNKNOWN", "NONE"):
        return (field.strip(),)
    classifiers = meta.get_all("Classifier") or []
    names = []
    for classifier in classifiers:
        parts = [p.strip() for p in classifier.split("::")]
        if parts[0] == "License" and len(parts) > 1 and parts[-1] not in ("OSI Approved",):
            names.append(parts[-1])
    return tuple(dict.fromkeys(names))


def _hashes(dist: metadata.Distribution) -> tuple[FileHash, ...]:
    try:
        text = dist.read_text("direct_url.json")
    except OSError:
        return ()
    if not text:
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ()
    info = data.get("archive_info") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        return ()
    found: dict[str, str] = {}
    hashes = info.get("hashes")
    if isinstance(hashes, dict):
        found.update({str(k).lower(): str(v).lower() for k, v in hashes.items()})
    single = info.get("hash")
    if isinstance(single, str) and "=" in single:
        algorithm, _, value = single.partition("=")
        found.setdefault(algorithm.lower(), value.lower())
    return tuple(FileHash(a, v) for a, v in sorted(found.items()))


def _requires(dist: metadata.Distribution, installed: set[str]) -> tuple[str, ...]:
    edges: set[str] = set()
    for text in dist.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        key = normalize_name(requirement.name)
        if key not in installed:
            continue
        marker = requirement.marker
        if marker is not None:
            if "extra" in str(marker):
                continue
            try:
                if not marker.evaluate({"extra": ""}):
                    continue
            except UndefinedEnvironmentName:
                continue
        edges.add(key)
    return tuple(sorted(edges))


def read_environment(paths: Sequence[str] | None = None,
                     project: ProjectInfo | None = None) -> Inventory:
    """The distributions installed on ``paths`` (default: this interpreter's ``sys.path``)."""
    dists: Iterable[metadata.Distribution] = (
        metadata.distributions(path=list(paths)) if paths is not None
        else metadata.distributions()
    )
    chosen: dict[str, metadata.Distribution] = {}
    for dist in dists:
        name = _field(dist.metadata, "Name") if dist.metadata else None
        if not name:
            continue
        chosen.setdefault(normalize_name(name), dist)
    installed = set(chosen)
    dependencies = []
    for key in sorted(chosen):
        dist = chosen[key]
        meta = dist.metadata
        dependencies.append(Dependency(
            name=_field(meta, "Name") or key,
            version=dist.version,
            hashes=_hashes(dist),
            licenses=licenses_of(meta),
            requires=_requires(dist, installed),
        ))
    subject = project or ProjectInfo(
        name="python-environment",
        version=platform.python_version(),
        description=f"packages installed for {sys.executable}",
    )
    return Inventory(project=subject, dependencies=tuple(dependencies),
                     sources=("importlib.metadata",))
