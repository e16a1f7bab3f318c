"""in-toto Statement v1 with SLSA v1 provenance: what is written and what is read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from safeship.scanners.signing import BuildFacts, Material, Subject
from safeship.scanners.signing.provenance import (
    BUILD_TYPE,
    SLSA_PROVENANCE_V1,
    STATEMENT_TYPE,
    MalformedStatement,
    parse_statement,
    provenance_statement,
    statement_bytes,
)

DIGEST = "a" * 64
FACTS = BuildFacts(
    builder_id="https://ci.example.com/builders/release@v3",
    source_repo="https://git.example.com/shop.git",
    commit="0123456789abcdef0123456789abcdef01234567",
    build_command="make dist",
    materials=(Material("requirements.lock", {"sha256": "b" * 64}),),
    invocation_id="https://ci.example.com/runs/42",
    started_on=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    finished_on=datetime(2026, 1, 2, 3, 9, 5),
)


def test_statement_shape() -> None:
    statement = provenance_statement([Subject("shop.tar.gz", DIGEST)], FACTS)
    assert statement["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == SLSA_PROVENANCE_V1 == "https://slsa.dev/provenance/v1"
    assert statement["subject"] == [{"name": "shop.tar.gz", "digest": {"sha256": DIGEST}}]
    definition = statement["predicate"]["buildDefinition"]
    assert definition["buildType"] == BUILD_TYPE
    assert definition["externalParameters"] == {
        "repository": FACTS.source_repo, "revision": FACTS.commit, "command": "make dist"}
    assert definition["resolvedDependencies"] == [
        {"uri": "git+https://git.example.com/shop.git", "digest": {"gitCommit": FACTS.commit}},
        {"uri": "requirements.lock", "digest": {"sha256": "b" * 64}},
    ]
    run = statement["predicate"]["runDetails"]
    assert run["builder"] == {"id": FACTS.builder_id}
    assert run["metadata"] == {"invocationId": "https://ci.example.com/runs/42",
                               "startedOn": "2026-01-02T03:04:05Z",
                               "finishedOn": "2026-01-02T03:09:05Z"}


def test_round_trip() -> None:
    statement = provenance_statement([Subject("shop.tar.gz", DIGEST)], FACTS)
    facts = parse_statement(statement_bytes(statement))
    assert facts.subjects == (Subject("shop.tar.gz", DIGEST),)
    assert facts.builder_id == FACTS.builder_id
    assert facts.build_type == BUILD_TYPE
    assert facts.source_repo == FACTS.source_repo
    assert facts.commit == FACTS.commit
    assert facts.build_command == "make dist"
    assert facts.digests() == {DIGEST}


def test_statement_needs_valid_inputs() -> None:
    with pytest.raises(ValueError, match="at least one subject"):
        provenance_statement([], FACTS)
    with pytest.raises(ValueError, match="64 lowercase hex"):
        provenance_statement([Subject("x", "ABC")], FACTS)
    empty = BuildFacts("", "repo", "c", "cmd")
    with pytest.raises(ValueError, match="builder id"):
        provenance_statement([Subject("x", DIGEST)], empty)


def _foreign() -> dict[str, Any]:
    # Shaped like a generic SLSA generator's statement: source only in resolvedDependencies.
    return {
        "_type": STATEMENT_TYPE,
        "predicateType": SLSA_PROVENANCE_V1,
        "subject": [{"name": "a", "digest": {"sha512": "f" * 128}},
                    {"name": "b", "digest": {"sha256": DIGEST.upper()}}],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://example.com/generic@v1",
                "externalParameters": {"workflow": {"path": ".ci.yml"}, "command": ["make", "x"]},
                "resolvedDependencies": [
                    {"uri": "git+https://git.example.com/o/r@refs/heads/main",
                     "digest": {"gitCommit": "c" * 40}}],
            },
            "runDetails": {"builder": {"id": "https://example.com/builder@refs/tags/v2"}},
        },
    }


def test_reading_provenance_from_other_builders() -> None:
    facts = parse_statement(json.dumps(_foreign()).encode())
    assert facts.subjects == (Subject("b", DIGEST),)
    assert facts.source_repo == "https://git.example.com/o/r@refs/heads/main"
    assert facts.commit == "c" * 40
    assert facts.build_command == "make x"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(_type="https://in-toto.io/Statement/v0.1"), "_type"),
        (lambda d: d.update(predicateType="https://slsa.dev/provenance/v0.2"), "predicateType"),
        (lambda d: d.update(subject=[]), "no subject"),
        (lambda d: d.update(subject=[{"name": "a", "digest": {"sha512": "f"}}]),
         "no subject of the statement has a sha256"),
        (lambda d: d.update(subject=[{"name": "a", "digest": {"sha256": "xyz"}}]), "64 hex"),
        (lambda d: d["predicate"].pop("runDetails"), "runDetails"),
        (lambda d: d["predicate"]["runDetails"]["builder"].update(id=""), "builder.id"),
        (lambda d: d["predicate"]["buildDefinition"].pop("buildType"), "buildType"),
    ],
)
def test_malformed_statements(change: Any, problem: str) -> None:
    document = _foreign()
    change(document)
    with pytest.raises(MalformedStatement, match=problem):
        parse_statement(json.dumps(document).encode())


def test_not_json() -> None:
    with pytest.raises(MalformedStatement, match="not JSON"):
        parse_statement(b"\xff")
    with pytest.raises(MalformedStatement, match="not a JSON object"):
        parse_statement(b"[]")
