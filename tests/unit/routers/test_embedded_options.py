"""Options of the embedded router: listen addresses, stickiness, token, the admin bind rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from safeship.routers.embedded_options import (
    EmbeddedOptions,
    ListenAddress,
    Stickiness,
    is_loopback_host,
    parse_listen,
    parse_sticky,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:0", ListenAddress("127.0.0.1", 0)),
    (" localhost:8080 ", ListenAddress("localhost", 8080)),
    ("[::1]:9000", ListenAddress("::1", 9000)),
    ("0.0.0.0:65535", ListenAddress("0.0.0.0", 65535)),  # noqa: S104 - parsed, never bound
])
def test_listen_addresses_parse(text: str, expected: ListenAddress) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", [
    "127.0.0.1", ":80", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:80", "[::1]80",
    "[::1]", "host:http",
])
def test_bad_listen_addresses_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"host|port|IPv6|ipv6"):
        parse_listen(text)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
    ("LOCALHOST", True), ("0.0.0.0", False), ("::", False),  # noqa: S104 - never bound
    ("10.0.0.1", False),
    ("example.org", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(("text", "expected"), [
    ("none", Stickiness("none")),
    ("cookie", Stickiness("cookie")),
    ("header:X-User-Id", Stickiness("header", "X-User-Id")),
])
def test_stickiness_parses(text: str, expected: Stickiness) -> None:
    assert parse_sticky(text) == expected


@pytest.mark.parametrize("text", ["", "cookies", "header:", "header:Bad Name", "ip"])
def test_bad_stickiness_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="sticky"):
        EmbeddedOptions(sticky=text)


def test_defaults_are_loopback_free_ports_and_no_stickiness() -> None:
    options = EmbeddedOptions()
    assert options.listen_address == ListenAddress("127.0.0.1", 0)
    assert options.admin_address == ListenAddress("127.0.0.1", 0)
    assert options.stickiness == Stickiness("none")
    assert options.admin_token is None
    assert options.unsafe_admin_bind is False
    assert options.upstream_timeout == 30.0


@pytest.mark.parametrize("fields", [
    {"admin_token": "short"},
    {"upstream_timeout": 0},
    {"upstream_timeout": -1},
    {"listen": "127.0.0.1:8080", "admin_listen": "127.0.0.1:8080"},
    {"unknown": 1},
])
def test_bad_options_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EmbeddedOptions.model_validate(fields)


def test_a_short_token_is_refused_without_showing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        EmbeddedOptions(admin_token="hunter2-secret")
    assert "hunter2" not in str(caught.value)


def test_options_are_frozen() -> None:
    options = EmbeddedOptions()
    with pytest.raises(ValidationError):
        options.listen = "127.0.0.1:1"  # type: ignore[misc]
