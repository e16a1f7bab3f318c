"""Render the NGINX configuration safeship runs, and read the split back out of it.

The rendered file is a complete ``nginx.conf`` (safeship's NGINX serves only the router):

* ``pid``, ``error_log`` under the config dir; every temp path under ``temp_dir`` (the workers
  run as ``nobody`` when the master is root, so they cannot write into a root-owned dir);
* ``upstream safeship``: the weighted split, one ``server host:port weight=N;`` per endpoint of
  every version. A server of a version at 0 % is written ``down`` (``weight=0`` is an NGINX
  error). Each line ends with ``# safeship server=<version>-<n>``, which is how
  :func:`parse_split` maps a server back to its version;
* ``upstream safeship_pin_<v>`` per version, and ``map $http_x_safeship_version`` choosing the
  upstream: no header -> the split, a known version -> its pinned upstream, anything else ->
  503 (a smoke test pinned to a canary must never silently hit stable);
* one ``server`` on ``listen`` proxying everything with HTTP/1.1 keep-alive to the upstreams.

NGINX cannot report its weights at runtime (open-source NGINX has no API for upstreams), so the
read-back parses the file NGINX last accepted: safeship only leaves a file in place after
``nginx -t`` accepted it and the reload went through.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safeship.model.endpoints import Endpoint
from safeship.routers.interface import PIN_HEADER
from safeship.routers.nginx_weights import server_key
from safeship.routers.render_checks import (
    address,
    check_endpoint,
    check_version,
    parse_listen,
)

UPSTREAM = "safeship"
"""The weighted upstream that carries the split."""

PIN_UPSTREAM_PREFIX = "safeship_pin_"
_ROUTE_VARIABLE = "$safeship_upstream"
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/+-]*$")
_SERVER_LINE = re.compile(
    r"^\s*server\s+(?P<address>\S+)\s+(?:weight=(?P<weight>\d+)|(?P<down>down))\s*;"
    r"\s*#\s*safeship server=(?P<key>\S+)\s*$"
)










def check_path(path: Path) -> Path:
    """An absolute path made of plain characters (nothing that could end a directive)."""
    if not path.is_absolute() or not _SAFE_PATH.match(str(path)):
        raise ValueError(f"path '{path}' must be absolute and use only letters, digits, ._/+-")
    return path






@dataclass(frozen=True)
class NginxConfig:
    """Everything the rendered file depends on."""

    listen: str
    config_dir: Path
    temp_dir: Path
    backends: Mapping[str, Sequence[Endpoint]] = field(default_factory=dict)
    server_weights: Mapping[str, int] = field(default_factory=dict)
    """Weight per :func:`server_key`; 0 (or missing) renders ``down``."""
    worker_processes: int = 1
    keepalive: int = 16


def render(config: NginxConfig) -> str:
    """The complete ``nginx.conf`` text for ``config``."""
    host, port = parse_listen(config.listen)
    config_dir = check_path(config.config_dir)
    temp = check_path(config.temp_dir)
    if config.worker_processes < 1:
        raise ValueError("worker_processes must be at least 1")
    versions = [check_version(version) for version in config.backends]
    live = [version for version in versions if config.backends[version]]
    lines = [
        "# Rendered by safeship (router type: nginx). safeship rewrites this file: do not edit",
        "# it. NGINX cannot report upstream weights at runtime; safeship reads the split back",
        "# from this file, which is always the one NGINX last accepted.",
        f"worker_processes {config.worker_processes};",
        f"pid {config_dir / 'nginx.pid'};",
        f"error_log {config_dir / 'error.log'} warn;",
        "worker_shutdown_timeout 10s;",
        "events { worker_connections 1024; }",
        "http {",
        "    access_log off;",
        f"    client_body_temp_path {temp / 'body'};",
        f"    proxy_temp_path {temp / 'proxy'};",
        f"    fastcgi_temp_path {temp / 'fastcgi'};",
        f"    uwsgi_temp_path {temp / 'uwsgi'};",
        f"    scgi_temp_path {temp / 'scgi'};",
    ]
    if live:
        lines.append(f"    upstream {UPSTREAM} {{")
        for version in live:
            for index, endpoint in enumerate(config.backends[version], start=1):
                check_endpoint(endpoint)
                key = server_key(version, index)
                weight = config.server_weights.get(key, 0)
                option = f"weight={weight}" if weight > 0 else "down"
                lines.append(
                    f"        server {address(endpoint.host, endpoint.port)} {option};"
                    f"  # safeship server={key}"
                )
        lines += [f"        keepalive {config.keepalive};", "    }"]
        for version in live:
            lines.append(f"    upstream {PIN_UPSTREAM_PREFIX}{version} {{")
            lines.extend(
                f"        server {address(endpoint.host, endpoint.port)};"
                for endpoint in config.backends[version]
            )
            lines += [f"        keepalive {config.keepalive};", "    }"]
    # Without a header a request follows the split, unless no server takes traffic: then a
    # clear 503 instead of NGINX's 502 "no live upstreams".
    takes_traffic = live and any(weight > 0 for weight in config.server_weights.values())
    header_variable = "$http_" + PIN_HEADER.lower().replace("-", "_")
    lines += [
        f"    map {header_variable} {_ROUTE_VARIABLE} {{",
        '        default "";',
        f'        "" {UPSTREAM if takes_traffic else chr(34) * 2};',
    ]
    lines.extend(f'        "{version}" {PIN_UPSTREAM_PREFIX}{version};' for version in live)
    lines += [
        "    }",
        "    server {",
        f"        listen {address(host, port)};",
        "        location / {",
        f'            if ({_ROUTE_VARIABLE} = "") {{',
        f'                return 503 "no version for this request ({PIN_HEADER} unknown, or no'
        ' version takes traffic)\\n";',
        "            }",
        f"            proxy_pass http://{_ROUTE_VARIABLE};",
        "            proxy_http_version 1.1;",
        '            proxy_set_header Connection "";',
        "            proxy_set_header Host $http_host;",
        "            proxy_next_upstream error timeout;",
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class UpstreamServer:
    """One ``server`` line of the weighted upstream, as parsed back."""

    key: str
    """``<version>-<n>``."""
    address: str
    weight: int
    """0 when the line says ``down``."""


def parse_split(text: str) -> list[UpstreamServer]:
    """The servers of ``upstream safeship`` in a file rendered by :func:`render`."""
    servers: list[UpstreamServer] = []
    inside = False
    for line in text.splitlines():
        stripped = line.strip()
        if not inside:
            inside = stripped == f"upstream {UPSTREAM} {{"
            continue
        if stripped == "}":
            break
        match = _SERVER_LINE.match(line)
        if match:
            weight = 0 if match.group("down") else int(match.group("weight"))
            servers.append(UpstreamServer(match.group("key"), match.group("address"), weight))
    return servers
