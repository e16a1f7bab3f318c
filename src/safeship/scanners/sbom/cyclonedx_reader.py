"""Read the PyPI packages of a CycloneDX JSON SBOM, as input to the CVE scan.

Every component (nested ones included) whose ``purl`` is ``pkg:pypi/...`` becomes a dependency
with the purl's name and version, placed at the line of the SBOM where its purl is written.
Components of other ecosystems are counted in a note; a PyPI component without a version is
kept without one (the scan reports it as not checkable).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from safeship.scanners.sbom.inventory import (
    Dependency,
    DependencyFileError,
    Inventory,
    ProjectInfo,
)

_PURL = re.compile(r'"purl"\s*:\s*"([^"]+)"')


def _walk(items: object) -> Iterator[dict[str, Any]]:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                yield item
                yield from _walk(item.get("components"))


def read_sbom(path: Path) -> Inventory:
    """The PyPI packages listed in the CycloneDX JSON document at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
    except FileNotFoundError as exc:
        raise DependencyFileError(f"SBOM {path} not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DependencyFileError(f"cannot read SBOM {path}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise DependencyFileError(f"{path} is not a CycloneDX JSON document",
                                  hint="check it with `safeship sbom validate`")
    lines = text.splitlines()
    line_of: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        for value in _PURL.findall(line):
            line_of.setdefault(value, number)
    dependencies: list[Dependency] = []
    others = missing = 0
    for component in _walk(doc.get("components")):
        purl_text = component.get("purl")
        if not isinstance(purl_text, str):
            missing += 1
            continue
        try:
            purl = PackageURL.from_string(purl_text)
        except ValueError:
            missing += 1
            continue
        if purl.type != "pypi":
            others += 1
            continue
        dependencies.append(Dependency(
            name=purl.name, version=purl.version, path=str(path),
            line=line_of.get(purl_text),
        ))
    notes = []
    if others:
        notes.append(f"{path}: {others} non-PyPI component(s) not scanned")
    if missing:
        notes.append(f"{path}: {missing} component(s) without a usable purl not scanned")
    metadata = doc.get("metadata")
    subject = metadata.get("component") if isinstance(metadata, dict) else None
    name = subject.get("name") if isinstance(subject, dict) else None
    version = subject.get("version") if isinstance(subject, dict) else None
    return Inventory(
        project=ProjectInfo(name if isinstance(name, str) else path.stem,
                            version if isinstance(version, str) else None),
        dependencies=tuple(dependencies), sources=(str(path),), notes=tuple(notes),
    )
