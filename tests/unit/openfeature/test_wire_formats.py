"""The provider's readers: SSE lines, snapshots and change events, value coercion, and the
HTTP client's error mapping."""

from __future__ import annotations

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship.errors import EndpointUnavailable
from safeship.flags import changes
from safeship.flags.codec import flag_to_dict
from safeship.openfeature.resolution import MISMATCH, ValueKind, coerce
from safeship.openfeature.service_client import FlagServiceClient, ServiceRefused
from safeship.openfeature.snapshot import Snapshot
from safeship.openfeature.sse_reader import COMMENT, SseEvent, SseParser


def feed(lines: list[str]) -> list[SseEvent]:
    parser = SseParser()
    return [event for line in lines if (event := parser.feed(line)) is not None]


def test_sse_parsing_rules() -> None:
    events = feed(["retry: 250", "", ": keep-alive", "", "id: 7", "event: change",
                   "data: {\"a\":", "data:1}", "", "data: plain", "", "event: empty", "",
                   "bogus", "id: x\0y", "data", ""])
    assert events == [
        SseEvent(COMMENT, "keep-alive"),
        SseEvent("change", '{"a":\n1}', "7"),
        SseEvent("message", "plain", "7"),
        SseEvent("message", "", "7"),
    ]
    parser = SseParser()
    parser.feed("retry: 250")
    assert parser.retry_ms == 250


def payload(*flags: changes.Flag, version: int = 3) -> dict[str, object]:
    return {"environment": "production", "version": version,
            "flags": [{"key": f.key, "version": 2, "definition": flag_to_dict(f)}
                      for f in flags]}


def test_snapshot_from_payload_and_changes() -> None:
    beta = changes.new_flag("beta")
    snapshot = Snapshot.from_payload(payload(beta), '"3-x"')
    assert (snapshot.version, snapshot.etag, dict(snapshot.flag_versions)) == (
        3, '"3-x"', {"beta": 2})
    assert snapshot.flags["beta"] == beta
    killed = changes.kill(beta)
    newer = snapshot.with_change({"version": 5, "flag": "beta", "flag_version": 3,
                                  "definition": flag_to_dict(killed)})
    assert newer is not None
    assert (newer.version, newer.etag, newer.flags["beta"]) == (5, None, killed)
    assert snapshot.changed_keys(newer) == ["beta"]
    assert snapshot.with_change({"version": 5, "flag": "beta", "flag_version": 2,
                                 "definition": {}}) is None  # not newer than held
    assert snapshot.with_change({"version": True, "flag": "beta", "flag_version": 9}) is None
    created = snapshot.with_change({"version": 6, "flag": "gamma", "flag_version": 1,
                                    "definition": {"key": "gamma", "type": "nope"}})
    assert created is not None
    assert "gamma" in created.broken
    assert snapshot.changed_keys(created) == ["gamma"]
    fixed = created.with_change({"version": 7, "flag": "gamma", "flag_version": 2,
                                 "definition": {"key": "gamma"}})
    assert fixed is not None
    assert "gamma" not in fixed.broken
    assert "gamma" in fixed.flags


@pytest.mark.parametrize("bad", [
    {"environment": "production", "flags": []},
    {"environment": 1, "version": 1, "flags": []},
    {"environment": "production", "version": 1, "flags": {}},
    {"environment": "production", "version": 1, "flags": [{"key": "a"}]},
    {"environment": "production", "version": 1, "flags": ["a"]},
])
def test_malformed_snapshots_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(EndpointUnavailable):
        Snapshot.from_payload(bad, None)


@pytest.mark.parametrize(("value", "kind", "expected"), [
    (3, ValueKind.INTEGER, 3),
    (3.0, ValueKind.INTEGER, 3),
    (2, ValueKind.FLOAT, 2.0),
    ({"a": 1}, ValueKind.OBJECT, {"a": 1}),
    ([1], ValueKind.OBJECT, [1]),
    ("x", ValueKind.STRING, "x"),
])
def test_coercion(value: object, kind: str, expected: object) -> None:
    assert coerce(value, kind) == expected
    assert type(coerce(value, kind)) is type(expected)


@pytest.mark.parametrize(("value", "kind"), [
    (3.5, ValueKind.INTEGER), (True, ValueKind.INTEGER), ("3", ValueKind.FLOAT),
    (False, ValueKind.FLOAT), ("x", ValueKind.OBJECT),
])
def test_coercion_mismatches(value: object, kind: str) -> None:
    assert coerce(value, kind) is MISMATCH


def client_answering(handler: httpx.MockTransport) -> FlagServiceClient:
    return FlagServiceClient("http://flags.test/", "t" * 20, "production",
                             client_factory=client_factory_with_transport(handler))


def test_client_maps_answers_to_errors() -> None:
    def answer(status: int, **kwargs: object) -> FlagServiceClient:
        return client_answering(httpx.MockTransport(
            lambda _r: httpx.Response(status, **kwargs)))  # type: ignore[arg-type]

    with pytest.raises(ServiceRefused, match="refused the token"):
        answer(403).fetch_snapshot()
    with pytest.raises(EndpointUnavailable, match="answered 503: store down"):
        answer(503, json={"detail": "store down"}).fetch_snapshot()
    with pytest.raises(EndpointUnavailable, match="answered 500: Internal Server Error"):
        answer(500, text="oops").fetch_snapshot()
    with pytest.raises(EndpointUnavailable, match="not a snapshot"):
        answer(200, text="<html>").fetch_snapshot()
    with pytest.raises(EndpointUnavailable, match="not an event stream"), \
            answer(200, json={}).stream():
        pass
    with pytest.raises(ServiceRefused), answer(401).stream():
        pass


def test_client_sends_the_token_and_reports_unreachable_without_it() -> None:
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("refused", request=request)

    client = client_answering(httpx.MockTransport(refuse))
    with pytest.raises(EndpointUnavailable, match="unreachable") as caught:
        client.fetch_snapshot('"1-a"')
    assert "t" * 20 not in caught.value.message
    assert seen[0].headers["authorization"] == "Bearer " + "t" * 20
    assert seen[0].headers["if-none-match"] == '"1-a"'
    assert seen[0].url.params["environment"] == "production"
    assert client.url == "http://flags.test"
    client.close()
