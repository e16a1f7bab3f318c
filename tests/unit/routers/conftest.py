"""Fixtures for the embedded router's tests: real backends on loopback, routers closed after."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from safeship.routers.embedded import EmbeddedOptions, EmbeddedRouter
from tests.contract.router_factories import VersionBackends

MakeRouter = Callable[..., EmbeddedRouter]


@pytest.fixture(scope="module")
def backends() -> Iterator[VersionBackends]:
    """v1 and v2, two instances each."""
    with VersionBackends(("v1", "v2"), instances=2) as running:
        yield running


@pytest.fixture
def make_router(backends: VersionBackends) -> Iterator[MakeRouter]:
    """Builds started routers (keyword arguments become options) with v1 and v2 declared."""
    made: list[EmbeddedRouter] = []

    def make(**options: object) -> EmbeddedRouter:
        router = EmbeddedRouter(EmbeddedOptions.model_validate(options))
        made.append(router)
        router.start()
        router.set_backends(backends.endpoints("v1", "v2"))
        return router

    yield make
    for router in made:
        router.close()


@pytest.fixture
def router(make_router: MakeRouter) -> EmbeddedRouter:
    """A router with default options, v1 and v2 declared, no split yet."""
    return make_router()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A keep-alive HTTP client with a bounded timeout."""
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        yield http

