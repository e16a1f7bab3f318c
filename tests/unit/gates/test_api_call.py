"""The api_call gate against a real HTTP server on 127.0.0.1 (see ``http_fixture``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from safeship.errors import EndpointUnavailable, GateCannotRun
from safeship.gates.api_call import MAX_BODY_BYTES, ApiCallGate, ApiCallOptions, display_url
from safeship.gates.interface import GateContext
from safeship.model.enums import FailAction, Verdict
from safeship.model.results import GateCheck

from .http_fixture import JsonServer, Reply, closed_port_url

GUIDE_CONDITION = "budget_remaining > 0.05"


@pytest.fixture
def pauses() -> list[float]:
    """The pauses the gate asked for, recorded instead of slept."""
    return []


@pytest.fixture
def ctx(tmp_path: Path, pauses: list[float]) -> GateContext:
    # Retries are still made; the pause between them is recorded, not slept.
    return GateContext(project_root=tmp_path, sleep=pauses.append)


def call(ctx: GateContext, endpoint: str, **options: object) -> GateCheck:
    options.setdefault("condition", GUIDE_CONDITION)
    gate = ApiCallGate(ApiCallOptions.model_validate({"endpoint": endpoint, **options}))
    return gate.evaluate(ctx)


def test_class_facts() -> None:
    assert ApiCallGate.type_name == "api_call"
    assert ApiCallGate.default_action is FailAction.BLOCK_DEPLOY
    assert ApiCallGate.options_model is ApiCallOptions
    assert ApiCallGate.checks
    assert 0 < ApiCallGate.retry_pause_s <= 0.5


def test_condition_true_passes_and_records_values(
    ctx: GateContext, json_server: JsonServer
) -> None:
    url = json_server.reply("/slo", Reply(body={"budget_remaining": 0.42, "other": 1}))
    result = call(ctx, url)
    assert result.verdict is Verdict.PASSED
    assert result.summary == "budget_remaining = 0.42 satisfies budget_remaining > 0.05"
    assert dict(result.metrics) == {"budget_remaining": 0.42}


def test_condition_false_fails_with_observed_values(
    ctx: GateContext, json_server: JsonServer
) -> None:
    url = json_server.reply("/slo", Reply(body={"budget_remaining": 0.03}))
    result = call(ctx, url)
    assert result.verdict is Verdict.FAILED
    assert result.summary == "budget_remaining = 0.03; required budget_remaining > 0.05"
    assert dict(result.metrics) == {"budget_remaining": 0.03}
    (finding,) = result.findings
    assert finding.message.startswith("budget_remaining = 0.03; required budget_remaining > 0.05")
    assert json_server.url("/slo") in finding.message


def test_exactly_the_threshold_fails(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/slo", Reply(body={"budget_remaining": 0.05}))
    assert call(ctx, url).verdict is Verdict.FAILED


def test_fail_message_is_the_summary(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/slo", Reply(body={"budget_remaining": 0.0}))
    result = call(ctx, url, fail_message="Error budget too low - deploy blocked")
    assert result.verdict is Verdict.FAILED
    assert result.summary == "Error budget too low - deploy blocked"
    assert "budget_remaining = 0.0" in result.findings[0].message


def test_nested_fields_and_several_values(ctx: GateContext, json_server: JsonServer) -> None:
    body = {"slo": {"budget_remaining": 0.2, "window": "30d"}, "frozen": False}
    url = json_server.reply("/slo", Reply(body=body))
    condition = "slo.budget_remaining > 0.05 and slo.window == '30d' and not frozen"
    result = call(ctx, url, condition=condition)
    assert result.verdict is Verdict.PASSED
    assert dict(result.metrics) == {
        "slo.budget_remaining": 0.2,
        "slo.window": "30d",
        "frozen": False,
    }


def test_arithmetic_over_fields(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/c", Reply(body={"bad": 3, "total": 1000}))
    assert call(ctx, url, condition="bad / total < 0.01").verdict is Verdict.PASSED
    assert call(ctx, url, condition="bad / total < 0.001").verdict is Verdict.FAILED


def test_headers_are_sent(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/slo", Reply(body={"budget_remaining": 1}))
    call(ctx, url, headers={"Authorization": "Bearer t0ken", "X-Team": "shop"})
    sent = json_server.request_headers["/slo"]
    assert sent["authorization"] == "Bearer t0ken"
    assert sent["x-team"] == "shop"
    assert sent["accept"] == "application/json"


def test_query_string_reaches_the_server(ctx: GateContext, json_server: JsonServer) -> None:
    json_server.reply("/q", Reply(body={"budget_remaining": 1}))
    assert call(ctx, json_server.url("/q?service=shop")).verdict is Verdict.PASSED


# --- retries ---------------------------------------------------------------------------------


def test_5xx_is_retried_then_succeeds(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/flaky", Reply(503), Reply(502), Reply(body={"budget_remaining": 0.5}))
    assert call(ctx, url, retries=2).verdict is Verdict.PASSED
    assert json_server.hits["/flaky"] == 3


def test_5xx_after_all_retries_is_endpoint_unavailable(
    ctx: GateContext, json_server: JsonServer
) -> None:
    url = json_server.reply("/down", Reply(500, {"error": "boom"}))
    with pytest.raises(
        EndpointUnavailable, match=r"answered 500 Internal Server Error \(3 attempts"
    ):
        call(ctx, url, retries=2)
    assert json_server.hits["/down"] == 3


def test_zero_retries_means_one_attempt(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/down", Reply(503))
    with pytest.raises(EndpointUnavailable, match=r"\(1 attempt\)"):
        call(ctx, url, retries=0)
    assert json_server.hits["/down"] == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 418])
def test_4xx_is_not_retried(ctx: GateContext, json_server: JsonServer, status: int) -> None:
    url = json_server.reply("/nope", Reply(status, {"error": "no"}))
    with pytest.raises(EndpointUnavailable, match=f"answered {status}"):
        call(ctx, url, retries=3)
    assert json_server.hits["/nope"] == 1


def test_redirect_is_not_followed(ctx: GateContext, json_server: JsonServer) -> None:
    json_server.reply("/new", Reply(body={"budget_remaining": 1}))
    url = json_server.reply("/old", Reply(302, b"", headers={"Location": "/new"}))
    with pytest.raises(EndpointUnavailable, match="answered 302"):
        call(ctx, url)
    assert "/new" not in json_server.hits


def test_204_without_body_is_not_json(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/empty", Reply(200, b""))
    with pytest.raises(GateCannotRun, match="is not JSON"):
        call(ctx, url)


def test_unreachable_endpoint_is_retried_then_unavailable(
    ctx: GateContext, pauses: list[float]
) -> None:
    url = closed_port_url("/slo")
    with pytest.raises(
        EndpointUnavailable, match=r"could not be reached.*\(2 attempts\)"
    ) as caught:
        call(ctx, url, retries=1)
    assert url in caught.value.message
    assert pauses == [ApiCallGate.retry_pause_s]


def test_timeout_is_retried_then_unavailable(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/slow", Reply(body={"budget_remaining": 1}, delay_s=2.0))
    with pytest.raises(EndpointUnavailable, match=r"did not answer within 0.2s \(2 attempts\)"):
        call(ctx, url, request_timeout=0.2, retries=1)
    assert json_server.hits["/slow"] == 2


def test_slow_first_answer_then_fast_one_passes(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply(
        "/s", Reply(body={}, delay_s=2.0), Reply(body={"budget_remaining": 0.9})
    )
    assert call(ctx, url, request_timeout=0.2, retries=1).verdict is Verdict.PASSED


# --- fail closed on the answer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>oops</html>", "is not JSON"),
        (b"\xff\xfe", "is not JSON"),
        ({"budget": 0.5}, "field 'budget_remaining' not found"),
        ([{"budget_remaining": 0.5}], "the document is a list, not an object"),
        ({"budget_remaining": "0.5"}, "field 'budget_remaining' (text '0.5')"),
        ({"budget_remaining": None}, "field 'budget_remaining' (null None)"),
        ({"budget_remaining": True}, "field 'budget_remaining' (boolean True)"),
        ({"budget_remaining": [0.5]}, "field 'budget_remaining' is a list"),
        ({"budget_remaining": {"v": 1}}, "field 'budget_remaining' is an object"),
        (b'{"budget_remaining": NaN}', "field 'budget_remaining' is nan"),
        (b'{"budget_remaining": Infinity}', "field 'budget_remaining' is inf"),
    ],
)
def test_unusable_answers_cannot_run(
    ctx: GateContext, json_server: JsonServer, body: object, message: str
) -> None:
    url = json_server.reply("/slo", Reply(body=body))
    with pytest.raises(GateCannotRun) as caught:
        call(ctx, url)
    assert message in caught.value.message
    assert json_server.url("/slo") in caught.value.message


def test_missing_nested_field_names_the_path(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/slo", Reply(body={"slo": {"target": 0.999}}))
    with pytest.raises(GateCannotRun, match=r"field 'slo.budget_remaining' not found in 'slo'"):
        call(ctx, url, condition="slo.budget_remaining > 0.05")


def test_missing_field_in_an_or_branch_still_fails_closed(
    ctx: GateContext, json_server: JsonServer
) -> None:
    url = json_server.reply("/slo", Reply(body={"budget_remaining": 0.5}))
    with pytest.raises(GateCannotRun, match="'override' not found"):
        call(ctx, url, condition="budget_remaining > 0.05 or override")


def test_division_by_zero_cannot_run(ctx: GateContext, json_server: JsonServer) -> None:
    url = json_server.reply("/c", Reply(body={"bad": 0, "total": 0}))
    with pytest.raises(GateCannotRun, match="division by zero"):
        call(ctx, url, condition="bad / total < 0.01")


def test_oversized_answer_cannot_run(ctx: GateContext, json_server: JsonServer) -> None:
    body = b'{"budget_remaining": 1, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    url = json_server.reply("/big", Reply(body=body))
    with pytest.raises(GateCannotRun, match="larger than"):
        call(ctx, url)


def test_messages_never_show_credentials_or_query_values(ctx: GateContext) -> None:
    url = closed_port_url("/slo").replace("http://", "http://user:s3cret@") + "?token=abc123"
    with pytest.raises(EndpointUnavailable) as caught:
        call(ctx, url, retries=0)
    text = "\n".join(caught.value.diagnostics())
    assert "s3cret" not in text
    assert "abc123" not in text
    assert "/slo?..." in text


# --- options ---------------------------------------------------------------------------------


def test_defaults_and_descriptions() -> None:
    options = ApiCallOptions(endpoint="https://monitoring.internal/slo", condition=GUIDE_CONDITION)
    assert (options.request_timeout, options.retries, options.headers, options.fail_message) == (
        5.0,
        2,
        {},
        None,
    )
    assert all(f.description for f in ApiCallOptions.model_fields.values())


def test_guide_example_validates() -> None:
    options = ApiCallOptions(
        endpoint="http://monitoring.internal/slo/serviceX/budget",
        condition="budget_remaining > 0.05",
        fail_message="Error budget too low \u2013 deploy blocked",  # the guide uses an en dash
    )
    assert options.condition == "budget_remaining > 0.05"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint": "ftp://host/x"}, "not an http:// or https:// URL"),
        ({"endpoint": "monitoring/slo"}, "not an http:// or https:// URL"),
        ({"endpoint": "http://"}, "not an http:// or https:// URL"),
        ({"condition": "budget_remaining >"}, "not a valid condition"),
        ({"condition": "__import__('os').system('id')"}, "function call"),
        ({"condition": "budget_remaining"}, None),
        ({"condition": "budget_remaining + 1"}, "not a yes/no condition"),
        ({"retries": 6}, "less than or equal to 5"),
        ({"retries": -1}, "greater than or equal to 0"),
        ({"request_timeout": 0}, "greater than 0"),
        ({"request_timeout": 1000}, "less than or equal to 120"),
        ({"method": "POST"}, "Extra inputs are not permitted"),
        ({"headers": {"X": 1}}, "headers"),
    ],
)
def test_invalid_options(options: dict[str, object], message: str | None) -> None:
    data = {"endpoint": "http://monitoring.internal/slo", "condition": GUIDE_CONDITION, **options}
    if message is None:
        ApiCallOptions.model_validate(data)  # a boolean field on its own is a valid condition
        return
    with pytest.raises(ValidationError, match=message):
        ApiCallOptions.model_validate(data)


def test_condition_error_is_reported_on_the_condition_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ApiCallOptions(endpoint="http://x/slo", condition="open('/etc/passwd')")
    assert caught.value.errors()[0]["loc"] == ("condition",)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@host:8080/a/b?x=1", "http://host:8080/a/b?..."),
        ("https://host/slo", "https://host/slo"),
        ("http://[::1]:9/x", "http://[::1]:9/x"),
    ],
)
def test_display_url(url: str, shown: str) -> None:
    assert display_url(url) == shown
