"""Keeping the provider current: stream events (the kill switch), polling with ETags, the
fall-back when the stream is unavailable, and what it serves and says when the service goes."""

from __future__ import annotations

import logging

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent
from openfeature.exception import ErrorCode, ProviderNotReadyError
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus

from safeship.flags import changes
from safeship.openfeature import ProviderState, SafeshipProvider
from safeship.server.sse import event_frame
from tests.unit.flags.flag_samples import boolean_flag, string_flag
from tests.unit.openfeature.conftest import ConnectFn
from tests.unit.openfeature.fake_service import URL, FakeFlagService, wait_until

USER = EvaluationContext("user-7")


def test_the_kill_switch_propagates_through_the_stream(connect: ConnectFn) -> None:
    flag = boolean_flag("checkout")
    service = FakeFlagService(flag, string_flag("theme"))
    connected = connect(service)
    client = connected.client
    wait_until(lambda: connected.provider.sync_state.streaming, message="streaming")
    assert client.get_boolean_value("checkout", False, USER) is True
    fetched = service.requests.count("/v1/snapshot")
    service.set_flag(changes.kill(flag), action="kill")
    wait_until(lambda: client.get_boolean_value("checkout", True, USER) is False,
               message="the kill reached the provider")
    details = client.get_boolean_details("checkout", True, USER)
    assert (details.variant, details.reason) == ("off", Reason.DISABLED)
    assert details.flag_metadata["flag_version"] == 2
    # Applied from the event itself: no snapshot was fetched for it.
    assert service.requests.count("/v1/snapshot") == fetched
    wait_until(lambda: connected.emitted(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED),
               message="configuration-changed event")
    [changed] = connected.emitted(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    assert changed.flags_changed == ["checkout"]


def test_stale_events_are_ignored_and_bad_ones_skipped(connect: ConnectFn) -> None:
    flag = boolean_flag("checkout")
    service = FakeFlagService(flag)
    connected = connect(service)
    wait_until(lambda: connected.provider.sync_state.streaming, message="streaming")
    # An event about flag version 1 (which the provider holds) must not take it back.
    service.put(event_frame("change", {"version": 1, "flag": "checkout", "flag_version": 1,
                                       "definition": {"key": "checkout"}}))
    service.put(b"event: change\ndata: not json\n\n")
    service.put(event_frame("change", {"flag": "checkout"}))
    service.set_flag(changes.disable(flag, "production"))
    wait_until(lambda: connected.provider.sync_state.snapshot_version == 2, message="v2")
    assert connected.client.get_boolean_details("checkout", True, USER).reason == (
        Reason.DISABLED)


def test_stale_when_the_service_goes_and_ready_when_it_returns(
        connect: ConnectFn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="safeship.openfeature")
    flag = boolean_flag("checkout")
    service = FakeFlagService(flag)
    connected = connect(service)
    provider, client = connected.provider, connected.client
    wait_until(lambda: provider.sync_state.streaming, message="streaming")
    assert not provider.is_stale
    service.down = True
    wait_until(lambda: provider.is_stale, message="stale")
    state = provider.sync_state
    assert state.state is ProviderState.STALE
    assert state.stale_since is not None
    assert state.stale_since == provider.stale_since
    assert state.last_sync is not None
    assert state.last_sync <= state.stale_since
    assert "unreachable" in (state.last_error or "")
    assert not state.streaming
    details = client.get_boolean_details("checkout", False, USER)
    assert (details.value, details.variant, details.reason) == (True, "on", Reason.STALE)
    assert details.flag_metadata["reason"] == "STATIC"
    assert details.error_code is None
    wait_until(lambda: connected.emitted(ProviderEvent.PROVIDER_STALE), message="stale event")
    assert client.get_provider_status() is ProviderStatus.STALE
    assert "unreachable since" in caplog.text
    assert "serving the last known flags" in caplog.text
    # Changes made while it was away arrive when it is back.
    service.set_flag(changes.kill(flag), action="kill")
    service.down = False
    wait_until(lambda: not provider.is_stale, message="back in touch")
    wait_until(lambda: client.get_boolean_value("checkout", True, USER) is False,
               message="the missed kill")
    assert provider.sync_state.state is ProviderState.READY
    wait_until(lambda: client.get_provider_status() is ProviderStatus.READY,
               message="READY status")
    assert "answers again" in caplog.text
    assert caplog.text.count("unreachable since") == 1  # one log line per outage


def test_a_refused_token_is_an_error_and_keeps_the_last_flags(
        connect: ConnectFn, caplog: pytest.LogCaptureFixture) -> None:
    service = FakeFlagService(boolean_flag("checkout"))
    connected = connect(service)
    wait_until(lambda: connected.provider.sync_state.streaming, message="streaming")
    service.status = 401
    service.end_streams()
    wait_until(lambda: connected.provider.sync_state.state is ProviderState.ERROR,
               message="error state")
    wait_until(lambda: connected.emitted(ProviderEvent.PROVIDER_ERROR), message="error event")
    assert connected.client.get_provider_status() is ProviderStatus.ERROR
    assert "refused the token (401)" in caplog.text
    details = connected.client.get_boolean_details("checkout", False, USER)
    assert (details.value, details.reason) == (True, Reason.STALE)
    service.status = None
    wait_until(lambda: connected.provider.sync_state.state is ProviderState.READY,
               message="recovered")


def test_init_timeout_is_an_error_then_ready_once_flags_arrive(connect: ConnectFn) -> None:
    service = FakeFlagService(boolean_flag("checkout"))
    service.down = True
    connected = connect(service, wait=False, init_timeout_s=0.05)
    client = connected.client
    wait_until(lambda: client.get_provider_status() is ProviderStatus.ERROR,
               message="ERROR after the init timeout")
    service.down = False
    wait_until(lambda: client.get_provider_status() is ProviderStatus.READY,
               message="READY after the first snapshot")
    assert client.get_boolean_value("checkout", False, USER) is True
    assert connected.emitted(ProviderEvent.PROVIDER_READY)


def test_initialize_raises_provider_not_ready_in_time() -> None:
    service = FakeFlagService(boolean_flag("checkout"))
    service.down = True
    provider = SafeshipProvider(URL, token="x" * 20, client_factory=service.client_factory,
                                init_timeout_s=0.05)
    try:
        with pytest.raises(ProviderNotReadyError, match="still trying in the background"):
            provider.initialize()
    finally:
        provider.shutdown()


def test_a_provider_without_a_token_is_not_ready(connect: ConnectFn) -> None:
    service = FakeFlagService(boolean_flag("checkout"))
    connected = connect(service, wait=False, token="wrong-" + "x" * 20, init_timeout_s=0.05)
    wait_until(lambda: connected.provider.sync_state.state is ProviderState.ERROR,
               message="refused")
    details = connected.client.get_boolean_details("checkout", False, USER)
    assert details.error_code == ErrorCode.PROVIDER_NOT_READY
    assert connected.provider.stale_since is None  # nothing held, so nothing stale


def test_polling_uses_etags(connect: ConnectFn) -> None:
    flag = boolean_flag("checkout")
    service = FakeFlagService(flag)
    connected = connect(service, stream=False)
    wait_until(lambda: service.not_modified >= 2, message="304 answers")
    assert "/v1/stream" not in service.requests
    service.set_flag(changes.kill(flag), action="kill")
    wait_until(lambda: connected.client.get_boolean_value("checkout", True, USER) is False,
               message="the kill, polled")
    assert not connected.provider.sync_state.streaming


def test_without_a_stream_endpoint_it_polls(connect: ConnectFn) -> None:
    flag = boolean_flag("checkout")
    service = FakeFlagService(flag)
    service.stream_status = 404
    connected = connect(service)
    service.set_flag(changes.kill(flag), action="kill")
    wait_until(lambda: connected.client.get_boolean_value("checkout", True, USER) is False,
               message="the kill, polled")
    assert not connected.provider.is_stale
    assert not connected.provider.sync_state.streaming
    assert service.requests.count("/v1/stream") >= 1


def test_a_dropped_stream_reconnects_and_resync_refetches(connect: ConnectFn) -> None:
    flag = boolean_flag("checkout")
    service = FakeFlagService(flag)
    connected = connect(service)
    wait_until(lambda: service.open_streams == 1, message="stream open")
    service.end_streams()
    wait_until(lambda: service.requests.count("/v1/stream") >= 2, message="reconnected")
    wait_until(lambda: service.open_streams == 1, message="stream open again")
    before = service.requests.count("/v1/snapshot")
    service.put(event_frame("resync", {"version": service.version}))
    wait_until(lambda: service.requests.count("/v1/snapshot") > before, message="refetched")
    assert not connected.provider.is_stale


def test_direct_use_without_the_sdk() -> None:
    service = FakeFlagService(boolean_flag("checkout"))
    provider = SafeshipProvider(URL, token="x" * 20, client_factory=service.client_factory,
                                init_timeout_s=0.05)
    assert provider.get_metadata().name == "safeship"
    assert provider.environment == "production"
    assert provider.sync_state.state is ProviderState.NOT_READY
    assert provider.sync_state.snapshot_version is None
    provider.shutdown()
    with pytest.raises(ProviderNotReadyError):
        provider.initialize()  # a provider that was shut down does not start again
    assert service.requests == []
