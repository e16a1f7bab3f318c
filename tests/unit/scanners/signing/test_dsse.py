"""DSSE envelopes: the PAE encoding, signing, parsing and verification."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from safeship.scanners.signing.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    Envelope,
    EnvelopeSignature,
    MalformedEnvelope,
    pae,
    parse_envelope,
    parse_envelope_text,
    sign_envelope,
    verify_envelope,
)

from .conftest import KeyPair


def test_pae_layout() -> None:
    # Lengths in ASCII decimal bytes, single spaces, nothing after the body.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("", b"") == b"DSSEv1 0  0 "


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"


def test_sign_and_verify(ci_key: KeyPair, rogue_key: KeyPair) -> None:
    envelope = sign_envelope(b'{"a":1}', IN_TOTO_PAYLOAD_TYPE, ci_key.key)
    assert envelope.signatures[0].keyid == ci_key.key_id
    # The signature is plain ECDSA-SHA256 over the PAE bytes.
    ci_key.key.public_key().verify(envelope.signatures[0].sig,
                                   pae(IN_TOTO_PAYLOAD_TYPE, b'{"a":1}'),
                                   ec.ECDSA(hashes.SHA256()))
    check = verify_envelope(envelope, [rogue_key.key.public_key(), ci_key.key.public_key()])
    assert check.verified_key_id == ci_key.key_id
    refused = verify_envelope(envelope, [rogue_key.key.public_key()])
    assert refused.verified_key_id is None
    assert refused.hinted_key_ids == (ci_key.key_id,)


def test_payload_type_is_bound_by_the_signature(ci_key: KeyPair) -> None:
    envelope = sign_envelope(b"{}", IN_TOTO_PAYLOAD_TYPE, ci_key.key)
    swapped = Envelope("application/json", envelope.payload, envelope.signatures)
    assert verify_envelope(swapped, [ci_key.key.public_key()]).verified_key_id is None


def test_json_round_trip(ci_key: KeyPair) -> None:
    envelope = sign_envelope(b'{"x": "y"}', IN_TOTO_PAYLOAD_TYPE, ci_key.key)
    document = json.loads(envelope.dumps())
    assert set(document) == {"payloadType", "payload", "signatures"}
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert base64.b64decode(document["payload"]) == b'{"x": "y"}'
    assert document["signatures"][0]["keyid"] == ci_key.key_id
    assert parse_envelope(document) == envelope
    assert parse_envelope_text(envelope.dumps()) == envelope
    assert parse_envelope({"dsseEnvelope": document}) == envelope  # a Sigstore bundle


def test_envelope_without_keyid_and_with_a_bad_extra_signature(ci_key: KeyPair) -> None:
    # cosign writes an empty keyid; a garbage signature next to a good one must not hide it.
    payload = b"{}"
    sig = ci_key.key.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    document = {
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"sig": "!!!"}, {"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }
    envelope = parse_envelope(document)
    assert envelope.signatures[0] == EnvelopeSignature("", b"")
    assert verify_envelope(envelope, [ci_key.key.public_key()]).verified_key_id == ci_key.key_id


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "JSON object"),
        ({"payload": "e30=", "signatures": [{"sig": "AA=="}]}, "payloadType"),
        ({"payloadType": "t", "signatures": [{"sig": "AA=="}]}, "payload"),
        ({"payloadType": "t", "payload": "%%%", "signatures": [{"sig": "AA=="}]}, "base64"),
        ({"payloadType": "t", "payload": "e30=", "signatures": []}, "no signatures"),
        ({"payloadType": "t", "payload": "e30=", "signatures": ["x"]}, "'sig'"),
        ({"payloadType": "t", "payload": "e30=", "signatures": [{"sig": "AA==", "keyid": 3}]},
         "keyid"),
    ],
)
def test_malformed_envelopes(document: object, problem: str) -> None:
    with pytest.raises(MalformedEnvelope, match=problem):
        parse_envelope(document)


def test_envelope_text_forms() -> None:
    with pytest.raises(MalformedEnvelope, match="not JSON"):
        parse_envelope_text("nope")
    with pytest.raises(MalformedEnvelope, match="2 JSON Lines records"):
        parse_envelope_text('{"a": 1}\n{"b": 2}\n')
