"""Options of the ``embedded`` router, and the listen-address rules they enforce.

``listen`` and ``admin_listen`` are ``host:port`` (``[v6]:port`` for IPv6); port 0 asks the
operating system for a free port. The admin listener changes live traffic, so it binds to a
loopback address unless ``unsafe_admin_bind: true`` says otherwise (and the router then warns at
every start). The admin token is a :class:`~pydantic.SecretStr`, so it never shows in a repr, a
log line or a validation error.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from safeship.routers.interface import RouterOptions

STICKY_COOKIE = "safeship_version"
"""The cookie that keeps a client on one version when ``sticky: cookie``."""

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True)
class ListenAddress:
    """A parsed ``host:port``."""

    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        """True for 127.0.0.0/8, ::1 and the usual names of the local host."""
        return is_loopback_host(self.host)


@dataclass(frozen=True)
class Stickiness:
    """How a client keeps seeing one version: not at all, by cookie, or by a header's value."""

    kind: Literal["none", "cookie", "header"]
    header: str | None = None


def is_loopback_host(host: str) -> bool:
    """True when ``host`` can only be reached from this machine."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public address: treat it as one


def parse_listen(text: str) -> ListenAddress:
    """Parse ``host:port`` or ``[ipv6]:port``; raises ValueError with the reason."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"'{text}' is not [ipv6]:port")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ValueError(f"'{text}' is not host:port")
        if ":" in host:
            raise ValueError(f"'{text}': write an IPv6 address in brackets, like [::1]:8080")
    if not host:
        raise ValueError(f"'{text}' has no host")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"'{text}' needs a port between 0 and 65535 (0 picks a free one)")
    return ListenAddress(host, int(port_text))


def parse_sticky(text: str) -> Stickiness:
    """Parse ``none``, ``cookie`` or ``header:<Name>``; raises ValueError with the reason."""
    if text == "none":
        return Stickiness("none")
    if text == "cookie":
        return Stickiness("cookie")
    kind, sep, name = text.partition(":")
    if kind == "header" and sep and _HEADER_NAME.match(name):
        return Stickiness("header", name)
    raise ValueError(f"sticky must be none, cookie or header:<Name>, got '{text}'")


class EmbeddedOptions(RouterOptions):
    """Options of ``type: embedded``, safeship's built-in reverse proxy."""

    # A validation error must never echo the admin token it refused.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    listen: str = Field(default="127.0.0.1:0",
                        description="host:port the proxy serves traffic on (port 0: any free).")
    admin_listen: str = Field(default="127.0.0.1:0",
                              description="host:port of the admin API (loopback unless "
                                          "unsafe_admin_bind).")
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token of the admin API (generated when omitted).")
    sticky: str = Field(default="none",
                        description="none | cookie | header:<Name> (keep a client on a version).")
    upstream_timeout: float = Field(
        default=30.0, gt=0, le=3600,
        description="Seconds to wait for an upstream to connect, answer, or send the next "
                    "body chunk; past it the client gets 504 (mid-body: a cut connection).")
    unsafe_admin_bind: bool = Field(
        default=False, description="Allow the admin API on a non-loopback address (warns).")

    @field_validator("listen", "admin_listen")
    @classmethod
    def _address(cls, value: str) -> str:
        parse_listen(value)
        return value.strip()

    @field_validator("sticky")
    @classmethod
    def _sticky(cls, value: str) -> str:
        parse_sticky(value)
        return value

    @field_validator("admin_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("admin_token must be at least 16 characters "
                             "(omit it to have one generated)")
        return value

    @model_validator(mode="after")
    def _admin_on_loopback(self) -> EmbeddedOptions:
        admin = parse_listen(self.admin_listen)
        if not admin.is_loopback and not self.unsafe_admin_bind:
            raise ValueError(
                f"admin_listen '{self.admin_listen}' is not a loopback address; the admin API "
                "changes live traffic, so set unsafe_admin_bind: true to bind it there anyway")
        listen = parse_listen(self.listen)
        if listen.port != 0 and listen == admin:
            raise ValueError("listen and admin_listen must differ")
        return self

    @property
    def listen_address(self) -> ListenAddress:
        """``listen``, parsed."""
        return parse_listen(self.listen)

    @property
    def admin_address(self) -> ListenAddress:
        """``admin_listen``, parsed."""
        return parse_listen(self.admin_listen)

    @property
    def stickiness(self) -> Stickiness:
        """``sticky``, parsed."""
        return parse_sticky(self.sticky)
