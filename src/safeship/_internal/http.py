"""The one place safeship makes HTTP clients.

Everything that talks HTTP takes an :data:`HttpClientFactory`. The default builds a real
:class:`httpx.Client`; tests inject one built on an ``httpx`` transport of their choosing.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from safeship import __version__

HttpClientFactory = Callable[[float], httpx.Client]
"""Builds a client whose every request times out after the given number of seconds."""


def default_client_factory(timeout_s: float) -> httpx.Client:
    """A plain client with a total timeout, no proxies from the environment, and our UA."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        trust_env=False,
        headers={"User-Agent": f"safeship/{__version__}"},
        follow_redirects=False,
    )


def client_factory_with_transport(transport: httpx.BaseTransport) -> HttpClientFactory:
    """A factory whose clients send every request through ``transport``."""

    def build(timeout_s: float) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(timeout_s), transport=transport)

    return build
