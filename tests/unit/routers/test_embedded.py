"""The embedded router end to end on loopback: admin API, metrics, failures, stickiness, close.

Traffic goes through a real :class:`EmbeddedRouter` to the real backends of
:class:`~tests.contract.router_factories.VersionBackends`. Counts and orders are asserted,
never durations.
"""

from __future__ import annotations

import http.client
import logging
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from safeship.metrics.builtin import BuiltinProvider
from safeship.metrics.interface import TimeRange
from safeship.model.canary import Scope
from safeship.model.endpoints import Endpoint
from safeship.routers import embedded_options
from safeship.routers.embedded import EmbeddedOptions, EmbeddedRouter
from safeship.routers.embedded_metrics import LATENCY_BUCKETS
from safeship.routers.embedded_options import STICKY_COOKIE
from safeship.routers.interface import PIN_HEADER, RouterRejected, RouterUnavailable
from tests.contract.router_factories import BROKEN_BODY_PROMISED, VersionBackends

MakeRouter = Callable[..., EmbeddedRouter]
"""The ``make_router`` fixture: keyword arguments become options; v1 and v2 declared."""


def _auth(router: EmbeddedRouter) -> dict[str, str]:
    return {"Authorization": f"Bearer {router.admin_token}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _closed_endpoint() -> Endpoint:
    return Endpoint("127.0.0.1", _free_port())


def _versions(client: httpx.Client, url: str, n: int, **kwargs: object) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _ in range(n):
        response = client.get(url, **kwargs)  # type: ignore[arg-type]
        counts[response.text.strip() if response.status_code == 200
               else f"status:{response.status_code}"] += 1
    return counts


# --- lifecycle ----------------------------------------------------------------------------------


def test_start_binds_loopback_on_free_ports_and_returns_the_address() -> None:
    with EmbeddedRouter() as router:
        address = router.start()  # idempotent
        assert address == router.address
        assert address.host == "127.0.0.1"
        assert address.port > 0
        assert router.admin_address.host == "127.0.0.1"
        assert router.admin_address.port not in (0, address.port)


def test_close_leaves_no_thread_and_frees_both_ports(backends: VersionBackends,
                                                     client: httpx.Client) -> None:
    router = EmbeddedRouter()
    router.start()
    router.set_backends(backends.endpoints("v1"))
    router.set_weights({"v1": 100})
    assert client.get(router.url + "/").text == "v1\n"  # leaves a keep-alive connection open
    ports = (router.address.port, router.admin_address.port)
    ours = [t for t in threading.enumerate() if t.name.startswith("safeship-embedded-router")]
    assert len(ours) == 1
    router.close()
    assert not ours[0].is_alive()
    assert not [t for t in threading.enumerate() if t is ours[0]]
    for port in ports:
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass
        with socket.socket() as rebind:
            rebind.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            rebind.bind(("127.0.0.1", port))  # raises if anything still listens there
    router.close()  # idempotent
    with pytest.raises(RouterUnavailable):
        router.set_weights({"v1": 100})
    with pytest.raises(RouterUnavailable):
        router.start()


def test_a_port_in_use_is_unavailable_and_leaves_no_thread() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        router = EmbeddedRouter(EmbeddedOptions(listen=f"127.0.0.1:{port}"))
        before = {t.ident for t in threading.enumerate()}
        with pytest.raises(RouterUnavailable, match="could not listen"):
            router.start()
        after = [t for t in threading.enumerate() if t.ident not in before]
        assert not [t for t in after if t.name.startswith("safeship-embedded-router")]


def test_configuration_before_start_is_kept(backends: VersionBackends,
                                            client: httpx.Client) -> None:
    router = EmbeddedRouter()
    router.set_backends(backends.endpoints("v1", "v2"))
    router.set_weights({"v1": 0, "v2": 100})
    with router:
        assert client.get(router.url + "/x").text == "v2\n"


# --- the admin API ------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [
    None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer", "Token abc",
])
def test_admin_refuses_a_missing_or_wrong_token(router: EmbeddedRouter, client: httpx.Client,
                                                authorization: str | None) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path, body in (("GET", "/weights", None), ("GET", "/metrics", None),
                               ("PUT", "/weights", {"weights": {"v1": 0, "v2": 100}})):
        response = client.request(method, router.admin_url + path, headers=headers, json=body)
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert router.admin_token not in response.text
    assert router.weights() == {"v1": 100, "v2": 0}


def test_admin_healthz_needs_no_token(router: EmbeddedRouter, client: httpx.Client) -> None:
    response = client.get(router.admin_url + "/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_admin_put_and_get_weights(router: EmbeddedRouter, client: httpx.Client) -> None:
    response = client.put(router.admin_url + "/weights", headers=_auth(router),
                          json={"weights": {"v1": 30, "v2": 70}})
    assert response.status_code == 200
    assert response.json()["weights"] == {"v1": 30.0, "v2": 70.0}
    assert router.weights() == {"v1": 30.0, "v2": 70.0}
    state = client.get(router.admin_url + "/weights", headers=_auth(router)).json()
    assert state["weights"] == {"v1": 30.0, "v2": 70.0}
    assert set(state["backends"]) == {"v1", "v2"}
    assert all(len(endpoints) == 2 for endpoints in state["backends"].values())


@pytest.mark.parametrize(("body", "status"), [
    (b'{"weights": {"v1": 60, "v2": 30}}', 422),
    (b'{"weights": {"v1": 50, "nope": 50}}', 422),
    (b'{"weights": {"v1": -5, "v2": 105}}', 422),
    (b'{"weights": {}}', 422),
    (b"not json", 400),
    (b'{"v1": 100}', 400),
    (b'{"weights": {"v1": "100"}}', 400),
    (b'{"weights": {"v1": true}}', 400),
    (b'{"weights": {"v1": Infinity}}', 400),
])
def test_admin_refuses_bad_weights_and_keeps_the_split(router: EmbeddedRouter,
                                                       client: httpx.Client, body: bytes,
                                                       status: int) -> None:
    router.set_weights({"v1": 90, "v2": 10})
    response = client.put(router.admin_url + "/weights", content=body,
                          headers={**_auth(router), "Content-Type": "application/json"})
    assert response.status_code == status
    assert "error" in response.json()
    assert router.weights() == {"v1": 90.0, "v2": 10.0}


def test_admin_token_from_options_is_used_and_never_shown() -> None:
    token = "a-very-long-admin-token-0123456789"
    options = EmbeddedOptions(admin_token=token)
    assert token not in repr(options)
    assert token not in str(options.model_dump())
    with EmbeddedRouter(options) as router, httpx.Client(timeout=10.0) as client:
        assert router.admin_token == token
        response = client.get(router.admin_url + "/weights",
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200


def test_generated_tokens_are_long_and_distinct() -> None:
    first, second = EmbeddedRouter(), EmbeddedRouter()
    assert len(first.admin_token) >= 32
    assert first.admin_token != second.admin_token


# --- unsafe admin bind --------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["0.0.0.0:0", "[::]:9000", "192.0.2.10:8080",
                                     "example.org:8080"])
def test_a_non_loopback_admin_bind_is_refused_without_the_flag(address: str) -> None:
    with pytest.raises(ValidationError, match="unsafe_admin_bind"):
        EmbeddedOptions(admin_listen=address)
    assert EmbeddedOptions(admin_listen=address, unsafe_admin_bind=True).unsafe_admin_bind


def test_start_refuses_a_non_loopback_admin_that_skipped_validation() -> None:
    options = EmbeddedOptions.model_construct(admin_listen="0.0.0.0:0", unsafe_admin_bind=False)
    router = EmbeddedRouter(options)
    with pytest.raises(RouterRejected, match="not loopback"):
        router.start()
    assert not [t for t in threading.enumerate()
                if t.name == f"safeship-embedded-router-{id(router):x}"]


def test_an_unsafe_admin_bind_warns_at_every_start(monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    # Tests bind loopback only: pretend 127.0.0.1 is a public address.
    monkeypatch.setattr(embedded_options, "is_loopback_host", lambda host: False)
    options = EmbeddedOptions(admin_listen="127.0.0.1:0", unsafe_admin_bind=True)
    caplog.set_level(logging.WARNING, logger="safeship.routers.embedded")
    for _ in range(2):
        with EmbeddedRouter(options):
            pass
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and "UNSAFE" in r.getMessage()]
    assert len(warnings) == 2


def test_a_loopback_admin_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="safeship.routers.embedded")
    with EmbeddedRouter(EmbeddedOptions(unsafe_admin_bind=True)):
        pass
    assert not [r for r in caplog.records if "UNSAFE" in r.getMessage()]


# --- metrics ------------------------------------------------------------------------------------


def _families(router: EmbeddedRouter, client: httpx.Client) -> dict[str, list[tuple[str, dict[
        str, str], float]]]:
    response = client.get(router.admin_url + "/metrics", headers=_auth(router))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        samples[family.name] = [(s.name, dict(s.labels), s.value) for s in family.samples]
    return samples


def test_metrics_exposition_parses_and_matches_traffic(router: EmbeddedRouter,
                                                       client: httpx.Client) -> None:
    router.set_weights({"v1": 90, "v2": 10})
    assert _versions(client, router.url + "/", 100) == Counter({"v1": 90, "v2": 10})
    pin_v2 = router.pin_headers("v2")
    for _ in range(3):
        assert client.get(router.url + "/status/503", headers=pin_v2).status_code == 503
    assert client.get(router.url + "/status/404", headers=pin_v2).status_code == 404

    families = _families(router, client)
    requests = {(labels["version"], labels["code_class"]): value
                for name, labels, value in families["safeship_router_requests"]
                if name == "safeship_router_requests_total"}
    assert requests == {("v1", "2xx"): 90, ("v2", "2xx"): 10, ("v2", "5xx"): 3, ("v2", "4xx"): 1}

    histogram = families["safeship_router_request_duration_seconds"]
    for version, total in (("v1", 90), ("v2", 14)):
        buckets = {labels["le"]: value for name, labels, value in histogram
                   if name.endswith("_bucket") and labels["version"] == version}
        assert len(buckets) == len(LATENCY_BUCKETS) + 1
        assert buckets["+Inf"] == total
        ordered = [buckets[le] for le in sorted(buckets, key=float)]
        assert ordered == sorted(ordered)
        count = [v for n, labels, v in histogram
                 if n.endswith("_count") and labels["version"] == version]
        assert count == [total]
    weights = {labels["version"]: value
               for _, labels, value in families["safeship_router_weight_percent"]}
    assert weights == {"v1": 90, "v2": 10}


def test_snapshots_count_requests_errors_and_latency(router: EmbeddedRouter,
                                                     client: httpx.Client) -> None:
    router.set_weights({"v1": 50, "v2": 50})
    assert router.snapshot("v1").requests == 0
    _versions(client, router.url + "/", 40)
    for _ in range(5):
        client.get(router.url + "/status/500", headers=router.pin_headers("v1"))
    v1, v2 = router.snapshot("v1"), router.snapshot("v2")
    assert (v1.requests, v1.errors) == (25, 5)
    assert (v2.requests, v2.errors) == (20, 0)
    assert v1.latency_buckets[float("inf")] == 25
    assert list(v1.latency_buckets) == [*LATENCY_BUCKETS, float("inf")]
    assert list(v1.latency_buckets.values()) == sorted(v1.latency_buckets.values())
    never = router.snapshot("v9")
    assert (never.requests, never.errors) == (0, 0)


def test_the_builtin_provider_reads_the_router(router: EmbeddedRouter,
                                               client: httpx.Client) -> None:
    router.set_weights({"v1": 80, "v2": 20})
    # The router is a CounterSource: the builtin provider reads its snapshots directly.
    scope = Scope(baseline="v1", canary="v2")
    provider = BuiltinProvider(router, scope=scope)
    provider.sample(1000.0)
    _versions(client, router.url + "/", 50)
    client.get(router.url + "/status/502", headers=router.pin_headers("v2"))
    provider.sample(1010.0)
    window = TimeRange(990.0, 1020.0, 10.0)
    assert [s.requests for s in provider.snapshots("v1", window)] == [0, 40]
    assert [s.errors for s in provider.snapshots("v2", window)] == [0, 1]


# --- failures -----------------------------------------------------------------------------------


def test_a_dead_backend_gives_502_counted_as_an_error(router: EmbeddedRouter,
                                                      client: httpx.Client,
                                                      backends: VersionBackends) -> None:
    router.set_backends({"v1": backends.endpoints("v1")["v1"], "v2": [_closed_endpoint()]})
    router.set_weights({"v1": 0, "v2": 100})
    responses = [client.get(router.url + "/") for _ in range(3)]
    assert [r.status_code for r in responses] == [502, 502, 502]
    assert "unreachable" in responses[0].text
    snapshot = router.snapshot("v2")
    assert (snapshot.requests, snapshot.errors) == (3, 3)
    assert router.snapshot("v1").requests == 0


def test_an_upstream_timeout_gives_504_counted_as_an_error(make_router: MakeRouter,
                                                           client: httpx.Client) -> None:
    router = make_router(upstream_timeout=0.05)
    router.set_weights({"v1": 100, "v2": 0})
    response = client.get(router.url + "/slow/2000")
    assert response.status_code == 504
    assert (router.snapshot("v1").requests, router.snapshot("v1").errors) == (1, 1)
    assert client.get(router.url + "/").text == "v1\n"


def test_an_upstream_5xx_is_passed_through_and_counted(router: EmbeddedRouter,
                                                       client: httpx.Client) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    response = client.get(router.url + "/status/500")
    assert (response.status_code, response.text) == (500, "v1\n")
    assert router.snapshot("v1").errors == 1


def test_a_body_broken_by_the_upstream_is_cut_and_counted(router: EmbeddedRouter,
                                                          client: httpx.Client) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(router.url + "/broken")
    assert router.snapshot("v1").errors == 1
    assert client.get(router.url + "/").text == "v1\n"  # the router carries on
    assert BROKEN_BODY_PROMISED > 10


def test_no_split_answers_503_and_an_unknown_pin_too(router: EmbeddedRouter,
                                                     client: httpx.Client) -> None:
    assert client.get(router.url + "/").status_code == 503
    router.set_weights({"v1": 100, "v2": 0})
    response = client.get(router.url + "/", headers={PIN_HEADER: "v7"})
    assert response.status_code == 503
    assert "v7" in response.text
    assert router.snapshot("v7").requests == 0
    unrouted = [line for line in router.metrics_text().decode().splitlines()
                if line.startswith("safeship_router_unrouted_total")]
    assert unrouted == ["safeship_router_unrouted_total 2.0"]


# --- routing ------------------------------------------------------------------------------------


def test_endpoints_of_a_version_take_turns(router: EmbeddedRouter, client: httpx.Client) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    instances = Counter(client.get(router.url + "/").headers["X-Backend-Instance"]
                        for _ in range(20))
    assert instances == Counter({"v1#0": 10, "v1#1": 10})


def test_the_answer_names_the_version(router: EmbeddedRouter, client: httpx.Client) -> None:
    router.set_weights({"v1": 0, "v2": 100})
    assert client.get(router.url + "/").headers[PIN_HEADER] == "v2"


def test_sticky_cookie_keeps_a_client_on_its_version(make_router: MakeRouter) -> None:
    router = make_router(sticky="cookie")
    router.set_weights({"v1": 50, "v2": 50})
    with httpx.Client(timeout=10.0) as fresh:
        unsticky = [fresh.get(router.url + "/", headers={"Cookie": ""}).text for _ in range(4)]
    assert set(unsticky) == {"v1\n", "v2\n"}  # without the cookie, the split alternates
    with httpx.Client(timeout=10.0) as browser:  # keeps cookies like a browser
        first = browser.get(router.url + "/")
        chosen = first.text.strip()
        assert first.cookies[STICKY_COOKIE] == chosen
        assert _versions(browser, router.url + "/", 20) == Counter({chosen: 20})
        other = "v2" if chosen == "v1" else "v1"
        router.set_weights({chosen: 0, other: 100})  # a rollback moves sticky clients too
        moved = browser.get(router.url + "/")
        assert moved.text.strip() == other
        assert browser.cookies[STICKY_COOKIE] == other


def test_sticky_header_maps_each_value_to_one_version(make_router: MakeRouter,
                                                      client: httpx.Client) -> None:
    router = make_router(sticky="header:X-User")
    router.set_weights({"v1": 50, "v2": 50})
    seen: dict[str, set[str]] = {}
    for user in range(60):
        for _ in range(3):
            answer = client.get(router.url + "/", headers={"X-User": f"user-{user}"}).text
            seen.setdefault(f"user-{user}", set()).add(answer.strip())
    assert all(len(versions) == 1 for versions in seen.values())
    assert Counter(next(iter(v)) for v in seen.values()).keys() == {"v1", "v2"}
    pinned = client.get(router.url + "/", headers={"X-User": "user-1",
                                                   **router.pin_headers("v1")})
    assert pinned.text == "v1\n"
    assert "set-cookie" not in pinned.headers


# --- proxying -----------------------------------------------------------------------------------


@pytest.fixture
def v1_only(router: EmbeddedRouter) -> EmbeddedRouter:
    router.set_weights({"v1": 100, "v2": 0})
    return router


def test_hop_by_hop_headers_are_dropped_and_forwarding_headers_added(
        v1_only: EmbeddedRouter, client: httpx.Client) -> None:
    response = client.get(v1_only.url + "/headers?a=1&b=%20x", headers={
        "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "1", "Keep-Alive": "timeout=5",
        "TE": "trailers", "Proxy-Authorization": "Basic abc", "X-Keep": "yes",
        "X-Forwarded-For": "10.0.0.1"})
    seen = response.json()
    headers = seen["headers"]
    for dropped in ("x-drop-me", "keep-alive", "te", "proxy-authorization"):
        assert dropped not in headers
    assert headers["x-keep"] == ["yes"]
    assert headers["x-forwarded-for"] == ["10.0.0.1, 127.0.0.1"]
    assert headers["x-forwarded-proto"] == ["http"]
    assert headers["host"] == [f"{v1_only.address}"]
    assert headers["x-forwarded-host"] == [f"{v1_only.address}"]
    assert seen["path_qs"] == "/headers?a=1&b=%20x"
    assert "keep-alive" not in response.headers


def test_the_proxy_adds_no_request_headers_of_its_own(v1_only: EmbeddedRouter) -> None:
    connection = http.client.HTTPConnection(v1_only.address.host, v1_only.address.port,
                                            timeout=10)
    try:
        connection.putrequest("GET", "/headers", skip_accept_encoding=True)
        connection.endheaders()
        seen = connection.getresponse().read()
    finally:
        connection.close()
    headers = httpx.Response(200, content=seen).json()["headers"]
    for added in ("user-agent", "accept", "accept-encoding", "content-type"):
        assert added not in headers


def test_request_bodies_stream_through_chunked_and_sized(v1_only: EmbeddedRouter,
                                                         client: httpx.Client) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start:start + 65536]

    chunked = client.post(v1_only.url + "/echo", content=chunks())
    assert chunked.content == payload
    assert chunked.headers["X-Echo-Transfer-Encoding"] == "chunked"
    sized = client.put(v1_only.url + "/echo", content=payload)
    assert sized.content == payload
    assert sized.headers["X-Echo-Content-Length"] == str(len(payload))


def test_response_bodies_stream_and_keep_their_encoding(v1_only: EmbeddedRouter,
                                                        client: httpx.Client) -> None:
    with client.stream("GET", v1_only.url + "/stream/200") as streamed:
        lines = [line for line in streamed.iter_lines() if line]
    assert lines == [f"v1-chunk-{i}" for i in range(200)]
    compressed = client.get(v1_only.url + "/gzip", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.text == "v1\n" * 100


def test_repeated_response_headers_survive(v1_only: EmbeddedRouter,
                                           client: httpx.Client) -> None:
    response = client.get(v1_only.url + "/cookies")
    assert sorted(response.headers.get_list("set-cookie")) == [
        "a=1; Path=/", "b=2; Path=/"]


def test_head_requests_get_headers_only(v1_only: EmbeddedRouter, client: httpx.Client) -> None:
    response = client.head(v1_only.url + "/")
    assert response.status_code == 200
    assert response.content == b""
    assert client.get(v1_only.url + "/").text == "v1\n"  # the connection is still good


# --- requests in flight -------------------------------------------------------------------------


def _slow_get_in_thread(url: str) -> tuple[threading.Thread, list[httpx.Response | Exception]]:
    results: list[httpx.Response | Exception] = []

    def run() -> None:
        try:
            with httpx.Client(timeout=10.0) as own:
                results.append(own.get(url))
        except Exception as exc:  # reported through results
            results.append(exc)

    thread = threading.Thread(target=run, name="slow-request")
    thread.start()
    return thread, results


def test_a_request_in_flight_finishes_where_it_started_when_weights_flip(
        router: EmbeddedRouter, backends: VersionBackends, client: httpx.Client) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    arrived = backends.slow_arrivals
    thread, results = _slow_get_in_thread(router.url + "/slow/300")
    assert backends.wait_for_slow_arrivals(arrived + 1)
    router.set_weights({"v1": 0, "v2": 100})
    assert client.get(router.url + "/").text == "v2\n"
    thread.join(15)
    assert not thread.is_alive()
    [response] = results
    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.text) == (200, "v1\n")


def test_close_lets_a_request_in_flight_finish(backends: VersionBackends) -> None:
    router = EmbeddedRouter()
    router.start()
    router.set_backends(backends.endpoints("v1"))
    router.set_weights({"v1": 100})
    arrived = backends.slow_arrivals
    thread, results = _slow_get_in_thread(router.url + "/slow/300")
    assert backends.wait_for_slow_arrivals(arrived + 1)
    router.close()
    thread.join(15)
    [response] = results
    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.text) == (200, "v1\n")
    assert router.snapshot("v1").requests == 1


# --- connections that go away -------------------------------------------------------------------


class _OneRequestPerConnection(socketserver.BaseRequestHandler):
    """Answers the first request of a connection with keep-alive, then drops the connection
    when a second request arrives on it: the race a pooled keep-alive connection can lose."""

    connections = 0

    def handle(self) -> None:
        type(self).connections += 1
        sock: socket.socket = self.request
        sock.settimeout(5)
        received = b""
        answered = False
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            received += data
            if b"\r\n\r\n" not in received:
                continue
            if answered:
                return  # the second request: close without a word
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                         b"Connection: keep-alive\r\n\r\nv1\n")
            answered = True
            received = b""


@pytest.fixture
def dropping_backend() -> Iterator[Endpoint]:
    _OneRequestPerConnection.connections = 0
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _OneRequestPerConnection)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Endpoint("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_stale_pooled_connection_is_retried_once_for_idempotent_requests(
        router: EmbeddedRouter, dropping_backend: Endpoint, client: httpx.Client) -> None:
    router.set_backends({"v1": [dropping_backend]})
    router.set_weights({"v1": 100})
    answers = [client.get(router.url + "/").text for _ in range(3)]
    assert answers == ["v1\n"] * 3
    assert _OneRequestPerConnection.connections == 3
    assert router.snapshot("v1").errors == 0


def test_a_request_with_a_body_is_not_retried(router: EmbeddedRouter,
                                              dropping_backend: Endpoint,
                                              client: httpx.Client) -> None:
    router.set_backends({"v1": [dropping_backend]})
    router.set_weights({"v1": 100})
    assert client.get(router.url + "/").status_code == 200
    response = client.post(router.url + "/", content=b"payload")
    assert response.status_code == 502
    assert "dropped the connection" in response.text
    assert router.snapshot("v1").errors == 1


def test_a_client_that_leaves_mid_body_is_not_an_upstream_error(v1_only: EmbeddedRouter,
                                                                client: httpx.Client) -> None:
    with socket.create_connection((v1_only.address.host, v1_only.address.port),
                                  timeout=10) as raw:
        raw.sendall(b"GET /big/64 HTTP/1.1\r\nHost: test\r\n\r\n")
        assert raw.recv(1024).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 20
    while v1_only.snapshot("v1").requests < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    snapshot = v1_only.snapshot("v1")
    assert (snapshot.requests, snapshot.errors) == (1, 0)
    assert client.get(v1_only.url + "/").text == "v1\n"
