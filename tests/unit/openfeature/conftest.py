"""Fixtures of the provider tests: providers on a fake service, set through ``openfeature.api``
under their own domain, and shut down after each test."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.event import EventDetails, ProviderEvent

from safeship.openfeature import SafeshipProvider
from tests.unit.openfeature.fake_service import TOKEN, URL, FakeFlagService

_domains = itertools.count(1)


@dataclass
class Connected:
    """A provider, its OpenFeature client, and the events it emitted."""

    provider: SafeshipProvider
    client: OpenFeatureClient
    events: list[tuple[ProviderEvent, EventDetails]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, event: ProviderEvent) -> Callable[[EventDetails], None]:
        def handler(details: EventDetails) -> None:
            with self._lock:
                self.events.append((event, details))
        return handler

    def emitted(self, event: ProviderEvent) -> list[EventDetails]:
        with self._lock:
            return [details for kind, details in self.events if kind is event]


ConnectFn = Callable[..., Connected]


@pytest.fixture
def connect() -> Iterator[ConnectFn]:
    """Build a provider on a fake service and set it (waiting for init unless told not to)."""
    made: list[SafeshipProvider] = []

    def build(service: FakeFlagService, *, wait: bool = True, token: str = TOKEN,
              **options: Any) -> Connected:
        options.setdefault("refresh_interval_s", 0.05)
        options.setdefault("init_timeout_s", 2.0)
        provider = SafeshipProvider(URL, token=token, client_factory=service.client_factory,
                                    **options)
        made.append(provider)
        domain = f"safeship-test-{next(_domains)}"
        client = api.get_client(domain)
        connected = Connected(provider, client)
        for event in ProviderEvent:
            client.add_handler(event, connected.record(event))
        if wait:
            api.set_provider_and_wait(provider, domain)
        else:
            api.set_provider(provider, domain)
        return connected

    yield build
    for provider in made:
        provider.shutdown()
    api.clear_providers()
