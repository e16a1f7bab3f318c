"""Two sample web applications for the DAST tests, served on 127.0.0.1 by ``http.server``.

* :func:`vulnerable_app` makes every rule of the scanner fire: no security headers, a weak CSP
  on ``/legacy``, cookies without flags, version headers, a stack trace, a debug page, a
  directory listing, CORS ``*`` with credentials (and any ``Origin`` echoed), an exposed
  ``.git``, ``.env`` and ``config.php.bak``, a reflected XSS, SQL error leakage and an open
  redirect.
* :func:`hardened_app` has the same links, done right: every header, flagged cookies, encoded
  output, validated input, relative redirects only, a generic error page, 404 for the rest.
* :func:`canary_app` answers as the vulnerable app only to requests that carry
  ``X-Safeship-Version: canary`` (as a router's header route would send them to the canary),
  and as the hardened app otherwise.

Every server records the requests it got (method, path, headers) so tests can check that the
scan only sent GET requests and always sent its headers.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ENV_SECRET = "s3cr3t-do-not-leak"
COOKIE_SECRET = "sessionvalue-do-not-leak"
DB_PASSWORD = "pa55word-do-not-leak"

INDEX = """<!doctype html><html><head><title>shop</title></head><body>
<a href="/search?q=hello">search</a> <a href="/items?id=1">item</a>
<a href="/go?next=/">home</a> <a href="/files/">files</a> <a href="/error">error</a>
<a href="/debug">debug</a> <a href="/api/data">api</a> <a href="/legacy">legacy</a>
<a href="/config.php">config</a> <a href="/about.html">about</a>
<a href="https://elsewhere.example/">elsewhere</a> <a href="/logo.png">logo</a>
<form action="/search" method="get"><input name="q"></form>
<form action="/login" method="post"><input name="user"><input type="password" name="pw">
</form></body></html>"""

TRACEBACK = """<!doctype html><html><body><pre>Traceback (most recent call last):
  File "/srv/shop/app.py", line 42, in handler
    total = price / quantity
ZeroDivisionError: division by zero</pre></body></html>"""

HARDENED_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; object-src 'none'",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class RequestLog:
    """The requests a sample app received."""

    entries: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self.lock:
            self.entries.append((method, path, headers))

    def methods(self) -> set[str]:
        with self.lock:
            return {method for method, _, _ in self.entries}

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path, _ in self.entries]

    def headers(self) -> list[dict[str, str]]:
        with self.lock:
            return [headers for _, _, headers in self.entries]


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY each answer waits for the
    # peer's delayed ACK (about 40 ms on Linux), which would make every scan slow.
    disable_nagle_algorithm = True
    log: RequestLog
    hide_version = False

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return "app" if self.hide_version else super().version_string()

    def _record(self) -> None:
        self.log.add(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})

    def do_POST(self) -> None:
        self._record()
        self.write(405, "method not allowed", "text/plain", {}, ())

    do_PUT = do_DELETE = do_PATCH = do_POST

    def do_GET(self) -> None:
        self._record()
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.route(parts.path, query)

    def route(self, path: str, query: dict[str, str]) -> None:
        raise NotImplementedError

    def write(self, status: int, body: str | bytes, content_type: str,
              headers: dict[str, str], cookies: tuple[str, ...]) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(data)


class _Site:
    """One behaviour (vulnerable or hardened), answering through a handler."""

    hide_version = False

    def __init__(self, handler: _Base) -> None:
        self.h = handler
        handler.hide_version = self.hide_version

    def send(self, status: int, body: str | bytes, content_type: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None, cookies: tuple[str, ...] = ()) -> None:
        self.h.write(status, body, content_type, self.decorate(headers or {}), cookies)

    def decorate(self, headers: dict[str, str]) -> dict[str, str]:
        return headers

    def route(self, path: str, query: dict[str, str]) -> None:
        raise NotImplementedError


class Vulnerable(_Site):
    """Everything wrong, on purpose."""

    def decorate(self, headers: dict[str, str]) -> dict[str, str]:
        extra = {"X-Powered-By": "PHP/7.4.3", **headers}
        origin = self.h.headers.get("Origin")
        if origin:  # echoes any origin, with credentials
            extra["Access-Control-Allow-Origin"] = origin
            extra["Access-Control-Allow-Credentials"] = "true"
        return extra

    def route(self, path: str, query: dict[str, str]) -> None:
        if path == "/":
            self.send(200, INDEX, cookies=(f"session={COOKIE_SECRET}; Path=/",))
        elif path == "/search":
            self.send(200, f"<html><body><p>Results for {query.get('q', '')}</p></body></html>")
        elif path == "/items":
            item = query.get("id", "")
            if "'" in item:
                self.send(500, f'<html><body>sqlite3.OperationalError: unrecognized token: '
                          f'"{html.escape(item)}"</body></html>')
            else:
                self.send(200, f"<html><body>item {html.escape(item)}</body></html>")
        elif path == "/go":
            self.send(302, "", headers={"Location": query.get("next", "/")})
        elif path == "/files/":
            self.send(200, "<html><head><title>Directory listing for /files/</title></head>"
                      '<body><a href="report.txt">report.txt</a></body></html>')
        elif path == "/files/report.txt":
            self.send(200, "quarterly numbers", "text/plain")
        elif path == "/error":
            self.send(500, TRACEBACK)
        elif path == "/debug":
            self.send(200, "<html><head><title>Werkzeug Debugger</title></head><body>"
                      "console</body></html>")
        elif path == "/api/data":
            self.send(200, json.dumps({"items": [1, 2]}), "application/json",
                      {"Access-Control-Allow-Origin": "*",
                       "Access-Control-Allow-Credentials": "true"})
        elif path == "/legacy":
            self.send(200, "<html><body>legacy</body></html>", headers={
                "Content-Security-Policy": "default-src * 'unsafe-inline' 'unsafe-eval'",
                "X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"})
        elif path == "/config.php":
            self.send(200, "<html><body>configuration</body></html>")
        elif path == "/config.php.bak":
            self.send(200, f"<?php $db_password = '{DB_PASSWORD}'; ?>",
                      "application/octet-stream")
        elif path == "/about.html":
            self.send(200, "<html><body>about us</body></html>")
        elif path == "/.git/HEAD":
            self.send(200, "ref: refs/heads/main\n", "text/plain")
        elif path == "/.git/config":
            self.send(200, "[core]\n\trepositoryformatversion = 0\n", "text/plain")
        elif path == "/.env":
            self.send(200, f"DATABASE_URL=postgres://app:{DB_PASSWORD}@db/app\n"
                      f"SECRET_KEY={ENV_SECRET}\n", "text/plain")
        else:
            self.send(404, "<html><body>not found</body></html>")


class Hardened(_Site):
    """The same site, done right."""

    hide_version = True

    def decorate(self, headers: dict[str, str]) -> dict[str, str]:
        return {**HARDENED_HEADERS, **headers}

    def route(self, path: str, query: dict[str, str]) -> None:
        if path == "/":
            self.send(200, INDEX.replace('<a href="/files/">files</a>', "").replace(
                '<a href="/debug">debug</a>', "").replace('<a href="/legacy">legacy</a>', ""),
                cookies=(f"session={COOKIE_SECRET}; Path=/; Secure; HttpOnly; SameSite=Strict",))
        elif path == "/search":
            text = html.escape(query.get("q", ""))
            self.send(200, f"<html><body><p>Results for {text}</p></body></html>")
        elif path == "/items":
            item = query.get("id", "")
            if not item.isdigit():
                self.send(400, "<html><body>invalid id</body></html>")
            else:
                self.send(200, f"<html><body>item {item}</body></html>")
        elif path == "/go":
            target = query.get("next", "/")
            safe = target.startswith("/") and not target.startswith("//")
            self.send(302, "", headers={"Location": target if safe else "/"})
        elif path == "/error":
            self.send(500, "<html><body>Something went wrong.</body></html>")
        elif path == "/api/data":
            self.send(200, json.dumps({"items": [1, 2]}), "application/json")
        elif path in {"/config.php", "/about.html"}:
            self.send(200, "<html><body>page</body></html>")
        else:
            self.send(404, "<html><body>not found</body></html>")


class VulnerableHandler(_Base):
    def route(self, path: str, query: dict[str, str]) -> None:
        Vulnerable(self).route(path, query)


class HardenedHandler(_Base):
    def route(self, path: str, query: dict[str, str]) -> None:
        Hardened(self).route(path, query)


class CanaryHandler(_Base):
    """Vulnerable for requests pinned to the canary, hardened for everything else."""

    def route(self, path: str, query: dict[str, str]) -> None:
        pinned = self.headers.get("X-Safeship-Version") == "canary"
        (Vulnerable if pinned else Hardened)(self).route(path, query)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up mid-answer is expected in limit tests


@dataclass
class SampleApp:
    """A running sample app: its base URL and the requests it received."""

    base: str
    log: RequestLog

    def url(self, path: str = "/") -> str:
        return f"{self.base}{path}"


@contextmanager
def serve(handler: type[_Base]) -> Iterator[SampleApp]:
    """Serve ``handler`` on 127.0.0.1 on a free port until the block ends."""
    log = RequestLog()
    bound = type(f"Logged{handler.__name__}", (handler,), {"log": log})
    server = _Server(("127.0.0.1", 0), bound)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield SampleApp(f"http://127.0.0.1:{server.server_address[1]}", log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def vulnerable_app() -> Any:
    """Context manager: the vulnerable app."""
    return serve(VulnerableHandler)


def hardened_app() -> Any:
    """Context manager: the hardened app."""
    return serve(HardenedHandler)


def canary_app() -> Any:
    """Context manager: vulnerable behind ``X-Safeship-Version: canary``, hardened otherwise."""
    return serve(CanaryHandler)


PASSIVE_RULES = ("10038", "10055", "10035", "10021", "10020", "10010", "10011", "10054",
                 "10036", "10037", "90022", "10023", "10033", "10098")
EXPOSURE_RULES = ("41", "40034", "10095")
ACTIVE_RULES = ("40012", "40018", "20019")
