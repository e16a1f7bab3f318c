"""The instant-query client: answers, retries, and every way Prometheus can be unusable."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship._internal.prometheus_api import (
    MAX_BODY_BYTES,
    RETRY_PAUSE_S,
    PrometheusEndpoint,
    PrometheusQueryApi,
    check_url,
    display_url,
)
from safeship.errors import MetricsUnavailable

Handler = Callable[[httpx.Request], httpx.Response]


def api(handler: Handler, pauses: list[float] | None = None, **endpoint: object
        ) -> PrometheusQueryApi:
    settings = {"retries": 2, **endpoint}
    record = pauses if pauses is not None else []
    return PrometheusQueryApi(PrometheusEndpoint("http://prom.test:9090/prefix", **settings),  # type: ignore[arg-type]
                              http=client_factory_with_transport(httpx.MockTransport(handler)),
                              sleep=record.append)


def vector_body(*values: str) -> dict[str, object]:
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"job": "shop", "i": str(i)}, "value": [1.0, v]}
        for i, v in enumerate(values)]}}


def test_an_instant_vector_is_decoded_with_labels_and_values() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=vector_body("12.5", "NaN", "+Inf"))

    samples = api(handler, headers={"X-Scope-OrgID": "team"}).instant("sum(x)", at=1234.5)
    assert samples[0].value == 12.5
    assert str(samples[1].value) == "nan"
    assert samples[2].value == float("inf")
    assert samples[0].labels == {"job": "shop", "i": "0"}
    request = seen[0]
    assert request.url.path == "/prefix/api/v1/query"
    assert request.url.params["query"] == "sum(x)"
    assert request.url.params["time"] == "1234.500"
    assert request.url.params["timeout"] == "10s"
    assert request.headers["X-Scope-OrgID"] == "team"


def test_without_a_time_prometheus_uses_its_now() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=vector_body())

    assert api(handler).instant("sum(x)") == ()
    assert "time" not in seen[0].url.params


def test_a_scalar_answer_is_one_sample() -> None:
    body = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}}
    samples = api(lambda r: httpx.Response(200, json=body)).instant("3")
    assert [(dict(s.labels), s.value) for s in samples] == [({}, 3.0)]


def test_a_5xx_is_retried_then_the_answer_is_used() -> None:
    replies = [httpx.Response(503, json={"status": "error", "error": "busy"}),
               httpx.Response(200, json=vector_body("7"))]
    pauses: list[float] = []
    samples = api(lambda r: replies.pop(0), pauses).instant("sum(x)")
    assert samples[0].value == 7.0
    assert pauses == [RETRY_PAUSE_S]


def test_persistent_5xx_names_the_status_and_the_attempts() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502, json={"status": "error", "errorType": "internal",
                                         "error": "boom"})

    with pytest.raises(MetricsUnavailable, match=r"HTTP 502 \(internal: boom\) after 3 attempts"):
        api(handler).instant("sum(x)")
    assert len(calls) == 3


def test_a_4xx_is_not_retried_and_says_prometheus_rejected_the_query() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"status": "error", "errorType": "bad_data",
                                         "error": "parse error"})

    with pytest.raises(MetricsUnavailable) as caught:
        api(handler).instant("sum(")
    assert calls == [1]
    assert "HTTP 400 (bad_data: parse error)" in caught.value.message
    assert "rejected" in (caught.value.hint or "")


def test_a_timeout_says_how_long_it_waited() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(MetricsUnavailable, match=r"no answer within 2 s after 1 attempt,"):
        api(handler, timeout_s=2.0, retries=0).instant("sum(x)")


@pytest.mark.parametrize(("response", "words"), [
    (httpx.Response(200, text="<html>login</html>"), "not JSON"),
    (httpx.Response(200, json={"status": "error", "error": "nope"}), "did not succeed (nope)"),
    (httpx.Response(200, json=["x"]), "did not succeed (no status)"),
    (httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix",
                                                             "result": []}}),
     "expected an instant vector, got 'matrix'"),
    (httpx.Response(200, json={"status": "success", "data": {"resultType": "vector",
                                                             "result": [{"value": [1]}]}}),
     "malformed sample"),
    (httpx.Response(200, content=b"x" * (MAX_BODY_BYTES + 1)), "larger than"),
])
def test_unusable_answers_are_metrics_unavailable(response: httpx.Response, words: str) -> None:
    with pytest.raises(MetricsUnavailable, match=re.escape(words)):
        api(lambda r: response, retries=0).instant("sum(x)")


def test_a_request_that_cannot_be_sent_is_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.TooManyRedirects("no", request=request)

    with pytest.raises(MetricsUnavailable, match="could not be sent"):
        api(handler).instant("sum(x)")
    assert calls == [1]


def test_display_url_masks_credentials_and_the_query() -> None:
    assert display_url("https://me:pw@prom.example:9443/p?q=1") == "https://me:***@prom.example:9443/p?..."
    assert display_url("http://token@prom.example") == "http://***@prom.example"
    assert display_url("http://[::1]:9090") == "http://[::1]:9090"
    assert display_url("http://[bad") == "<invalid URL>"
    assert PrometheusEndpoint("http://u:p@h:1").shown == "http://u:***@h:1"


@pytest.mark.parametrize(("url", "words"), [
    ("ftp://prom", "not an http"), ("prom:9090", "not an http"),
    ("http://prom?x=1", "no query string"), ("http://[bad", "not a URL"),
])
def test_check_url_refuses_what_is_not_a_base_url(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_url(url)


def test_check_url_drops_the_trailing_slash() -> None:
    assert check_url(" http://prom:9090/ ") == "http://prom:9090"


@pytest.mark.parametrize("response", [
    httpx.Response(503, text="upstream down"),
    httpx.Response(503, json={"status": "error"}),
])
def test_a_5xx_without_an_api_error_names_only_the_status(response: httpx.Response) -> None:
    with pytest.raises(MetricsUnavailable, match=r": HTTP 503 after 1 attempt,"):
        api(lambda r: response, retries=0).instant("sum(x)")
