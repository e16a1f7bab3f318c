"""Build a CycloneDX SBOM from an :class:`~safeship.scanners.sbom.inventory.Inventory`.

The document holds, per package: name, version, a PyPI package URL (``pkg:pypi/<name>@<ver>``,
also the ``bom-ref``), hashes where the source gives them (requirements ``--hash``, poetry.lock
files, ``direct_url.json``), distribution files with their hashes (uv.lock), and licences
(SPDX id, SPDX expression, or a name). The ``dependencies`` section is the graph: the project
depends on its direct dependencies (all packages when the source cannot tell which are direct),
each package on what it requires. ``metadata`` names the tool (safeship), the timestamp and the
project itself.

Output is deterministic for the same inventory and timestamp: the serial number is derived from
both, and components and refs are sorted. :func:`generate_sbom` validates the text against the
schema before handing it back; callers write only a valid document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.exception.factory import InvalidLicenseExpressionException
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import License
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

import safeship
from safeship.scanners.sbom.cyclonedx_validator import SbomValidation, validate_sbom_text
from safeship.scanners.sbom.inventory import Dependency, FileHash, Inventory, ProjectInfo

TOOL_NAME = "safeship"
DEFAULT_SPEC_VERSION = "1.6"
_HASH_ALGORITHMS: dict[str, tuple[HashAlgorithm, int]] = {
    "md5": (HashAlgorithm.MD5, 32),
    "sha1": (HashAlgorithm.SHA_1, 40),
    "sha256": (HashAlgorithm.SHA_256, 64),
    "sha384": (HashAlgorithm.SHA_384, 96),
    "sha512": (HashAlgorithm.SHA_512, 128),
    "sha3_256": (HashAlgorithm.SHA3_256, 64),
    "sha3_384": (HashAlgorithm.SHA3_384, 96),
    "sha3_512": (HashAlgorithm.SHA3_512, 128),
}
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class GeneratedSbom:
    """A generated document, its validation, and what it holds."""

    text: str
    validation: SbomValidation
    components: int
    unversioned: tuple[Dependency, ...]
    notes: tuple[str, ...] = ()


def purl_of(name: str, version: str | None) -> PackageURL:
    """The PyPI package URL of a package (name PEP 503-normalised, as the purl spec asks)."""
    return PackageURL(type="pypi", name=re.sub(r"[-_.]+", "-", name).lower(), version=version)


def _hash(value: FileHash) -> HashType | None:
    known = _HASH_ALGORITHMS.get(value.algorithm.lower().replace("-", "_"))
    if known is None:
        return None
    algorithm, length = known
    digest = value.value.lower()
    if len(digest) != length or not _HEX.match(digest):
        return None
    return HashType(alg=algorithm, content=digest)


def _hashes(values: Iterable[FileHash]) -> list[HashType]:
    found = {}
    for value in values:
        converted = _hash(value)
        if converted is not None:
            found[(converted.alg, converted.content)] = converted
    return list(found.values())


def _licenses(texts: tuple[str, ...]) -> list[License]:
    factory = LicenseFactory()
    if len(texts) == 1:
        try:
            return [factory.make_from_string(texts[0])]
        except InvalidLicenseExpressionException:  # pragma: no cover - falls back to a name
            return [factory.make_with_name(texts[0])]
    licences: list[License] = []
    for text in texts:
        # Several entries must each be one licence: the schema allows an expression only alone.
        try:
            licences.append(factory.make_with_id(text))
        except Exception:  # any unknown SPDX id: keep it as a name
            licences.append(factory.make_with_name(text))
    return licences


def _component(dependency: Dependency) -> Component:
    purl = purl_of(dependency.name, dependency.version)
    references = []
    for dist in dependency.distributions:
        hashes = _hashes(dist.hashes)
        try:
            references.append(ExternalReference(
                type=ExternalReferenceType.DISTRIBUTION, url=XsUri(dist.url), hashes=hashes))
        except Exception:  # noqa: S112 - a URL the model refuses is left out, not fatal
            continue
    properties = []
    if dependency.version is None and dependency.specifier:
        properties.append(Property(name="safeship:specifier", value=dependency.specifier))
    return Component(
        type=ComponentType.LIBRARY,
        name=dependency.name,
        version=dependency.version,
        purl=purl,
        bom_ref=purl.to_string(),
        hashes=_hashes(dependency.hashes),
        licenses=_licenses(dependency.licenses),
        external_references=references,
        properties=properties,
    )


def _subject(project: ProjectInfo, taken: set[str]) -> Component:
    # Not a purl: the project need not be a PyPI package (or the subject is an environment).
    ref = f"{project.name}@{project.version}" if project.version else project.name
    while ref in taken:
        ref = f"{ref}#project"
    kind = ComponentType.APPLICATION if project.kind == "application" else ComponentType.LIBRARY
    return Component(
        type=kind,
        name=project.name,
        version=project.version,
        description=project.description,
        bom_ref=ref,
        licenses=_licenses(project.licenses),
    )


def _serial(inventory: Inventory, timestamp: dt.datetime) -> uuid.UUID:
    material = [timestamp.isoformat(), inventory.project.name, inventory.project.version or ""]
    material += sorted(f"{d.key}=={d.version}" for d in inventory.dependencies)
    digest = hashlib.sha256("\n".join(material).encode()).hexdigest()
    return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:safeship:sbom:{digest}")


def build_bom(inventory: Inventory, timestamp: dt.datetime) -> Bom:
    """The CycloneDX model of ``inventory`` (see the module docstring)."""
    bom = Bom(serial_number=_serial(inventory, timestamp))
    bom.metadata.timestamp = timestamp
    bom.metadata.tools.components.add(Component(
        type=ComponentType.APPLICATION, name=TOOL_NAME, version=safeship.__version__,
    ))
    components: dict[str, Component] = {}
    chosen: dict[str, Dependency] = {}
    for dependency in inventory.dependencies:
        if dependency.key in chosen:
            continue
        chosen[dependency.key] = dependency
        components[dependency.key] = _component(dependency)
    subject = _subject(inventory.project, {str(c.bom_ref.value) for c in components.values()})
    bom.metadata.component = subject
    for component in components.values():
        bom.components.add(component)
    required = {r for d in chosen.values() for r in d.requires}
    if inventory.direct is not None:
        direct_keys = [k for k in inventory.direct if k in components]
    else:
        # Unknown: the project depends on every package nothing else requires (all, if flat).
        direct_keys = [k for k in components if k not in required] or list(components)
    bom.register_dependency(subject, [components[k] for k in sorted(direct_keys)])
    for key, dependency in chosen.items():
        targets = [components[r] for r in dependency.requires if r in components and r != key]
        bom.register_dependency(components[key], targets)
    return bom


def render_bom(bom: Bom, spec_version: str = DEFAULT_SPEC_VERSION) -> str:
    """The BOM as indented CycloneDX JSON of ``spec_version``."""
    outputter = make_outputter(bom, OutputFormat.JSON, SchemaVersion.from_version(spec_version))
    text = outputter.output_as_string(indent=2)
    return text if text.endswith("\n") else text + "\n"


def sbom_timestamp(env: Mapping[str, str], now: Callable[[], dt.datetime]) -> dt.datetime:
    """The SBOM's timestamp: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now.

    Whole seconds, in UTC.
    """
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return now().astimezone(dt.UTC).replace(microsecond=0)


def generate_sbom(inventory: Inventory, *, timestamp: dt.datetime,
                  spec_version: str = DEFAULT_SPEC_VERSION) -> GeneratedSbom:
    """Build, render and validate the SBOM of ``inventory``."""
    bom = build_bom(inventory, timestamp)
    text = render_bom(bom, spec_version)
    unversioned = tuple(d for d in inventory.dependencies if not d.version)
    return GeneratedSbom(
        text=text,
        validation=validate_sbom_text(text),
        components=len(bom.components),
        unversioned=unversioned,
        notes=inventory.notes,
    )
