"""The ``sbom`` gate: write a CycloneDX software bill of materials, validated before it is written.

The guide's template::

    - type: sbom
      format: cyclonedx
      output: sbom.json

Packages come from the project (``source: project``, the default: the first of ``uv.lock``,
``poetry.lock``, ``Pipfile.lock``, ``requirements.txt``, ``pyproject.toml``, or the file named
by ``input:``) or from the installed environment (``source: environment``). The document is
CycloneDX JSON (``spec_version``, default 1.6) with package URLs, hashes where known, licences,
the dependency graph and metadata (tool, timestamp, the project). ``SOURCE_DATE_EPOCH`` fixes the
timestamp for reproducible builds.

Verdicts:

* PASSED: the SBOM is valid against the schema and written, every package has a version;
* FAILED: the generated document does not validate (nothing is written; the schema errors are
  the findings), or some packages have no version (the SBOM is written, but incomplete: each
  unversioned package is a finding at the line that declares it);
* ERROR (raises): no dependency file, an unreadable one, or the output cannot be written.

The guide's fail action for this gate is ``log``: a failure is recorded, not blocking.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from safeship.errors import GateCannotRun, UsageError
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck
from safeship.scanners.sbom import (
    SUPPORTED_SPEC_VERSIONS,
    Inventory,
    generate_sbom,
    project_of,
    read_environment,
    read_project,
    sbom_timestamp,
)

SpecVersion = Literal["1.4", "1.5", "1.6"]
_MAX_FINDINGS = 100


class SbomOptions(GateOptions):
    """Options of ``type: sbom``."""

    format: Literal["cyclonedx"] = Field(
        default="cyclonedx", description="SBOM format; CycloneDX JSON is the one supported.")
    output: str = Field(
        default="sbom.json", description="Where to write the SBOM, relative to the project root.")
    source: Literal["project", "environment"] = Field(
        default="project",
        description="'project': the project's dependency files; 'environment': the packages "
        "installed for the Python that runs safeship.")
    input: str | None = Field(
        default=None,
        description="The dependency file to read (default: the first of uv.lock, poetry.lock, "
        "Pipfile.lock, requirements.txt, pyproject.toml in the project).")
    spec_version: SpecVersion = Field(
        default="1.6", description=f"CycloneDX version: {', '.join(SUPPORTED_SPEC_VERSIONS)}.")

    @field_validator("spec_version", mode="before", json_schema_input_type=str | float)
    @classmethod
    def _version_text(cls, value: object) -> object:
        # YAML reads `spec_version: 1.6` as a number.
        return f"{value:.1f}" if isinstance(value, float) else value


def read_inventory(ctx: GateContext, source: str, input_file: str | None) -> Inventory:
    """The packages the gate describes; raises ``GateCannotRun`` when there is no usable file."""
    try:
        if source == "environment":
            return read_environment(project=project_of(ctx.project_root))
        target = ctx.resolve(input_file) if input_file else ctx.project_root
        return read_project(target)
    except UsageError as exc:
        raise GateCannotRun(exc.message, hint=exc.hint) from exc


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SbomGate(Gate[SbomOptions]):
    """Generates, validates and writes the project's CycloneDX SBOM."""

    type_name: ClassVar[str] = "sbom"
    default_action: ClassVar[FailAction] = FailAction.LOG
    checks: ClassVar[str] = "a valid CycloneDX SBOM (purls, hashes, licences, dependency graph)"
    options_model: ClassVar[type[GateOptions]] = SbomOptions

    def __init__(self, options: SbomOptions, *, now: Callable[[], dt.datetime] = _now) -> None:
        super().__init__(options)
        self._now = now

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Generate, validate, write; see the module docstring."""
        options = self.options
        inventory = read_inventory(ctx, options.source, options.input)
        timestamp = sbom_timestamp({**os.environ, **ctx.env}, self._now)
        generated = generate_sbom(inventory, timestamp=timestamp,
                                  spec_version=options.spec_version)
        output = ctx.resolve(options.output)
        shown = ctx.relative(output)
        sources = [ctx.relative(s) if s != "importlib.metadata" else s
                   for s in inventory.sources]
        metrics: dict[str, Any] = {
            "output": shown,
            "spec_version": options.spec_version,
            "components": generated.components,
            "sources": sources,
            "unversioned": len(generated.unversioned),
        }
        if not generated.validation.valid:
            problems = generated.validation.problems
            findings = tuple(
                Finding("sbom/schema", p.render(), Severity.ERROR, shown)
                for p in problems[:_MAX_FINDINGS]
            )
            return GateCheck(
                Verdict.FAILED,
                f"the generated SBOM does not validate against CycloneDX {options.spec_version} "
                f"({len(problems)} problem(s)); {shown} was not written",
                findings, metrics,
            )
        _write(output, generated.text, shown)
        summary = (f"{shown} written: CycloneDX {options.spec_version}, "
                   f"{generated.components} components from {', '.join(sources)}, "
                   "schema-valid")
        if generated.unversioned:
            findings = tuple(
                Finding("sbom/unversioned",
                        f"{d.name} has no exact version ({d.specifier or 'unconstrained'}); "
                        "lock or pin it so the SBOM says what ships",
                        Severity.WARNING,
                        ctx.relative(d.path) if d.path else None, d.line)
                for d in generated.unversioned[:_MAX_FINDINGS]
            )
            return GateCheck(
                Verdict.FAILED,
                f"{summary}, but {len(generated.unversioned)} package(s) have no version "
                "(incomplete SBOM: use a lock file or pinned requirements)",
                findings, metrics,
            )
        return GateCheck(Verdict.PASSED, summary, (), metrics)


def _write(path: Path, text: str, shown: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(text, encoding="utf-8")
        temp.replace(path)
    except OSError as exc:
        raise GateCannotRun(f"cannot write the SBOM to {shown}: {exc.strerror or exc}") from exc
