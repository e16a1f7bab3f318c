"""Checks on every value a file-configured router (HAProxy, NGINX) renders into its config.

Versions, hosts, ports and listen addresses come from users and rollouts; each is checked
against a strict pattern before it is written, so no value can end its line or directive and
inject configuration. The routers turn the :class:`ValueError` these raise into their own
``RouterRejected`` with their name in front (:func:`validated_backends`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence

from safeship.model.endpoints import Endpoint

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$")


def check_version(version: str) -> str:
    """A version name usable in server, backend, upstream and map names, or ValueError."""
    if not _VERSION.match(version):
        raise ValueError(
            f"version name '{version}' is not allowed: use 1-63 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return version


def check_host(host: str) -> str:
    """An IP address or a DNS name, or :class:`ValueError` (nothing that could break a line)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise ValueError(f"'{host}' is not an IP address or a host name") from None
    return host


def check_port(port: int) -> int:
    """A TCP port 1..65535, or :class:`ValueError`."""
    if isinstance(port, bool) or not 1 <= port <= 65535:
        raise ValueError(f"port {port} is outside 1..65535")
    return port


def check_endpoint(endpoint: Endpoint) -> Endpoint:
    """An endpoint whose host and port are safe to render, or :class:`ValueError`."""
    check_host(endpoint.host)
    check_port(endpoint.port)
    return endpoint


def parse_listen(text: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) -> ``(host, port)``, or :class:`ValueError`."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"listen address '{text}' is not host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    check_host(host)
    return host, check_port(int(port_text))


def address(host: str, port: int) -> str:
    """``host:port`` as HAProxy and NGINX read it, IPv6 addresses bracketed."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def validated_backends(
    backends: Mapping[str, Sequence[Endpoint]],
) -> dict[str, tuple[Endpoint, ...]]:
    """Every version and endpoint checked, each version with at least one endpoint.

    Raises :class:`ValueError` naming the first bad value or the versions without endpoints.
    """
    validated = {
        check_version(version): tuple(check_endpoint(endpoint) for endpoint in endpoints)
        for version, endpoints in backends.items()
    }
    empty = sorted(version for version, endpoints in validated.items() if not endpoints)
    if empty:
        raise ValueError(f"version(s) {', '.join(empty)} need at least one endpoint")
    return validated
