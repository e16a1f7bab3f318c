"""Validate CycloneDX JSON (spec 1.4, 1.5, 1.6) against the official schema, and check refs.

The schema is chosen by the document's own ``specVersion`` and checked with
cyclonedx-python-lib's ``JsonStrictValidator`` (the schema bundled with the library, so nothing
is fetched). Every schema error is listed with its JSON path. On top of the schema, two
integrity rules the schema cannot express are checked: ``bom-ref`` values are unique, and every
``dependencies[].ref`` / ``dependsOn[]`` names a component that exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cyclonedx.schema import SchemaVersion

from safeship.errors import UsageError

if TYPE_CHECKING:
    from cyclonedx.validation.json import JsonStrictValidator

SUPPORTED_SPEC_VERSIONS = ("1.4", "1.5", "1.6")
MAX_PROBLEMS = 200
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class SbomProblem:
    """One reason a document is not a valid SBOM: where (a JSON path) and what."""

    path: str
    message: str
    kind: str = "schema"
    """``schema`` (the JSON schema), ``integrity`` (refs) or ``format`` (not JSON at all)."""

    def render(self) -> str:
        """``$.components[0].type: 'lib' is not one of ...``."""
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class SbomValidation:
    """The outcome of validating one document."""

    spec_version: str | None
    problems: tuple[SbomProblem, ...]

    @property
    def valid(self) -> bool:
        """True when no problem was found."""
        return not self.problems


@lru_cache(maxsize=len(SUPPORTED_SPEC_VERSIONS))
def _validator(spec_version: str) -> JsonStrictValidator:
    # Imported here, not at module level: jsonschema with its format checkers (which the
    # json-validation extra installs) takes seconds to import, and only validation needs it.
    from cyclonedx.validation.json import JsonStrictValidator

    # Building the validator loads and compiles the schema: once per version per process.
    return JsonStrictValidator(SchemaVersion.from_version(spec_version))


def json_path(parts: Any) -> str:
    """``["components", 0, "type"]`` as ``$.components[0].type``."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _schema_problems(text: str, spec_version: str) -> list[SbomProblem]:
    errors = _validator(spec_version).validate_str(text, all_errors=True)
    problems = []
    for error in errors or ():
        data = error.data
        message = str(getattr(data, "message", data))
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE] + "..."
        problems.append(SbomProblem(json_path(getattr(data, "absolute_path", ())), message))
        if len(problems) >= MAX_PROBLEMS:
            break
    problems.sort(key=lambda p: p.path)
    return problems


def _components(items: object, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            here = f"{path}[{index}]"
            yield here, item
            yield from _components(item.get("components"), f"{here}.components")


def _integrity_problems(doc: dict[str, Any]) -> list[SbomProblem]:
    problems: list[SbomProblem] = []
    refs: dict[str, str] = {}
    holders: list[tuple[str, dict[str, Any]]] = []
    metadata = doc.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("component"), dict):
        holders.append(("$.metadata.component", metadata["component"]))
        holders.extend(_components(metadata["component"].get("components"),
                                   "$.metadata.component.components"))
    holders.extend(_components(doc.get("components"), "$.components"))
    holders.extend(_components(doc.get("services"), "$.services"))
    for path, holder in holders:
        ref = holder.get("bom-ref")
        if isinstance(ref, str):
            if ref in refs:
                problems.append(SbomProblem(f"{path}.bom-ref", f"bom-ref {ref!r} is not unique "
                                            f"(also at {refs[ref]})", "integrity"))
            else:
                refs[ref] = path
    dependencies = doc.get("dependencies")
    if isinstance(dependencies, list):
        for index, entry in enumerate(dependencies):
            if not isinstance(entry, dict):
                continue
            ref = entry.get("ref")
            if isinstance(ref, str) and ref not in refs:
                problems.append(SbomProblem(f"$.dependencies[{index}].ref",
                                            f"{ref!r} names no component", "integrity"))
            for position, target in enumerate(entry.get("dependsOn") or []):
                if isinstance(target, str) and target not in refs:
                    problems.append(SbomProblem(
                        f"$.dependencies[{index}].dependsOn[{position}]",
                        f"{target!r} names no component", "integrity"))
    return problems


def validate_sbom_text(text: str) -> SbomValidation:
    """Validate a CycloneDX JSON document.

    Raises :class:`~safeship.errors.UsageError` when ``specVersion`` names a version this
    validator does not check (anything but 1.4, 1.5 and 1.6). Every other defect is a problem
    of the returned validation.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        return SbomValidation(None, (SbomProblem("$", f"not JSON ({where}: {exc.msg})",
                                                 "format"),))
    if not isinstance(doc, dict):
        return SbomValidation(None, (SbomProblem("$", "a CycloneDX document is a JSON object",
                                                 "format"),))
    version = doc.get("specVersion")
    if not isinstance(version, str):
        return SbomValidation(None, (SbomProblem("$.specVersion",
                                                 "'specVersion' is a required string"),))
    if version not in SUPPORTED_SPEC_VERSIONS:
        raise UsageError(
            f"CycloneDX specVersion {version!r} is not supported here",
            hint=f"supported: {', '.join(SUPPORTED_SPEC_VERSIONS)}",
        )
    problems = _schema_problems(text, version)
    problems.extend(_integrity_problems(doc))
    return SbomValidation(version, tuple(problems[:MAX_PROBLEMS]))
