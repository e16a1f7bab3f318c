"""An in-memory site behind ``httpx.MockTransport`` for the scanner's unit tests.

``MockSite`` maps paths to canned answers, records every request (method, URL, headers) and
can advance a fake clock on each request, so time limits are tested without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from safeship._internal.http import HttpClientFactory

HTML = {"content-type": "text/html; charset=utf-8"}


@dataclass
class Answer:
    """One canned answer."""

    status: int = 200
    body: str | bytes = "<html><body>ok</body></html>"
    headers: Mapping[str, str] = field(default_factory=lambda: dict(HTML))
    cookies: tuple[str, ...] = ()


@dataclass
class MockSite:
    """Answers by path (query ignored unless the full path-with-query is mapped)."""

    pages: dict[str, Answer | Callable[[httpx.Request], Answer]] = field(default_factory=dict)
    default: Answer = field(default_factory=lambda: Answer(404, "<html>not found</html>"))
    requests: list[httpx.Request] = field(default_factory=list)
    now: float = 0.0
    seconds_per_request: float = 0.0
    refuse: bool = False

    def clock(self) -> float:
        return self.now

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.now += self.seconds_per_request
        if self.refuse:
            raise httpx.ConnectError("connection refused", request=request)
        full = request.url.raw_path.decode()
        entry = self.pages.get(full) or self.pages.get(request.url.path) or self.default
        answer = entry(request) if callable(entry) else entry
        headers = [(k, v) for k, v in answer.headers.items()]
        headers += [("set-cookie", cookie) for cookie in answer.cookies]
        body = answer.body.encode() if isinstance(answer.body, str) else answer.body
        return httpx.Response(answer.status, headers=headers, content=body)

    def factory(self) -> HttpClientFactory:
        transport = httpx.MockTransport(self.handle)

        def build(timeout_s: float) -> httpx.Client:
            return httpx.Client(transport=transport, timeout=timeout_s)

        return build

    def paths(self) -> list[str]:
        return [request.url.raw_path.decode() for request in self.requests]

    def methods(self) -> set[str]:
        return {request.method for request in self.requests}


def page_html(*links: str, extra: str = "") -> str:
    anchors = "".join(f'<a href="{link}">x</a>' for link in links)
    return f"<!doctype html><html><body>{anchors}{extra}</body></html>"
