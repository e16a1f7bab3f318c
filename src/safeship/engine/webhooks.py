"""Webhook notifications of rollouts: started, step, rollback, promoted (and aborted).

Each configured hook receives a JSON ``POST``: either safeship's generic payload (event, service,
release, version, status, step, weights, reason, time) or, with ``format: slack``, a
Slack-compatible ``{"text": ...}``. Requests go through the injected HTTP client factory with a
timeout, and are retried a bounded number of times with a growing pause.

A notification never blocks or breaks a rollout: by default they are handed to one background
worker through a bounded queue (a full queue drops the notification, with a log line), and every
failure is logged and otherwise ignored. :meth:`WebhookNotifier.close` waits a bounded time for
the queue to drain, so a command line's last notification still goes out before it exits.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship.engine.clock import SystemClock

log = logging.getLogger(__name__)

_QUEUE_SIZE = 256


class WebhookFormat(StrEnum):
    """Payload shapes."""

    JSON = "json"
    SLACK = "slack"


class NotificationKind(StrEnum):
    """What a notification announces."""

    STARTED = "started"
    STEP = "step"
    ROLLBACK = "rollback"
    PROMOTED = "promoted"
    ABORTED = "aborted"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class WebhookConfig:
    """One hook: where, in which shape, for which events, how patiently."""

    url: str
    format: WebhookFormat = WebhookFormat.JSON
    events: frozenset[NotificationKind] = frozenset(NotificationKind)
    timeout_s: float = 5.0
    attempts: int = 3
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    """One thing that happened to a rollout."""

    kind: NotificationKind
    service: str
    release_id: str
    version: str
    status: str
    at: datetime
    reason: str = ""
    step_index: int | None = None
    step_kind: str | None = None
    weights: Mapping[str, float] | None = None

    def payload(self) -> dict[str, Any]:
        """The generic JSON payload."""
        return {
            "event": f"rollout.{self.kind.value}",
            "service": self.service,
            "release_id": self.release_id,
            "version": self.version,
            "status": self.status,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "step": {"index": self.step_index, "kind": self.step_kind},
            "weights": dict(self.weights) if self.weights is not None else None,
        }

    def text(self) -> str:
        """One line a person reads in a chat channel."""
        line = f"safeship: {self.service} {self.version} {self.kind.value}"
        if self.step_kind is not None:
            line += f" (step {self.step_index}: {self.step_kind})"
        if self.weights:
            split = ", ".join(f"{name} {share:g}%" for name, share in self.weights.items())
            line += f" [{split}]"
        if self.reason:
            line += f": {self.reason}"
        return line + f" (release {self.release_id})"


class Notifier:
    """Anything that can announce a rollout's events; the base announces nothing."""

    def notify(self, notification: Notification) -> None:
        """Announce ``notification``; never raises, never blocks for long."""
        return None

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush what is pending, waiting at most ``timeout_s``."""
        return None


class WebhookNotifier(Notifier):
    """Posts notifications to webhooks, from a background worker by default."""

    def __init__(self, hooks: Sequence[WebhookConfig], *,
                 client_factory: HttpClientFactory = default_client_factory,
                 sleep: Callable[[float], None] | None = None, backoff_s: float = 0.5,
                 background: bool = True) -> None:
        self._hooks = tuple(hooks)
        self._factory = client_factory
        self._sleep = sleep or SystemClock().sleep
        self._backoff_s = backoff_s
        self._background = background
        self._queue: queue.Queue[Notification | None] = queue.Queue(maxsize=_QUEUE_SIZE)
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    def notify(self, notification: Notification) -> None:
        """Queue ``notification`` (or send it now when not in the background)."""
        if not any(notification.kind in hook.events for hook in self._hooks):
            return
        if not self._background:
            self._deliver(notification)
            return
        self._ensure_worker()
        try:
            self._queue.put_nowait(notification)
        except queue.Full:
            log.warning("webhook queue full: dropped %s notification of %s",
                        notification.kind.value, notification.service)

    def close(self, timeout_s: float = 5.0) -> None:
        """Let the worker finish what is queued, waiting at most ``timeout_s``."""
        with self._lock:
            worker = self._worker
            self._worker = None
        if worker is None:
            return
        try:
            self._queue.put(None, timeout=max(0.01, timeout_s))
        except queue.Full:  # pragma: no cover - the worker is stuck on a full queue
            return
        worker.join(timeout_s)
        if worker.is_alive():
            log.warning("webhook notifications still pending after %.1f s; not waiting longer",
                        timeout_s)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="safeship-webhooks",
                                                daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._deliver(item)

    def _deliver(self, notification: Notification) -> None:
        for hook in self._hooks:
            if notification.kind in hook.events:
                self._post(hook, notification)

    def _post(self, hook: WebhookConfig, notification: Notification) -> None:
        body = (notification.payload() if hook.format is WebhookFormat.JSON
                else {"text": notification.text()})
        attempts = max(1, hook.attempts)
        for attempt in range(1, attempts + 1):
            try:
                with self._factory(hook.timeout_s) as client:
                    response = client.post(hook.url, json=body, headers=dict(hook.headers))
                if 200 <= response.status_code < 300:
                    self.sent += 1
                    return
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a broken hook must never break a rollout
                problem = f"{type(exc).__name__}: {exc}"
            log.warning("webhook %s for %s %s: attempt %d/%d failed: %s", _display(hook.url),
                        notification.service, notification.kind.value, attempt, attempts,
                        problem)
            if attempt < attempts:
                self._sleep(self._backoff_s * attempt)
        self.failed += 1


def _display(url: str) -> str:
    """The URL without its path and query: webhook URLs often carry a secret token."""
    try:
        parsed = httpx.URL(url)
    except Exception:  # an unparsable URL is shown as nothing rather than leaked
        return "<webhook>"
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
