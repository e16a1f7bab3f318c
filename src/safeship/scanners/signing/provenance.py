"""in-toto Statement v1 with a SLSA Provenance v1 predicate: write one, read one.

The statement safeship writes for an artifact built by a command::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "dist/app.whl", "digest": {"sha256": "<hex>"}}],
     "predicateType": "https://slsa.dev/provenance/v1",
     "predicate": {
       "buildDefinition": {
         "buildType": BUILD_TYPE,
         "externalParameters": {"repository": "<source repo URI>", "revision": "<commit>",
                                "command": "<build command>"},
         "resolvedDependencies": [
           {"uri": "git+<source repo URI>", "digest": {"gitCommit": "<commit>"}},
           {"uri": "<material>", "digest": {"sha256": "<hex>"}}, ...]},
       "runDetails": {"builder": {"id": "<builder id>"},
                      "metadata": {"invocationId": ..., "startedOn": ..., "finishedOn": ...}}}}

Reading is more liberal, so provenance from other builders (e.g. the SLSA GitHub generators)
can be checked: only ``_type``, ``predicateType``, the subjects and ``runDetails.builder.id`` are
required. The source and command are taken from the fields above when present, else the source
from the first resolved dependency that carries a ``gitCommit`` digest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from safeship.scanners.signing.blob import is_sha256_hex

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://github.com/safeship/safeship/build-types/command/v1"
"""safeship's build type: a build command run on a checkout of a source repository."""


class MalformedStatement(ValueError):
    """A payload that is not an in-toto v1 Statement with a SLSA v1 provenance predicate."""


@dataclass(frozen=True)
class Subject:
    """An artifact a statement speaks about, by name and SHA-256."""

    name: str
    sha256: str


@dataclass(frozen=True)
class Material:
    """An input of the build: a URI and its digests (algorithm -> lowercase hex)."""

    uri: str
    digest: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildFacts:
    """What a builder states about one build."""

    builder_id: str
    source_repo: str
    commit: str
    build_command: str
    materials: tuple[Material, ...] = ()
    build_type: str = BUILD_TYPE
    invocation_id: str | None = None
    started_on: datetime | None = None
    finished_on: datetime | None = None


@dataclass(frozen=True)
class Provenance:
    """The facts read back from a provenance statement."""

    subjects: tuple[Subject, ...]
    builder_id: str
    build_type: str
    source_repo: str | None
    commit: str | None
    build_command: str | None
    materials: tuple[Material, ...]

    def digests(self) -> frozenset[str]:
        """The SHA-256 digests of every subject."""
        return frozenset(subject.sha256 for subject in self.subjects)


def provenance_statement(subjects: Sequence[Subject], facts: BuildFacts) -> dict[str, Any]:
    """The in-toto Statement (a JSON-ready dict) for ``subjects`` built as ``facts`` says."""
    if not subjects:
        raise ValueError("a provenance statement needs at least one subject")
    for subject in subjects:
        if not is_sha256_hex(subject.sha256):
            raise ValueError(f"subject {subject.name!r}: sha256 must be 64 lowercase hex digits")
    for label, value in (("builder id", facts.builder_id), ("source repository",
                          facts.source_repo), ("commit", facts.commit),
                         ("build command", facts.build_command)):
        if not value.strip():
            raise ValueError(f"the {label} of a provenance statement cannot be empty")
    source_uri = facts.source_repo if facts.source_repo.startswith("git+") else (
        f"git+{facts.source_repo}"
    )
    dependencies: list[dict[str, Any]] = [
        {"uri": source_uri, "digest": {"gitCommit": facts.commit}}
    ]
    dependencies += [
        {"uri": material.uri, "digest": dict(material.digest)} for material in facts.materials
    ]
    metadata: dict[str, Any] = {}
    if facts.invocation_id:
        metadata["invocationId"] = facts.invocation_id
    if facts.started_on is not None:
        metadata["startedOn"] = _rfc3339(facts.started_on)
    if facts.finished_on is not None:
        metadata["finishedOn"] = _rfc3339(facts.finished_on)
    run_details: dict[str, Any] = {"builder": {"id": facts.builder_id}}
    if metadata:
        run_details["metadata"] = metadata
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in subjects],
        "predicateType": SLSA_PROVENANCE_V1,
        "predicate": {
            "buildDefinition": {
                "buildType": facts.build_type,
                "externalParameters": {
                    "repository": facts.source_repo,
                    "revision": facts.commit,
                    "command": facts.build_command,
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": run_details,
        },
    }


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """The canonical-enough UTF-8 JSON of a statement (sorted keys, compact), for signing."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")


def parse_statement(payload: bytes) -> Provenance:
    """The facts of an in-toto v1 Statement with a SLSA v1 predicate, strictly checked."""
    try:
        document = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedStatement("the payload is not JSON") from None
    if not isinstance(document, Mapping):
        raise MalformedStatement("the statement is not a JSON object")
    if document.get("_type") != STATEMENT_TYPE:
        raise MalformedStatement(
            f"_type is {document.get('_type')!r}, expected {STATEMENT_TYPE!r}"
        )
    if document.get("predicateType") != SLSA_PROVENANCE_V1:
        raise MalformedStatement(
            f"predicateType is {document.get('predicateType')!r}, expected "
            f"{SLSA_PROVENANCE_V1!r} (SLSA provenance v1)"
        )
    subjects = _subjects(document.get("subject"))
    predicate = _mapping(document.get("predicate"), "predicate")
    definition = _mapping(predicate.get("buildDefinition"), "predicate.buildDefinition")
    build_type = definition.get("buildType")
    if not isinstance(build_type, str) or not build_type:
        raise MalformedStatement("predicate.buildDefinition.buildType is missing")
    run_details = _mapping(predicate.get("runDetails"), "predicate.runDetails")
    builder = _mapping(run_details.get("builder"), "predicate.runDetails.builder")
    builder_id = builder.get("id")
    if not isinstance(builder_id, str) or not builder_id:
        raise MalformedStatement("predicate.runDetails.builder.id is missing")
    external = definition.get("externalParameters")
    external = external if isinstance(external, Mapping) else {}
    materials = _materials(definition.get("resolvedDependencies"))
    source = _text(external.get("repository"))
    commit = _text(external.get("revision"))
    if source is None or commit is None:
        for material in materials:
            if "gitCommit" in material.digest:
                source = source or material.uri.removeprefix("git+")
                commit = commit or material.digest["gitCommit"]
                break
    command = external.get("command")
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        command = " ".join(command)
    return Provenance(
        subjects=subjects,
        builder_id=builder_id,
        build_type=build_type,
        source_repo=source,
        commit=commit,
        build_command=command if isinstance(command, str) else None,
        materials=materials,
    )


def _subjects(value: object) -> tuple[Subject, ...]:
    if not isinstance(value, list) or not value:
        raise MalformedStatement("the statement has no subject")
    subjects = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise MalformedStatement("a subject is not an object")
        digest = entry.get("digest")
        if not isinstance(digest, Mapping):
            raise MalformedStatement("a subject has no digest")
        sha256 = digest.get("sha256")
        if sha256 is None:
            continue  # a subject named by another algorithm only cannot match our digest
        if not isinstance(sha256, str) or not is_sha256_hex(sha256.lower()):
            raise MalformedStatement("a subject's sha256 digest is not 64 hex digits")
        name = entry.get("name")
        subjects.append(Subject(name if isinstance(name, str) else "", sha256.lower()))
    if not subjects:
        raise MalformedStatement("no subject of the statement has a sha256 digest")
    return tuple(subjects)


def _materials(value: object) -> tuple[Material, ...]:
    if not isinstance(value, list):
        return ()
    materials = []
    for entry in value:
        if not isinstance(entry, Mapping):
            continue
        uri = entry.get("uri") or entry.get("name") or ""
        digest = entry.get("digest")
        clean = {
            str(k): str(v) for k, v in (digest.items() if isinstance(digest, Mapping) else ())
            if isinstance(v, str)
        }
        materials.append(Material(str(uri), clean))
    return tuple(materials)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedStatement(f"{where} is missing or not an object")
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _rfc3339(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
