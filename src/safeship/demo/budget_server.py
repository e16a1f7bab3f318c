"""A tiny error-budget endpoint on 127.0.0.1 for the demo's pre-deploy SLO gate."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class BudgetServer:
    """Serves ``{"budget_remaining": <fraction>}`` at any path until closed."""

    def __init__(self, budget_remaining: float) -> None:
        payload = json.dumps({"budget_remaining": budget_remaining,
                              "slo": "99.9% of requests succeed over 30d"}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where the budget is served."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/slo/demo-shop/budget"

    def __enter__(self) -> BudgetServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
