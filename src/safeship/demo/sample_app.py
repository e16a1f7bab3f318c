"""The demo's sample HTTP service, as the source of a Python file written to the demo's temp dir.

One program, several versions: the ``local`` target starts it with ``SAFESHIP_VERSION`` in its
environment (and ``--port``). Versions ``v1`` and ``v3`` are good; ``v2`` is the bad release the
canary must catch: it answers 80 ms later and fails about 5 % of requests with a 500.

Every answer of the application, good or failed, carries :data:`VERSION_HEADER`, so the load
generator can tell the application's own errors from failures of the routing (a 502 or a reset
connection carries no version).
"""

from __future__ import annotations

from pathlib import Path

VERSION_HEADER = "X-Safeship-Version"
HEALTH_PATH = "/healthz"
BAD_VERSION = "v2"
BAD_ERROR_RATE = 0.05
BAD_EXTRA_LATENCY_S = 0.080
APP_FILE = "sample_app.py"

APP_SOURCE = f'''\
"""Sample service of `safeship demo`: versions differ by SAFESHIP_VERSION ({BAD_VERSION} is bad)."""

import argparse
import asyncio
import os
import random

from aiohttp import web

VERSION = os.environ.get("SAFESHIP_VERSION", "v1")
BAD = VERSION == "{BAD_VERSION}"
RANDOM = random.Random()
HEADERS = {{"{VERSION_HEADER}": VERSION}}


async def hello(request: web.Request) -> web.Response:
    if BAD:
        await asyncio.sleep({BAD_EXTRA_LATENCY_S!r})
        if RANDOM.random() < {BAD_ERROR_RATE!r}:
            return web.Response(status=500, text="internal error\\n", headers=HEADERS)
    return web.Response(text="hello from " + VERSION + "\\n", headers=HEADERS)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok\\n", headers=HEADERS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("{HEALTH_PATH}", health)
    app.router.add_get("/", hello)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
'''


def write_app(directory: Path) -> Path:
    """Write the sample service into ``directory`` and return the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / APP_FILE
    path.write_text(APP_SOURCE, encoding="utf-8")
    return path
