"""Free TCP ports for the ``local`` target's instances.

The operating system picks a free port by binding port 0; the socket is closed again so the
instance can bind it. Ports handed to instances that have not bound them yet are skipped, so
two instances started back to back never get the same port.
"""

from __future__ import annotations

import socket
from collections.abc import Collection

from safeship.targets.interface import TargetUnavailable

_ATTEMPTS = 20


def free_port(host: str, avoid: Collection[int] = ()) -> int:
    """A TCP port nothing listens on at ``host``, not in ``avoid``."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetUnavailable(f"cannot resolve the local target host '{host}': {exc}") from exc
    family, _type, _proto, _name, address = infos[0]
    for _ in range(_ATTEMPTS):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(address)
            except OSError as exc:
                raise TargetUnavailable(f"cannot bind a port on '{host}': {exc}") from exc
            port = int(probe.getsockname()[1])
        if port not in avoid:
            return port
    raise TargetUnavailable(f"no free port found on '{host}' after {_ATTEMPTS} attempts")


def port_in_use(host: str, port: int) -> bool:
    """True when something accepts TCP connections on ``host:port`` now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
