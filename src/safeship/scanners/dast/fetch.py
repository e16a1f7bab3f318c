"""Fetching with limits: every request of a scan goes through one :class:`Fetcher`.

The fetcher sends only ``GET`` (no method that could change state), never follows redirects
(the crawler decides), adds the scan's headers (e.g. the canary pin ``X-Safeship-Version``) to
every request, and enforces the scan's budget: a deadline, a request count, a byte cap per
response (longer bodies are truncated) and a byte cap for the whole scan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from functools import cached_property

import httpx


class BudgetExhausted(Exception):
    """A limit of the scan was reached; ``limit`` names it."""

    def __init__(self, limit: str) -> None:
        super().__init__(limit)
        self.limit = limit


class FetchFailed(Exception):
    """A request got no HTTP answer (refused, reset, timed out, bad TLS)."""


@dataclass
class Budget:
    """The scan's limits and what has been spent of them."""

    deadline: float
    max_requests: int
    max_total_bytes: int
    max_response_bytes: int
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    bytes_read: int = 0

    def remaining_s(self) -> float:
        """Seconds left before the deadline (zero or more)."""
        return max(0.0, self.deadline - self.clock())

    def check(self, *, until: float | None = None) -> None:
        """Raise :class:`BudgetExhausted` when another request would break a limit."""
        now = self.clock()
        if now >= self.deadline or (until is not None and now >= until):
            raise BudgetExhausted("max_seconds")
        if self.requests >= self.max_requests:
            raise BudgetExhausted("max_requests")
        if self.bytes_read >= self.max_total_bytes:
            raise BudgetExhausted("max_bytes")


@dataclass(frozen=True)
class Page:
    """One answer, as the rules read it."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    """Every header line, names lowercased, in order (so repeated Set-Cookie lines survive)."""
    body: bytes
    truncated: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    @property
    def content_type(self) -> str:
        """The media type without parameters, lowercased ('' when absent)."""
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    @property
    def is_html(self) -> bool:
        """True for an HTML answer (or one without a type whose body looks like HTML)."""
        kind = self.content_type
        if kind:
            return kind in {"text/html", "application/xhtml+xml"}
        return self.body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))

    @property
    def is_textual(self) -> bool:
        """True when the body is text the content rules may read."""
        kind = self.content_type
        return (not kind or kind.startswith("text/") or kind.endswith(("json", "xml",
                "javascript")) or kind == "application/x-www-form-urlencoded")

    @cached_property
    def text(self) -> str:
        """The body decoded with its charset (UTF-8 when unnamed), bad bytes replaced."""
        return self.body.decode(_charset(self.header("content-type")), errors="replace")


def _charset(content_type: str | None) -> str:
    if not content_type:
        return "utf-8"
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    name = charset if isinstance(charset, str) else "utf-8"
    try:
        "".encode(name)
    except LookupError:
        return "utf-8"
    return name


class Fetcher:
    """Sends the scan's GET requests through ``client`` within ``budget``."""

    def __init__(self, client: httpx.Client, budget: Budget, headers: Mapping[str, str],
                 request_timeout_s: float) -> None:
        self.client = client
        self.budget = budget
        self.headers = dict(headers)
        self.request_timeout_s = request_timeout_s

    def get(self, url: str, *, extra_headers: Mapping[str, str] | None = None,
            until: float | None = None) -> Page:
        """GET ``url``; raise :class:`BudgetExhausted` or :class:`FetchFailed`."""
        budget = self.budget
        budget.check(until=until)
        budget.requests += 1
        left = budget.remaining_s() if until is None else min(budget.remaining_s(),
                                                              max(0.0, until - budget.clock()))
        timeout = httpx.Timeout(max(0.05, min(self.request_timeout_s, left)))
        headers = {**self.headers, **(extra_headers or {})}
        try:
            with self.client.stream("GET", url, headers=headers, timeout=timeout) as response:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                for chunk in response.iter_bytes():
                    room = budget.max_response_bytes - size
                    if len(chunk) >= room:
                        chunks.append(chunk[:room])
                        size += room
                        truncated = True
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                budget.bytes_read += size
                return Page(
                    url=url,
                    status=response.status_code,
                    headers=tuple((k.lower(), v) for k, v in response.headers.multi_items()),
                    body=b"".join(chunks),
                    truncated=truncated,
                )
        except httpx.TimeoutException as exc:
            raise FetchFailed(f"no answer within {timeout.read:g}s") from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise FetchFailed(f"invalid URL: {exc}") from exc
