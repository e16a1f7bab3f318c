"""Strong ETags and If-None-Match, and the SSE frame format."""

from __future__ import annotations

import pytest

from safeship.server.etag import none_match, strong_etag
from safeship.server.sse import comment_frame, event_frame, retry_frame


def test_the_etag_follows_version_and_body() -> None:
    tag = strong_etag(7, b"{}")
    assert tag.startswith('"7-')
    assert tag.endswith('"')
    assert strong_etag(7, b"{}") == tag
    assert strong_etag(8, b"{}") != tag
    assert strong_etag(7, b"[]") != tag  # same version, other body (a recreated store)


@pytest.mark.parametrize(("header", "matches"), [
    ('"7-abc"', True),
    ('W/"7-abc"', True),
    ('"1-x", "7-abc"', True),
    ("*", True),
    ('"7-abd"', False),
    ("7-abc", False),
    ("", False),
    (None, False),
])
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert none_match(header, '"7-abc"') is matches


def test_sse_frames() -> None:
    assert event_frame("change", {"a": "é"}, event_id=3) == (
        'id: 3\nevent: change\ndata: {"a":"é"}\n\n'.encode())
    assert event_frame("hello", [1]) == b"event: hello\ndata: [1]\n\n"
    assert event_frame("x", {"t": "line\nbreak"}).count(b"\n") == 3  # escaped in JSON
    assert comment_frame("keep-alive") == b": keep-alive\n\n"
    assert retry_frame(1500) == b"retry: 1500\n\n"
