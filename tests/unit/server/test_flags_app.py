"""The flag service's routes through ASGI: auth on every operation, evaluation, ETags, writes
with actor and reason, and the JSON error answers (checked against the OpenAPI document)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jsonschema
import pytest

from safeship.errors import StoreUnavailable
from safeship.flags import EvaluationContext, FlagType, changes, evaluate
from safeship.server.auth import Access
from safeship.server.openapi_doc import build_document
from safeship.server.operations import OPERATIONS, Operation
from safeship.server.settings import ServiceSettings
from tests.unit.flags.flag_samples import boolean_flag, string_flag
from tests.unit.server.service_harness import (
    READ,
    WRITE,
    Service,
    make_service,
    served,
)

pytestmark = pytest.mark.anyio

DOCUMENT = build_document()
# Bodies that pass validation for each request model, so auth is the only thing tested.
_VALID_BODIES: dict[str, dict[str, Any]] = {
    "EvaluationRequest": {"context": {"targetingKey": "u1"}},
    "WriteRequest": {"reason": "test"},
    "EnvironmentWriteRequest": {"reason": "test"},
    "RolloutRequest": {"reason": "test", "percent": 10},
    "DefinitionRequest": {"reason": "test", "definition": {"key": "beta"}},
}
_WRITES = [op for op in OPERATIONS if op.access is Access.WRITE]
# The stream never ends, so its auth is tested in test_stream.py.
_READS = [op for op in OPERATIONS if op.access is Access.READ and not op.stream_events]


def assert_schema(name: str, payload: Any) -> None:
    """``payload`` fits component schema ``name`` of the generated OpenAPI document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    jsonschema.Draft202012Validator(schema).validate(payload)


def _request(client: httpx.AsyncClient, op: Operation, headers: dict[str, str],
             key: str = "beta") -> Any:
    path = op.path.replace("{key}", key)
    body = None
    if op.request_model is not None:
        body = _VALID_BODIES[op.request_model.__name__]
    return client.request(op.method, path, json=body, headers=headers)


# --------------------------------------------------------------------------- auth


def test_every_route_comes_from_the_operation_table(service: Service) -> None:
    mounted = {(method, route.path) for route in service.app.routes
               for method in getattr(route, "methods", set()) if method != "HEAD"}
    assert mounted == {(op.method, op.path) for op in OPERATIONS}
    assert _WRITES, "the table has write operations"


@pytest.mark.parametrize("op", _WRITES, ids=lambda op: op.operation_id)
async def test_every_write_refuses_without_a_write_token(service: Service, op: Operation) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        anonymous = await _request(client, op, {})
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.json()["field"] == "Authorization"
        bad = await _request(client, op, {"Authorization": "Bearer not-a-known-token-xyz"})
        assert bad.status_code == 401
        assert 'error="invalid_token"' in bad.headers["www-authenticate"]
        basic = await _request(client, op, {"Authorization": "Basic dXNlcjpwYXNz"})
        assert basic.status_code == 401
        reader = await _request(client, op, READ)
        assert reader.status_code == 403
        assert "write token" in reader.json()["detail"]
    # Nothing was written by any of the refused requests.
    assert [c.action for c in service.store.history("beta")] == ["create"]


@pytest.mark.parametrize("op", _READS, ids=lambda op: op.operation_id)
async def test_every_read_needs_a_token_and_accepts_read_and_write_tokens(
        service: Service, op: Operation) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        assert (await _request(client, op, {})).status_code == 401
        assert (await _request(client, op, READ)).status_code < 300
        assert (await _request(client, op, WRITE)).status_code < 300


async def test_public_operations_need_no_token(service: Service) -> None:
    async with served(service.app) as client:
        health = await client.get("/v1/health")
        spec = await client.get("/v1/openapi.json")
    assert health.status_code == 200
    assert_schema("HealthResponse", health.json())
    assert spec.json() == json.loads(json.dumps(DOCUMENT))


async def test_unsafe_no_auth_lets_anyone_write_as_anonymous(tmp_path: Any) -> None:
    open_service = make_service(tmp_path, tokens=None)
    try:
        async with served(open_service.app) as client:
            created = await client.post("/v1/flags", json={
                "reason": "no auth", "definition": {"key": "beta"}})
        assert created.status_code == 201
        assert open_service.store.get("beta").created_by == "anonymous"
    finally:
        open_service.feed.close()
        open_service.store.close()


# --------------------------------------------------------------------------- evaluation


async def test_evaluation_equals_the_local_evaluator(service: Service) -> None:
    flag = boolean_flag("beta", percent=0.3, rules=("staff: email regex @example.com$ -> on",))
    service.add(flag, string_flag("theme"))
    contexts = [{"targetingKey": f"user-{n}"} for n in range(40)]
    contexts += [{"targetingKey": "x", "email": "ann@example.com"}, {}]
    async with served(service.app) as client:
        for context in contexts:
            answer = await client.post("/v1/flags/beta/evaluate", json={"context": context},
                                       headers=READ)
            assert answer.status_code == 200
            payload = answer.json()
            assert_schema("EvaluationResponse", payload)
            key = context.get("targetingKey")
            attributes = {k: v for k, v in context.items() if k != "targetingKey"}
            local = evaluate(flag, EvaluationContext(key, attributes), "production")
            assert (payload["variant"], payload["value"], payload["reason"],
                    payload["rule_id"], payload["error_code"]) == (
                local.variant, local.value, local.reason.value, local.rule_id,
                local.error_code.value if local.error_code else None)
            assert payload["version"] == 2
    reasons = {evaluate(flag, EvaluationContext(c.get("targetingKey"),
                                                {k: v for k, v in c.items()
                                                 if k != "targetingKey"}),
                        "production").reason.value for c in contexts}
    assert {"SPLIT", "TARGETING_MATCH", "ERROR"} <= reasons


async def test_bulk_evaluation_covers_every_flag(service: Service) -> None:
    service.add(boolean_flag("beta"), string_flag("theme"),
                changes.new_flag("dormant", environments=["dev"]))
    async with served(service.app) as client:
        answer = await client.post("/v1/evaluate", json={"context": {"targetingKey": "u"}},
                                   headers=READ)
        dev = await client.post("/v1/evaluate", json={"environment": "dev"}, headers=READ)
    payload = answer.json()
    assert_schema("BulkEvaluationResponse", payload)
    assert set(payload["results"]) == {"beta", "theme", "dormant"}
    assert payload["results"]["beta"]["value"] is True
    assert payload["results"]["theme"]["value"] == "d"
    assert payload["results"]["dormant"]["reason"] == "DISABLED"
    assert dev.json()["environment"] == "dev"
    assert dev.json()["results"]["beta"]["reason"] == "DISABLED"


async def test_unknown_flag_is_404_with_the_openfeature_code(service: Service) -> None:
    async with served(service.app) as client:
        answer = await client.post("/v1/flags/nope/evaluate", json={}, headers=READ)
        read = await client.get("/v1/flags/nope", headers=READ)
        write = await client.post("/v1/flags/nope/kill", json={"reason": "x"}, headers=WRITE)
    assert answer.status_code == 404
    assert answer.json()["error_code"] == "FLAG_NOT_FOUND"
    assert_schema("Problem", answer.json())
    assert read.status_code == 404
    assert write.status_code == 404


# --------------------------------------------------------------------------- ETags


async def test_snapshot_has_a_strong_etag_and_answers_304(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        first = await client.get("/v1/snapshot", headers=READ)
        etag = first.headers["etag"]
        same = await client.get("/v1/snapshot", headers={**READ, "If-None-Match": etag})
        weak = await client.get("/v1/snapshot", headers={**READ, "If-None-Match": f"W/{etag}"})
        await client.post("/v1/flags/beta/kill", json={"reason": "r"}, headers=WRITE)
        after = await client.get("/v1/snapshot", headers={**READ, "If-None-Match": etag})
    assert re.fullmatch(r'"\d+-[0-9a-f]{16}"', etag)
    assert first.status_code == 200
    assert_schema("SnapshotResponse", first.json())
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert weak.status_code == 304
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert after.json()["version"] > first.json()["version"]
    [entry] = after.json()["flags"]
    assert entry["definition"]["environments"]["production"]["killed"] is True


async def test_snapshot_is_cut_to_the_environment(service: Service) -> None:
    service.add(boolean_flag("beta"), changes.new_flag("prod-only"))
    async with served(service.app) as client:
        dev = (await client.get("/v1/snapshot?environment=dev", headers=READ)).json()
        bad = await client.get("/v1/snapshot?environment=no/such", headers=READ)
    by_key = {entry["key"]: entry["definition"] for entry in dev["flags"]}
    assert list(by_key["beta"]["environments"]) == ["dev"]
    assert by_key["prod-only"]["environments"] == {}
    assert bad.status_code == 400
    assert bad.json()["field"] == "environment"


async def test_flag_read_has_an_etag_that_changes_with_the_flag(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        first = await client.get("/v1/flags/beta", headers=READ)
        cached = await client.get("/v1/flags/beta",
                                  headers={**READ, "If-None-Match": first.headers["etag"]})
        await client.post("/v1/flags/beta/disable", json={"reason": "r"}, headers=WRITE)
        changed = await client.get("/v1/flags/beta",
                                   headers={**READ, "If-None-Match": first.headers["etag"]})
    assert_schema("StoredFlagResponse", first.json())
    assert cached.status_code == 304
    assert changed.status_code == 200
    assert changed.json()["version"] == first.json()["version"] + 1


# --------------------------------------------------------------------------- writes


async def test_each_write_is_recorded_with_actor_and_reason(service: Service) -> None:
    actor = {**WRITE, "X-Safeship-Actor": "alice"}
    steps = [
        ("POST", "/v1/flags", {"reason": "launch", "definition": {
            "key": "beta", "environments": {"production": {}, "dev": {}}}}),
        ("POST", "/v1/flags/beta/enable", {"reason": "on in dev", "environment": "dev"}),
        ("POST", "/v1/flags/beta/enable", {"reason": "on in prod"}),
        ("POST", "/v1/flags/beta/rollout", {"reason": "5 %", "percent": 5}),
        ("POST", "/v1/flags/beta/kill", {"reason": "INC-1"}),
        ("POST", "/v1/flags/beta/unkill", {"reason": "fixed"}),
        ("POST", "/v1/flags/beta/disable", {"reason": "off in dev", "environment": "dev"}),
        ("PUT", "/v1/flags/beta", {"reason": "from git", "definition": {
            "key": "beta", "description": "new", "environments": {"production": {}}}}),
    ]
    async with served(service.app) as client:
        for method, path, body in steps:
            answer = await client.request(method, path, json=body, headers=actor)
            assert answer.status_code in (200, 201), answer.text
            assert_schema("StoredFlagResponse", answer.json())
            assert answer.json()["changed"] is True
        again = await client.post("/v1/flags/beta/disable",
                                  json={"reason": "again", "environment": "dev"}, headers=WRITE)
        history = await client.get("/v1/flags/beta/history", headers=READ)
        newest = await client.get("/v1/flags/beta/history?limit=2", headers=READ)
    assert again.json()["changed"] is False
    entries = history.json()["changes"]
    assert_schema("HistoryResponse", history.json())
    assert [e["action"] for e in entries] == ["create", "enable", "enable", "rollout", "kill",
                                              "unkill", "disable", "set"]
    assert [e["reason"] for e in entries] == [body["reason"] for _, _, body in steps]
    assert {e["actor"] for e in entries} == {"alice via deployer"}
    assert [e["version"] for e in newest.json()["changes"]] == [7, 8]
    audit = service.store.audit_events(subject="beta")
    assert len(audit) == len(steps)
    assert {event.actor for event in audit} == {"alice via deployer"}
    stored = service.store.get("beta").flag
    assert stored.description == "new"
    assert list(stored.environments) == ["production"]


async def test_rollout_matches_the_cli_change(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        answer = await client.post("/v1/flags/beta/rollout",
                                   json={"reason": "r", "percent": 12.5, "bucket_by": "org"},
                                   headers=WRITE)
    expected = changes.set_rollout(boolean_flag("beta"), "production", 0.125, bucket_by="org")
    assert answer.status_code == 200
    assert service.store.get("beta").flag == expected


@pytest.mark.parametrize(("body", "field"), [
    ({}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"reason": "x", "percent": 5, "extra": 1}, "extra"),
    ({"reason": "x", "percent": 5, "if_version": 0}, "if_version"),
    ({"reason": "x", "percent": 101}, "percent"),
    ({"reason": "x", "percent": 5, "environment": "bad env"}, "environment"),
])
async def test_bad_write_bodies_name_the_field(service: Service, body: dict[str, Any],
                                               field: str) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        answer = await client.post("/v1/flags/beta/rollout", json=body, headers=WRITE)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert_schema("Problem", answer.json())
    assert [c.action for c in service.store.history("beta")] == ["create"]


async def test_definition_problems_point_into_the_definition(service: Service) -> None:
    async with served(service.app) as client:
        shape = await client.post("/v1/flags", headers=WRITE, json={
            "reason": "x", "definition": {"key": "b", "environments": {
                "production": {"enabled": "maybe"}}}})
        meaning = await client.post("/v1/flags", headers=WRITE, json={
            "reason": "x", "definition": {"key": "b", "environments": {
                "production": {"default": "nope"}}}})
        keyless = await client.post("/v1/flags", headers=WRITE,
                                    json={"reason": "x", "definition": {}})
    assert shape.json()["field"] == "definition.environments.production.enabled"
    assert meaning.json()["field"] == "definition.environments.production.default"
    assert "unknown variant 'nope'" in meaning.json()["problems"][0]["message"]
    assert keyless.json()["field"] == "definition.key"
    assert {shape.status_code, meaning.status_code, keyless.status_code} == {400}


async def test_replace_refuses_another_key_or_type(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        other_key = await client.put("/v1/flags/beta", headers=WRITE, json={
            "reason": "x", "definition": {"key": "gamma"}})
        other_type = await client.put("/v1/flags/beta", headers=WRITE, json={
            "reason": "x", "definition": {"type": "string", "variants": {"a": "a"}}})
    assert other_key.status_code == 400
    assert other_key.json()["field"] == "definition.key"
    assert other_type.status_code == 400
    assert "boolean flag" in other_type.json()["detail"]


async def test_conflicts_are_409(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        exists = await client.post("/v1/flags", headers=WRITE,
                                   json={"reason": "x", "definition": {"key": "beta"}})
        stale = await client.post("/v1/flags/beta/kill", headers=WRITE,
                                  json={"reason": "x", "if_version": 7})
        fresh = await client.post("/v1/flags/beta/kill", headers=WRITE,
                                  json={"reason": "x", "if_version": 1})
    assert (exists.status_code, stale.status_code, fresh.status_code) == (409, 409, 200)
    assert "version 1, not 7" in stale.json()["detail"]


@pytest.mark.parametrize(("headers", "content", "status"), [
    ({"content-type": "text/plain"}, b"{}", 415),
    ({"content-type": "application/json"}, b"{not json", 400),
    ({"content-type": "application/json"}, b"", 400),
    ({"content-type": "application/json"}, b"[1, 2]", 400),
    ({"content-type": "application/json"}, b'{"reason": NaN}', 400),
    ({"content-type": "application/json"}, b'{"reason": "' + b"x" * 300 + b'"}', 413),
])
async def test_unreadable_bodies_are_refused(tmp_path: Any, headers: dict[str, str],
                                             content: bytes, status: int) -> None:
    small = make_service(tmp_path, settings=ServiceSettings(max_body_bytes=200))
    try:
        small.add(boolean_flag("beta"))
        async with served(small.app) as client:
            answer = await client.post("/v1/flags/beta/kill", content=content,
                                       headers={**WRITE, **headers})
        assert answer.status_code == status, answer.text
        assert answer.json()["field"] == "body"
    finally:
        small.feed.close()
        small.store.close()


async def test_a_bad_actor_header_is_refused(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        answer = await client.post("/v1/flags/beta/kill", json={"reason": "x"},
                                   headers={**WRITE, "X-Safeship-Actor": "x" * 101})
    assert answer.status_code == 400
    assert answer.json()["field"] == "X-Safeship-Actor"


async def test_bad_context_and_limit_name_the_field(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client:
        context = await client.post("/v1/flags/beta/evaluate",
                                    json={"context": {"targetingKey": 7}}, headers=READ)
        limit = await client.get("/v1/flags/beta/history?limit=0", headers=READ)
    assert (context.status_code, context.json()["field"]) == (400, "context")
    assert (limit.status_code, limit.json()["field"]) == (400, "limit")


# --------------------------------------------------------------------------- failures


async def test_internal_errors_never_leak_a_traceback(service: Service,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    def explode() -> list[Any]:
        raise RuntimeError("secret internals at /srv/app.py line 3")

    monkeypatch.setattr(service.store, "list_flags", explode)
    async with served(service.app) as client:
        answer = await client.get("/v1/flags", headers=READ)
    assert answer.status_code == 500
    assert "secret internals" not in answer.text
    assert "Traceback" not in answer.text
    assert_schema("Problem", answer.json())
    assert "secret internals" in caplog.text  # the server's log has it


async def test_an_unavailable_store_is_503(service: Service,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreUnavailable("state store sqlite:///x: could not read: disk I/O error")

    monkeypatch.setattr(service.store, "get", down)
    async with served(service.app) as client:
        answer = await client.get("/v1/flags/beta", headers=READ)
    assert answer.status_code == 503
    assert "disk I/O error" in answer.json()["detail"]


async def test_unknown_paths_and_methods_answer_json(service: Service) -> None:
    async with served(service.app) as client:
        missing = await client.get("/v2/anything")
        method = await client.delete("/v1/flags/beta", headers=WRITE)
    assert (missing.status_code, missing.json()["status"]) == (404, 404)
    assert method.status_code == 405
    assert_schema("Problem", method.json())


async def test_a_number_flag_is_served_as_a_number(service: Service) -> None:
    flag = changes.enable(changes.new_flag("limit", FlagType.NUMBER,
                                           variants=[("low", 10), ("high", 2.5)]), "production")
    service.add(flag)
    async with served(service.app) as client:
        answer = await client.post("/v1/flags/limit/evaluate", json={}, headers=READ)
    assert (answer.json()["variant"], answer.json()["value"]) == ("high", 2.5)
