"""Render the HAProxy configuration safeship runs, and check the names that go into it.

The rendered file has, in order:

* ``global``: the runtime API (``stats socket ... level admin``, ``expose-fd listeners`` so a
  reload hands the listening sockets over instead of re-binding them);
* ``defaults``: HTTP mode, bounded timeouts, ``retries`` with ``option redispatch`` so a
  connection refused by a dying server is retried on another one;
* ``frontend safeship``: the public listener. A request carrying ``X-Safeship-Version: <v>``
  goes to ``safeship_pin_<v>`` whatever the weights; one naming an unknown version gets a 503
  (never silently the weighted split: a smoke test pinned to a canary must not pass against
  stable). Every other request goes to ``backend safeship``;
* ``backend safeship``: ``balance roundrobin`` (dynamic weights; ``static-rr`` would refuse live
  changes) with one ``server <version>-<n> host:port weight W check inter 1s`` per endpoint and
  ``option httpchk GET <health path>``;
* ``backend safeship_pin_<v>`` per version: the same endpoints, ``track``-ing the health of the
  servers above instead of checking them twice;
* ``listen safeship_stats`` (optional): the stats page (``/stats``, CSV at ``/stats;csv``) and
  the Prometheus exporter (``/metrics``).

Everything rendered from user input is checked first (:func:`check_version`,
:func:`check_endpoint`, :func:`parse_listen`), so no value can break out of its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safeship.model.endpoints import Endpoint
from safeship.routers.haproxy_weights import server_name
from safeship.routers.interface import PIN_HEADER
from safeship.routers.render_checks import (
    address,
    check_endpoint,
    check_version,
    parse_listen,
)

BACKEND = "safeship"
"""The balanced backend whose server weights carry the split."""

FRONTEND = "safeship"
PIN_BACKEND_PREFIX = "safeship_pin_"
STATS_PROXY = "safeship_stats"

_HEALTH_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")










def check_health_path(path: str) -> str:
    """An HTTP path for health checks (letters, digits, ``._~/-``), or :class:`ValueError`."""
    if not _HEALTH_PATH.match(path):
        raise ValueError(f"health check path '{path}' must start with '/' and hold no spaces")
    return path






@dataclass(frozen=True)
class HaproxyConfig:
    """Everything the rendered file depends on."""

    listen: str
    socket: Path
    backends: Mapping[str, Sequence[Endpoint]] = field(default_factory=dict)
    server_weights: Mapping[str, int] = field(default_factory=dict)
    stats_listen: str | None = None
    health_path: str = "/healthz"
    check_interval: str = "1s"


def render(config: HaproxyConfig) -> str:
    """The complete ``haproxy.cfg`` text for ``config``."""
    listen = address(*parse_listen(config.listen))
    check_health_path(config.health_path)
    versions = [check_version(version) for version in config.backends]
    header = PIN_HEADER
    lines = [
        "# Rendered by safeship (router type: haproxy). safeship rewrites this file: do not",
        "# edit it. Weights below are the split at render time; live weights are set through",
        "# the runtime API and are lost on reload until safeship re-applies them.",
        "global",
        f"    stats socket {config.socket} mode 600 level admin expose-fd listeners",
        "    stats timeout 30s",
        "",
        "defaults",
        "    mode http",
        "    option redispatch",
        "    retries 2",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-request 10s",
        "",
        f"frontend {FRONTEND}",
        f"    bind {listen}",
    ]
    if versions:
        known = " ".join(versions)
        lines.append(
            f'    http-request return status 503 content-type text/plain string "unknown version'
            f' in {header}" if {{ req.hdr({header}) -m found }} '
            f"!{{ req.hdr({header}) -m str {known} }}"
        )
        lines.extend(
            f"    use_backend {PIN_BACKEND_PREFIX}{version} if "
            f"{{ req.hdr({header}) -m str {version} }}"
            for version in versions
        )
    else:
        lines.append(
            f'    http-request return status 503 content-type text/plain string "unknown version'
            f' in {header}" if {{ req.hdr({header}) -m found }}'
        )
    lines += [
        f"    default_backend {BACKEND}",
        "",
        f"backend {BACKEND}",
        "    balance roundrobin",
        f"    option httpchk GET {config.health_path}",
    ]
    for version, endpoints in config.backends.items():
        for index, endpoint in enumerate(endpoints, start=1):
            check_endpoint(endpoint)
            name = server_name(version, index)
            weight = config.server_weights.get(name, 0)
            lines.append(
                f"    server {name} {address(endpoint.host, endpoint.port)} weight {weight} "
                f"check inter {config.check_interval}"
            )
    for version, endpoints in config.backends.items():
        lines += ["", f"backend {PIN_BACKEND_PREFIX}{version}", "    balance roundrobin"]
        for index, endpoint in enumerate(endpoints, start=1):
            name = server_name(version, index)
            lines.append(
                f"    server {name} {address(endpoint.host, endpoint.port)} "
                f"track {BACKEND}/{name}"
            )
    if config.stats_listen is not None:
        lines += [
            "",
            f"listen {STATS_PROXY}",
            f"    bind {address(*parse_listen(config.stats_listen))}",
            "    stats enable",
            "    stats uri /stats",
            "    http-request use-service prometheus-exporter if { path /metrics }",
        ]
    return "\n".join(lines) + "\n"
