"""Strong ETags for snapshots and flag reads, and ``If-None-Match`` checks.

An ETag is ``"<data version>-<16 hex digits of the body's SHA-256>"``. The version makes it
cheap to tell at a glance which data a client holds; the hash keeps it honest when versions
repeat (a store that was recreated starts counting again), so equal tags always mean equal
bodies: a strong validator in the sense of RFC 9110, section 8.8.1.
"""

from __future__ import annotations

import hashlib


def strong_etag(version: int, body: bytes) -> str:
    """The quoted strong ETag of ``body`` at data version ``version``."""
    return f'"{version}-{hashlib.sha256(body).hexdigest()[:16]}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when an ``If-None-Match`` header names ``etag`` (or is ``*``): answer 304.

    ``If-None-Match`` uses the weak comparison (RFC 9110, 13.1.2), so ``W/"x"`` matches
    ``"x"``.
    """
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/")
        if tag == etag:
            return True
    return False
