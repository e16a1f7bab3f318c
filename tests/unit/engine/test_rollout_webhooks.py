"""Webhook notifications: payloads, bounded retries, and never blocking a rollout."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship.engine.rollout_state import RolloutStatus
from safeship.engine.webhooks import (
    Notification,
    NotificationKind,
    Notifier,
    WebhookConfig,
    WebhookFormat,
    WebhookNotifier,
)
from tests.unit.engine.test_rollout_harness import Harness, harness

__all__ = ["harness"]

AT = datetime(2026, 1, 1, tzinfo=UTC)
NOTE = Notification(NotificationKind.ROLLBACK, "shop", "r1", "v2", "rolling_back", AT,
                    "error rate doubled", 3, "analyze", {"v1": 100.0, "v2": 0.0})


class Recorder:
    """An HTTP endpoint that fails its first ``failures`` requests."""

    def __init__(self, failures: int = 0, status: int = 500, delay: threading.Event | None
                 = None) -> None:
        self.failures = failures
        self.status = status
        self.delay = delay
        self.bodies: list[dict[str, object]] = []
        self.attempts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.delay is not None:
            self.delay.wait(5)
        if self.attempts <= self.failures:
            if self.status == 0:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(self.status)
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200)


def notifier(recorder: Recorder, *, background: bool = False,
             **hook: object) -> WebhookNotifier:
    config = WebhookConfig("https://hooks.example.com/T000/SECRET", **hook)  # type: ignore[arg-type]
    return WebhookNotifier([config],
                           client_factory=client_factory_with_transport(
                               httpx.MockTransport(recorder)),
                           sleep=lambda s: None, background=background)


def test_the_generic_payload() -> None:
    recorder = Recorder()
    notifier(recorder).notify(NOTE)
    [body] = recorder.bodies
    assert body == {"event": "rollout.rollback", "service": "shop", "release_id": "r1",
                    "version": "v2", "status": "rolling_back", "at": AT.isoformat(),
                    "reason": "error rate doubled", "step": {"index": 3, "kind": "analyze"},
                    "weights": {"v1": 100.0, "v2": 0.0}}


def test_the_slack_payload() -> None:
    recorder = Recorder()
    notifier(recorder, format=WebhookFormat.SLACK).notify(NOTE)
    assert recorder.bodies == [{"text": "safeship: shop v2 rollback (step 3: analyze) "
                                        "[v1 100%, v2 0%]: error rate doubled (release r1)"}]


@pytest.mark.parametrize("status", [500, 0])
def test_failures_are_retried_a_bounded_number_of_times(status: int,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    recorder = Recorder(failures=2, status=status)
    sender = notifier(recorder, attempts=3)
    sender.notify(NOTE)
    assert recorder.attempts == 3
    assert sender.sent == 1
    hopeless = Recorder(failures=99, status=status)
    sender = notifier(hopeless, attempts=3)
    sender.notify(NOTE)
    assert hopeless.attempts == 3
    assert sender.failed == 1
    assert "attempt 3/3 failed" in caplog.text
    assert "SECRET" not in caplog.text  # the URL's token never reaches the logs


def test_only_chosen_events_are_sent() -> None:
    recorder = Recorder()
    sender = notifier(recorder, events=frozenset({NotificationKind.PROMOTED}))
    sender.notify(NOTE)
    assert recorder.attempts == 0


def test_the_base_notifier_does_nothing() -> None:
    Notifier().notify(NOTE)
    Notifier().close()


def test_a_slow_webhook_does_not_block_and_close_flushes() -> None:
    gate = threading.Event()
    recorder = Recorder(delay=gate)
    sender = notifier(recorder, background=True)
    sender.notify(NOTE)
    sender.notify(NOTE)  # returns at once although the first is still in flight
    assert len(recorder.bodies) == 0
    gate.set()
    sender.close(timeout_s=5)
    assert len(recorder.bodies) == 2
    sender.close()  # closing twice is harmless


def test_a_rollout_notifies_and_survives_broken_webhooks(harness: Harness) -> None:
    harness.run_v1()
    ok = Recorder()
    broken = Recorder(failures=10_000, status=503)
    harness.notifier = WebhookNotifier(
        [WebhookConfig("https://ok.example.com/hook"),
         WebhookConfig("https://down.example.com/hook", attempts=2)],
        client_factory=lambda timeout: httpx.Client(transport=httpx.MockTransport(
            lambda request: (ok if request.url.host == "ok.example.com" else broken)(
                request))),
        sleep=lambda s: None, background=True)
    outcome = harness.start()
    harness.notifier.close(timeout_s=10)
    assert outcome.status is RolloutStatus.SUCCEEDED
    events = [body["event"] for body in ok.bodies]
    assert events[0] == "rollout.started"
    assert events.count("rollout.step") == 12
    assert events[-1] == "rollout.promoted"
    assert broken.attempts == 2 * len(ok.bodies)


def test_a_rollback_is_announced(harness: Harness) -> None:
    from safeship.model.analysis import Decision

    harness.run_v1()
    harness.judge.by_percentage = {5.0: Decision.ROLLBACK}
    ok = Recorder()
    harness.notifier = notifier(ok)
    assert harness.start().status is RolloutStatus.ROLLED_BACK
    events = [body["event"] for body in ok.bodies]
    assert "rollout.rollback" in events
    assert events[-1] == "rollout.rolled_back"
