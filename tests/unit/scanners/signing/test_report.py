"""JSON and SARIF renderings of a verification: complete, valid, and free of key material."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from safeship.scanners.signing import TrustPolicy, attest_provenance, sign_artifact, subject_of
from safeship.scanners.signing import verify_artifact as verify
from safeship.scanners.signing.report import (
    render_verification_json,
    render_verification_sarif,
)

from .conftest import KeyPair
from .test_verify import FACTS

SCHEMA = Path(__file__).resolve().parents[3] / "data" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_json_of_a_verified_artifact(artifact: Path, ci_key: KeyPair) -> None:
    artifact.with_name(artifact.name + ".sig").write_text(sign_artifact(artifact, ci_key.key))
    provenance = artifact.with_name("p.json")
    provenance.write_text(attest_provenance([subject_of(artifact)], FACTS, ci_key.key).dumps())
    result = verify(artifact, TrustPolicy.from_key_files([ci_key.public_path]),
                    provenance=provenance)
    document = json.loads(render_verification_json(result))
    assert document["schema"] == "safeship.signature-verification/v1"
    assert document["verified"] is True
    assert document["signer_key_id"] == ci_key.key_id
    assert [c["check"] for c in document["checks"]] == [
        "signature", "provenance_signature", "provenance_subject"]
    assert document["provenance"]["builder_id"] == FACTS.builder_id
    assert document["provenance"]["commit"] == FACTS.commit


def test_sarif_of_a_failed_verification(artifact: Path, ci_key: KeyPair, rogue_key: KeyPair,
                                        validator: jsonschema.Draft7Validator) -> None:
    artifact.with_name(artifact.name + ".sig").write_text(sign_artifact(artifact, rogue_key.key))
    result = verify(artifact, TrustPolicy.from_key_files([ci_key.public_path],
                                                         required_builder="https://ci"))
    log = json.loads(render_verification_sarif(result))
    validator.validate(log)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["signature/bad_signature",
                                              "signature/provenance_missing"]
    assert all(r["level"] == "error" for r in results)
    assert log["runs"][0]["properties"]["verified"] is False
    text = render_verification_sarif(result) + render_verification_json(result)
    assert "PRIVATE KEY" not in text
    assert "BEGIN PUBLIC KEY" not in text


def test_sarif_of_a_verified_artifact_is_empty(artifact: Path, ci_key: KeyPair,
                                               validator: jsonschema.Draft7Validator) -> None:
    artifact.with_name(artifact.name + ".sig").write_text(sign_artifact(artifact, ci_key.key))
    result = verify(artifact, TrustPolicy.from_key_files([ci_key.public_path]))
    log = json.loads(render_verification_sarif(result))
    validator.validate(log)
    assert log["runs"][0]["results"] == []
