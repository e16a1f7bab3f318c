"""Fixtures of the router contract suite: one run per router kind, real backends on loopback.

``router_kind`` is parametrized over :data:`tests.contract.router_factories.ROUTER_KINDS`; a
test marked ``router_traffic`` is parametrized only over kinds that carry HTTP traffic, so the
fake never shows up as a skip there. ``router`` is a started router with versions ``v1`` and
``v2`` declared and no split yet; ``traffic`` sends requests through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeship.routers.interface import Router
from tests.contract.router_factories import (
    ROUTER_KINDS,
    FactoryContext,
    RouterKind,
    RouterUnderTest,
    TrafficClient,
    VersionBackends,
)

TRAFFIC_MARK = "router_traffic"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{TRAFFIC_MARK}: drives HTTP traffic through the router (real routers only)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "router_kind" not in metafunc.fixturenames:
        return
    needs_traffic = metafunc.definition.get_closest_marker(TRAFFIC_MARK) is not None
    kinds = [kind for kind in ROUTER_KINDS if kind.carries_traffic or not needs_traffic]
    metafunc.parametrize(
        "router_kind", [pytest.param(kind, id=kind.name, marks=kind.marks) for kind in kinds])


@pytest.fixture(scope="session")
def router_backends() -> Iterator[VersionBackends]:
    """Versions v1, v2 and v3, one instance each, for the whole session."""
    with VersionBackends(("v1", "v2", "v3")) as backends:
        yield backends


@pytest.fixture
def router_under_test(router_kind: RouterKind, router_backends: VersionBackends,
                      tmp_path: Path) -> Iterator[RouterUnderTest]:
    context = FactoryContext(tmp_path, router_backends.endpoints())
    with router_kind.factory(context) as made:
        made.router.set_backends(router_backends.endpoints("v1", "v2"))
        yield made


@pytest.fixture
def router(router_under_test: RouterUnderTest) -> Router:
    return router_under_test.router


@pytest.fixture
def traffic(router_under_test: RouterUnderTest,
            request: pytest.FixtureRequest) -> Iterator[TrafficClient]:
    if router_under_test.url is None:
        pytest.fail(f"{request.node.name} sends traffic: mark it '{TRAFFIC_MARK}'")
    with TrafficClient(router_under_test.url) as client:
        yield client
