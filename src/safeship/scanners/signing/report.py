"""A :class:`VerificationResult` as a JSON document or a SARIF 2.1.0 log.

JSON (schema ``safeship.signature-verification/v1``)::

    {"schema": ..., "artifact": str, "sha256": str, "verified": bool,
     "signer": str | null, "signer_key_id": str | null,
     "checks": [{"check": str, "ok": bool, "failure": str | null, "message": str}],
     "provenance": {"builder_id", "build_type", "source_repo", "commit", "build_command",
                    "subjects": [{"name", "sha256"}], "materials": [{"uri", "digest"}]} | null}

SARIF: one result per failed check, rule id ``signature/<failure code>``, located at the artifact.
Only public facts appear: digests, key ids and file names, never key material.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

import safeship
from safeship.scanners.signing.verify import Failure, VerificationResult

SCHEMA_ID = "safeship.signature-verification/v1"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_INFORMATION_URI = "https://github.com/safeship/safeship"

_FAILURE_TEXT = {
    Failure.UNSIGNED: "The artifact has no signature",
    Failure.MALFORMED_SIGNATURE: "The signature is not base64 of a DER ECDSA signature",
    Failure.BAD_SIGNATURE: "The signature does not verify against a trusted key",
    Failure.NO_TRUSTED_KEYS: "The trust policy names no trusted key",
    Failure.PROVENANCE_MISSING: "Provenance is required and missing",
    Failure.PROVENANCE_MALFORMED: "The provenance is not a SLSA v1 statement in a DSSE envelope",
    Failure.PROVENANCE_UNTRUSTED: "The provenance is not signed by a trusted key",
    Failure.SUBJECT_MISMATCH: "The provenance does not name the artifact's digest",
    Failure.BUILDER_MISMATCH: "The artifact was not built by the required builder",
}


def failure_description(failure: Failure) -> str:
    """A short description of a failure code, for rule lists."""
    return _FAILURE_TEXT[failure]


def verification_document(result: VerificationResult) -> dict[str, Any]:
    """The JSON-ready dictionary of ``result``."""
    facts = result.provenance
    return {
        "schema": SCHEMA_ID,
        "artifact": result.artifact,
        "sha256": result.sha256,
        "verified": result.ok,
        "signer": result.signer,
        "signer_key_id": result.signer_key_id,
        "checks": [
            {
                "check": check.name.value,
                "ok": check.ok,
                "failure": check.failure.value if check.failure else None,
                "message": check.message,
            }
            for check in result.checks
        ],
        "provenance": None if facts is None else {
            "builder_id": facts.builder_id,
            "build_type": facts.build_type,
            "source_repo": facts.source_repo,
            "commit": facts.commit,
            "build_command": facts.build_command,
            "subjects": [{"name": s.name, "sha256": s.sha256} for s in facts.subjects],
            "materials": [{"uri": m.uri, "digest": dict(m.digest)} for m in facts.materials],
        },
    }


def render_verification_json(result: VerificationResult) -> str:
    """``result`` as indented JSON text ending in a newline."""
    return json.dumps(verification_document(result), indent=2, ensure_ascii=False) + "\n"


def render_verification_sarif(result: VerificationResult) -> str:
    """``result`` as a SARIF 2.1.0 log: one error result per failed check."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for check in result.failures:
        failure = check.failure or Failure.BAD_SIGNATURE
        rule_id = f"signature/{failure.value}"
        if rule_id not in index:
            index[rule_id] = len(rules)
            rules.append({
                "id": rule_id,
                "name": failure.value,
                "shortDescription": {"text": failure_description(failure)},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["safeship", "signature", "supply-chain"]},
            })
        material = "\x1f".join((rule_id, result.artifact, check.message)).encode()
        results.append({
            "ruleId": rule_id,
            "ruleIndex": index[rule_id],
            "level": "error",
            "message": {"text": check.message},
            "locations": [{"physicalLocation": {"artifactLocation": {
                "uri": quote(result.artifact.replace("\\", "/"), safe="/-._~"),
            }}}],
            "partialFingerprints": {
                "safeshipFindingHash/v1": hashlib.sha256(material).hexdigest()
            },
        })
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "safeship-verify",
                "version": safeship.__version__,
                "informationUri": TOOL_INFORMATION_URI,
                "rules": rules,
            }},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
            "properties": {"artifact": result.artifact, "sha256": result.sha256,
                           "verified": result.ok},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
