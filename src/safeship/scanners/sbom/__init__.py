"""SBOM generation and validation (the ``sbom`` gate's engine), and the dependency readers.

* :mod:`.inventory`: the packages of a project or environment (shared with the CVE scan);
* readers: :mod:`.requirements_file`, :mod:`.pyproject_file`, :mod:`.lock_files` (uv, Poetry,
  Pipenv), :mod:`.environment` (``importlib.metadata``), :mod:`.cyclonedx_reader` (an SBOM);
  :mod:`.discovery` picks the best file of a project;
* :mod:`.cyclonedx_builder` builds CycloneDX JSON with cyclonedx-python-lib;
* :mod:`.cyclonedx_validator` validates CycloneDX 1.4-1.6 JSON against the schema.
"""

from __future__ import annotations

from safeship.scanners.sbom.cyclonedx_builder import (
    DEFAULT_SPEC_VERSION,
    GeneratedSbom,
    build_bom,
    generate_sbom,
    purl_of,
    render_bom,
    sbom_timestamp,
)
from safeship.scanners.sbom.cyclonedx_reader import read_sbom
from safeship.scanners.sbom.cyclonedx_validator import (
    SUPPORTED_SPEC_VERSIONS,
    SbomProblem,
    SbomValidation,
    validate_sbom_text,
)
from safeship.scanners.sbom.discovery import (
    SEARCH_ORDER,
    find_dependency_file,
    project_of,
    read_dependency_file,
    read_project,
)
from safeship.scanners.sbom.environment import read_environment
from safeship.scanners.sbom.inventory import (
    Dependency,
    DependencyFileError,
    Distribution,
    FileHash,
    Inventory,
    ProjectInfo,
    normalize_name,
)
from safeship.scanners.sbom.requirements_file import read_requirements

__all__ = [
    "DEFAULT_SPEC_VERSION",
    "SEARCH_ORDER",
    "SUPPORTED_SPEC_VERSIONS",
    "Dependency",
    "DependencyFileError",
    "Distribution",
    "FileHash",
    "GeneratedSbom",
    "Inventory",
    "ProjectInfo",
    "SbomProblem",
    "SbomValidation",
    "build_bom",
    "find_dependency_file",
    "generate_sbom",
    "normalize_name",
    "project_of",
    "purl_of",
    "read_dependency_file",
    "read_environment",
    "read_project",
    "read_requirements",
    "read_sbom",
    "render_bom",
    "sbom_timestamp",
    "validate_sbom_text",
]
