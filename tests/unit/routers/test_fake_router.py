"""The fake router's own extras: the call log, the history of splits, outages.

Its rules are checked by the router contract suite, beside the real routers.
"""

from __future__ import annotations

import pytest

from safeship.model.endpoints import Endpoint
from safeship.routers.interface import RouterRejected, RouterUnavailable
from safeship.testing.fake_router import FakeRouter, RouterCall

V1 = (Endpoint("127.0.0.1", 8001),)
V2 = (Endpoint("127.0.0.1", 8002),)


def test_calls_and_splits_are_recorded_in_order() -> None:
    router = FakeRouter()
    router.set_backends({"v1": V1, "v2": V2})
    router.set_weights({"v1": 90, "v2": 10})
    with pytest.raises(RouterRejected):
        router.set_weights({"v1": 90})
    router.set_weights({"v1": 0, "v2": 100})
    router.reset()
    router.close()
    assert [call.method for call in router.calls] == [
        "set_backends", "set_weights", "set_weights", "set_weights", "reset", "close"]
    assert router.calls[2] == RouterCall("set_weights", weights={"v1": 90},
                                         refused="weights must add up to 100, got 90")
    assert router.history == [{"v1": 90, "v2": 10}, {"v1": 0, "v2": 100}]


def test_an_outage_makes_every_call_unavailable_until_it_ends() -> None:
    router = FakeRouter()
    router.set_backends({"v1": V1})
    router.set_weights({"v1": 100})
    router.make_unavailable("socket gone")
    with pytest.raises(RouterUnavailable, match="socket gone"):
        router.set_weights({"v1": 100})
    with pytest.raises(RouterUnavailable):
        router.weights()
    assert router.calls[-1].refused == "socket gone"
    router.make_available()
    assert router.weights() == {"v1": 100}
    assert router.backends() == {"v1": list(V1)}


def test_bad_backends_are_refused() -> None:
    router = FakeRouter()
    with pytest.raises(RouterRejected):
        router.set_backends({"v1": ()})
    with pytest.raises(RouterRejected):
        router.set_backends({"": V1})
    assert router.backends() == {}
