"""DSSE envelopes (Dead Simple Signing Envelope, as in-toto attestations use them).

An envelope is the JSON object::

    {"payloadType": "application/vnd.in-toto+json",
     "payload": "<base64 of the payload bytes>",
     "signatures": [{"keyid": "<key id or empty>", "sig": "<base64 of DER ECDSA>"}]}

Each signature signs the *pre-authentication encoding* (PAE) of type and payload, never the
payload alone, so a payload cannot be replayed under another type::

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

where ``LEN`` is the byte length in ASCII decimal and ``SP`` one space. The ECDSA signature is
over SHA-256 of the PAE, DER encoded, which is what ``cosign attest-blob`` writes and
``cosign verify-blob-attestation --key`` checks.

``keyid`` is a hint only (it is not signed): verification tries every trusted key, and the hint
only sharpens the explanation when no trusted key matches.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from safeship.scanners.signing.blob import (
    MalformedInput,
    decode_base64,
    decode_signature,
    encode_signature,
    sign_digest,
    verify_digest,
)
from safeship.scanners.signing.keys import key_id

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
"""The payload type of an in-toto Statement."""


class MalformedEnvelope(ValueError):
    """A document that is not a well-formed DSSE envelope."""


@dataclass(frozen=True)
class EnvelopeSignature:
    """One signature of an envelope: the (unsigned) key id hint and the DER signature."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope."""

    payload_type: str
    payload: bytes
    signatures: tuple[EnvelopeSignature, ...]

    def to_json(self) -> dict[str, Any]:
        """The envelope as the JSON object of the DSSE specification."""
        return {
            "payloadType": self.payload_type,
            "payload": _b64(self.payload),
            "signatures": [
                {"keyid": signature.keyid, "sig": encode_signature(signature.sig)}
                for signature in self.signatures
            ],
        }

    def dumps(self) -> str:
        """The envelope as compact JSON text, ending in a newline (one JSON Lines record)."""
        return json.dumps(self.to_json(), separators=(",", ":")) + "\n"


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload_type`` and ``payload``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def sign_envelope(
    payload: bytes, payload_type: str, key: ec.EllipticCurvePrivateKey
) -> Envelope:
    """An envelope around ``payload`` with one signature by ``key`` (keyid = its key id)."""
    digest = hashlib.sha256(pae(payload_type, payload)).digest()
    signature = EnvelopeSignature(key_id(key.public_key()), sign_digest(digest, key))
    return Envelope(payload_type, payload, (signature,))


@dataclass(frozen=True)
class EnvelopeCheck:
    """Which signature of an envelope verified, and against which trusted key."""

    verified_key_id: str | None
    hinted_key_ids: tuple[str, ...]
    malformed_signatures: int


def verify_envelope(
    envelope: Envelope, keys: Iterable[ec.EllipticCurvePublicKey]
) -> EnvelopeCheck:
    """Try every signature of ``envelope`` against every key; report the first that verifies."""
    digest = hashlib.sha256(pae(envelope.payload_type, envelope.payload)).digest()
    candidates = list(keys)
    for signature in envelope.signatures:
        for key in candidates:
            if verify_digest(digest, signature.sig, key):
                return EnvelopeCheck(key_id(key), (), 0)
    hints = tuple(s.keyid for s in envelope.signatures if s.keyid)
    malformed = sum(1 for s in envelope.signatures if not s.sig)
    return EnvelopeCheck(None, hints, malformed)


def parse_envelope(document: object) -> Envelope:
    """An :class:`Envelope` from decoded JSON; :class:`MalformedEnvelope` says what is wrong.

    A Sigstore bundle (an object with ``dsseEnvelope``) is accepted and its envelope used.
    A signature whose ``sig`` is not base64 DER is kept with empty bytes, so that one bad
    signature does not hide a good one; it can never verify.
    """
    if isinstance(document, Mapping) and "dsseEnvelope" in document:
        document = document["dsseEnvelope"]
    if not isinstance(document, Mapping):
        raise MalformedEnvelope("a DSSE envelope is a JSON object")
    payload_type = document.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise MalformedEnvelope("the envelope has no payloadType")
    payload_text = document.get("payload")
    if not isinstance(payload_text, str):
        raise MalformedEnvelope("the envelope has no base64 payload")
    try:
        payload = decode_base64(payload_text, what="envelope payload")
    except MalformedInput as exc:
        raise MalformedEnvelope(str(exc)) from None
    raw_signatures = document.get("signatures")
    if not isinstance(raw_signatures, list) or not raw_signatures:
        raise MalformedEnvelope("the envelope has no signatures")
    signatures = []
    for entry in raw_signatures:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("sig"), str):
            raise MalformedEnvelope("each envelope signature is an object with a base64 'sig'")
        keyid = entry.get("keyid", "")
        if not isinstance(keyid, str):
            raise MalformedEnvelope("an envelope signature's keyid is not a string")
        try:
            sig = decode_signature(entry["sig"])
        except MalformedInput:
            sig = b""
        signatures.append(EnvelopeSignature(keyid, sig))
    return Envelope(payload_type, payload, tuple(signatures))


def parse_envelope_text(text: str) -> Envelope:
    """An envelope from JSON text, or from JSON Lines holding exactly one envelope."""
    records = [line for line in text.splitlines() if line.strip()]
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        if len(records) > 1 and all(_is_json(line) for line in records):
            raise MalformedEnvelope(
                f"the file holds {len(records)} JSON Lines records; give the one envelope "
                "for this artifact"
            ) from None
        raise MalformedEnvelope("the file is not JSON") from None
    return parse_envelope(document)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True
