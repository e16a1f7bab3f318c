"""verify_artifact: every way an artifact can fail to be deployable, with a clear reason."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from safeship.errors import NotFound
from safeship.scanners.signing import (
    BuildFacts,
    CheckName,
    Failure,
    SigningInputError,
    Subject,
    TrustPolicy,
    attest_provenance,
    sign_artifact,
    subject_of,
    verify_artifact,
)
from safeship.scanners.signing.dsse import IN_TOTO_PAYLOAD_TYPE, pae, sign_envelope
from safeship.scanners.signing.policy import TrustedKey, builder_matches
from safeship.scanners.signing.provenance import provenance_statement, statement_bytes

from .conftest import KeyPair

BUILDER = "https://ci.example.com/builders/release"
FACTS = BuildFacts(f"{BUILDER}@v3", "https://git.example.com/shop.git", "c" * 40, "make dist")


def sign(artifact: Path, key: KeyPair) -> Path:
    path = artifact.with_name(artifact.name + ".sig")
    path.write_text(sign_artifact(artifact, key.key) + "\n")
    return path


def attest(artifact: Path, key: KeyPair, facts: BuildFacts = FACTS,
           subject: Subject | None = None) -> Path:
    path = artifact.with_name(artifact.name + ".intoto.json")
    envelope = attest_provenance([subject or subject_of(artifact)], facts, key.key)
    path.write_text(envelope.dumps())
    return path


def policy(*keys: KeyPair, builder: str | None = None) -> TrustPolicy:
    return TrustPolicy.from_key_files([k.public_path for k in keys], required_builder=builder)


def failures(result: object) -> list[Failure | None]:
    return [check.failure for check in result.failures]  # type: ignore[attr-defined]


def test_signed_artifact_verifies(artifact: Path, ci_key: KeyPair) -> None:
    sign(artifact, ci_key)
    result = verify_artifact(artifact, policy(ci_key))
    assert result.ok
    assert result.reasons() == ()
    assert result.signer_key_id == ci_key.key_id
    assert result.signer == f"ci.pub (key {ci_key.key_id[:16]})"
    assert [c.name for c in result.checks] == [CheckName.SIGNATURE]
    assert "is signed by trusted ci.pub" in result.summary()


def test_signed_artifact_with_provenance_and_required_builder(
    artifact: Path, ci_key: KeyPair
) -> None:
    sign(artifact, ci_key)
    provenance = attest(artifact, ci_key)
    result = verify_artifact(artifact, policy(ci_key, builder=BUILDER), provenance=provenance)
    assert result.ok, result.reasons()
    assert [c.name for c in result.checks] == [
        CheckName.SIGNATURE, CheckName.PROVENANCE_SIGNATURE, CheckName.PROVENANCE_SUBJECT,
        CheckName.BUILDER]
    assert result.provenance is not None
    assert result.provenance.builder_id == f"{BUILDER}@v3"
    assert result.provenance.commit == "c" * 40
    assert "built by" in result.summary()


def test_any_trusted_key_may_sign(artifact: Path, ci_key: KeyPair, rogue_key: KeyPair) -> None:
    sign(artifact, ci_key)
    assert verify_artifact(artifact, policy(rogue_key, ci_key)).signer_key_id == ci_key.key_id


def test_tampered_artifact_fails(artifact: Path, ci_key: KeyPair) -> None:
    sign(artifact, ci_key)
    provenance = attest(artifact, ci_key)
    artifact.write_bytes(artifact.read_bytes() + b"backdoor")
    result = verify_artifact(artifact, policy(ci_key), provenance=provenance)
    assert not result.ok
    assert failures(result) == [Failure.BAD_SIGNATURE, Failure.SUBJECT_MISMATCH]
    assert "changed after it was signed" in result.reasons()[0]
    assert "changed after it was built" in result.reasons()[1]


def test_wrong_key_fails(artifact: Path, ci_key: KeyPair, rogue_key: KeyPair) -> None:
    sign(artifact, ci_key)
    result = verify_artifact(artifact, policy(rogue_key))
    assert failures(result) == [Failure.BAD_SIGNATURE]
    assert "does not verify against any trusted key (rogue.pub" in result.reasons()[0]


def test_untrusted_signer_fails(artifact: Path, ci_key: KeyPair, rogue_key: KeyPair) -> None:
    sign(artifact, rogue_key)
    provenance = attest(artifact, rogue_key)
    result = verify_artifact(artifact, policy(ci_key), provenance=provenance)
    assert failures(result) == [Failure.BAD_SIGNATURE, Failure.PROVENANCE_UNTRUSTED]
    assert f"names key {rogue_key.key_id[:16]}, which is not trusted" in result.reasons()[1]
    assert result.provenance is None  # claims of an untrusted envelope are not reported


def test_wrong_builder_fails(artifact: Path, ci_key: KeyPair) -> None:
    sign(artifact, ci_key)
    other = BuildFacts("https://laptop.example.com/someone", FACTS.source_repo, FACTS.commit,
                       FACTS.build_command)
    provenance = attest(artifact, ci_key, other)
    result = verify_artifact(artifact, policy(ci_key, builder=BUILDER), provenance=provenance)
    assert failures(result) == [Failure.BUILDER_MISMATCH]
    assert result.reasons() == (
        f"built by 'https://laptop.example.com/someone', but the policy requires '{BUILDER}'",)


def test_subject_digest_mismatch_fails(artifact: Path, ci_key: KeyPair) -> None:
    sign(artifact, ci_key)
    provenance = attest(artifact, ci_key, subject=Subject("other.tar.gz", "0" * 64))
    result = verify_artifact(artifact, policy(ci_key), provenance=provenance)
    assert failures(result) == [Failure.SUBJECT_MISMATCH]
    assert "is not a subject of the signed provenance (other.tar.gz sha256:000000000000" in (
        result.reasons()[0])


def test_malformed_signature_fails(artifact: Path, ci_key: KeyPair) -> None:
    artifact.with_name(artifact.name + ".sig").write_text("this is not a signature\n")
    result = verify_artifact(artifact, policy(ci_key))
    assert failures(result) == [Failure.MALFORMED_SIGNATURE]
    assert "malformed signature" in result.reasons()[0]
    artifact.with_name(artifact.name + ".sig").write_text(base64.b64encode(b"junk").decode())
    result = verify_artifact(artifact, policy(ci_key))
    assert failures(result) == [Failure.MALFORMED_SIGNATURE]
    assert "DER ECDSA" in result.reasons()[0]


def test_unsigned_artifact_fails(artifact: Path, ci_key: KeyPair) -> None:
    result = verify_artifact(artifact, policy(ci_key))
    assert failures(result) == [Failure.UNSIGNED]
    assert result.reasons()[0].startswith("the artifact is unsigned: no signature file")


def test_explicit_paths_that_do_not_exist_are_errors(artifact: Path, ci_key: KeyPair) -> None:
    with pytest.raises(NotFound, match="signature file"):
        verify_artifact(artifact, policy(ci_key), signature=artifact.with_name("x.sig"))
    sign(artifact, ci_key)
    with pytest.raises(NotFound, match="provenance file"):
        verify_artifact(artifact, policy(ci_key), provenance=artifact.with_name("x.json"))
    with pytest.raises(NotFound, match="artifact"):
        verify_artifact(artifact.with_name("missing"), policy(ci_key))


def test_builder_requirement_needs_provenance(artifact: Path, ci_key: KeyPair) -> None:
    sign(artifact, ci_key)
    result = verify_artifact(artifact, policy(ci_key, builder=BUILDER))
    assert failures(result) == [Failure.PROVENANCE_MISSING]
    assert BUILDER in result.reasons()[0]
    required = TrustPolicy(policy(ci_key).trusted_keys, require_provenance=True)
    assert failures(verify_artifact(artifact, required)) == [Failure.PROVENANCE_MISSING]


def test_malformed_provenance(artifact: Path, ci_key: KeyPair, tmp_path: Path) -> None:
    sign(artifact, ci_key)
    bad = tmp_path / "bad.json"
    cases = {
        "not json": ("not a DSSE envelope: the file is not JSON", "w"),
        "\xff": ("not UTF-8", "b"),
    }
    for content, (message, mode) in cases.items():
        if mode == "b":
            bad.write_bytes(b"\xff\xfe")
        else:
            bad.write_text(content)
        result = verify_artifact(artifact, policy(ci_key), provenance=bad)
        assert failures(result) == [Failure.PROVENANCE_MALFORMED]
        assert message in result.reasons()[0]

    other_type = sign_envelope(b"{}", "application/json", ci_key.key)
    bad.write_text(other_type.dumps())
    result = verify_artifact(artifact, policy(ci_key), provenance=bad)
    assert "payloadType 'application/json'" in result.reasons()[0]

    not_slsa = sign_envelope(json.dumps({"_type": "x"}).encode(), IN_TOTO_PAYLOAD_TYPE,
                             ci_key.key)
    bad.write_text(not_slsa.dumps())
    result = verify_artifact(artifact, policy(ci_key), provenance=bad)
    assert failures(result) == [Failure.PROVENANCE_MALFORMED]
    assert "is not SLSA v1 provenance: _type" in result.reasons()[0]


def test_cosign_shaped_envelope_is_accepted(artifact: Path, ci_key: KeyPair,
                                            tmp_path: Path) -> None:
    # cosign attest-blob: empty keyid, ECDSA-SHA256 over the PAE, standard base64.
    sign(artifact, ci_key)
    payload = statement_bytes(provenance_statement([subject_of(artifact)], FACTS))
    sig = ci_key.key.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    path = tmp_path / "cosign.intoto.jsonl"
    path.write_text(json.dumps({
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }) + "\n")
    result = verify_artifact(artifact, policy(ci_key, builder=BUILDER), provenance=path)
    assert result.ok, result.reasons()


def test_empty_policy_fails_closed(artifact: Path, ci_key: KeyPair) -> None:
    sign(artifact, ci_key)
    result = verify_artifact(artifact, TrustPolicy(()))
    assert not result.ok
    assert failures(result) == [Failure.NO_TRUSTED_KEYS]
    with pytest.raises(SigningInputError, match="names no trusted key"):
        TrustPolicy.from_key_files([])


def test_result_is_never_ok_without_a_signature_check(ci_key: KeyPair) -> None:
    from safeship.scanners.signing import VerificationResult

    assert not VerificationResult("a", "0" * 64, ()).ok
    assert "no signature was checked" in VerificationResult("a", "0" * 64, ()).summary()


def test_builder_matching() -> None:
    assert builder_matches(BUILDER, BUILDER)
    assert builder_matches(BUILDER, f"{BUILDER}@refs/tags/v2")
    assert not builder_matches(f"{BUILDER}@v1", f"{BUILDER}@v2")
    assert not builder_matches(BUILDER, f"{BUILDER}-evil")
    assert not builder_matches(BUILDER, "https://ci.example.com/builders")


def test_trusted_key_lookup(ci_key: KeyPair) -> None:
    trust = policy(ci_key)
    assert isinstance(trust.find(ci_key.key_id), TrustedKey)
    assert trust.find("0" * 64) is None
    assert not trust.needs_provenance
    blank = TrustPolicy.from_key_files([ci_key.public_path], required_builder="  ")
    assert blank.required_builder is None
