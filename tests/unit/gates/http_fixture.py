"""A real HTTP server on 127.0.0.1 for gate tests: canned JSON replies, statuses and delays.

``JsonServer`` runs a :class:`http.server.ThreadingHTTPServer` on a free port in a thread.
Each path has a queue of :class:`Reply` objects; the last one repeats, so
``server.reply("/x", Reply(503), Reply(503), Reply(200, {...}))`` fails twice then succeeds.
The server counts hits and records request headers per path. :func:`closed_port_url` gives a
URL on which nothing listens.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One canned answer. ``body`` may be bytes, text, or anything JSON-serialisable."""

    status: int = 200
    body: Any = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out closes the socket under a delayed reply; that is expected.
        pass


class JsonServer:
    """The server; use :func:`running_server` to start and stop it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[str, list[Reply]] = {}
        self.hits: dict[str, int] = {}
        self.request_headers: dict[str, dict[str, str]] = {}
        self.stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, path: str, *replies: Reply) -> str:
        """Answer ``path`` with ``replies`` in turn (the last repeats); returns its URL."""
        with self._lock:
            self._replies[path] = list(replies)
        return self.url(path)

    def next_reply(self, path: str, headers: Mapping[str, str]) -> Reply:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            self.request_headers[path] = dict(headers)
            queue = self._replies.get(path)
            if not queue:
                return Reply(404, {"error": "no reply configured"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                reply = server.next_reply(path, {k.lower(): v for k, v in self.headers.items()})
                if reply.delay_s and server.stopping.wait(reply.delay_s):
                    return
                body = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


@contextmanager
def running_server() -> Iterator[JsonServer]:
    """A started :class:`JsonServer`, stopped on exit."""
    server = JsonServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def closed_port_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was just freed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
