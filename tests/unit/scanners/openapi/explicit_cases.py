"""Hand-written cases for the rules that are not a kind of schema change at a place.

Each case is a base and a revision that must produce the rule, and a *twin*: a similar change
that must not produce it (by default the same change reversed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.unit.scanners.openapi.specs import TODAY, doc, json_body, op

Doc = dict[str, Any]
STR: dict[str, Any] = {"type": "string"}
PAST, FUTURE, SOON = "2020-01-01", "2999-01-01", (TODAY + dt.timedelta(days=9)).isoformat()
LATER = (TODAY + dt.timedelta(days=400)).isoformat()


@dataclass(frozen=True)
class Case:
    """A rule, a change that triggers it and a twin change that does not."""

    rule: str
    base: Doc
    rev: Doc
    twin: tuple[Doc, Doc] | None = None
    deprecation_days: int = 0

    def twin_pair(self) -> tuple[Doc, Doc]:
        """The twin, or the change reversed."""
        return self.twin if self.twin is not None else (self.rev, self.base)


def one(operation: dict[str, Any], path: str = "/a", method: str = "get", **top: Any) -> Doc:
    """A document with one operation (plus a second path, so /a can be removed alone)."""
    return doc({path: {method: operation}, "/keep": {"get": op()}}, **top)


def both(path_item: dict[str, Any], **top: Any) -> Doc:
    """A document whose path /a has the given path item."""
    return doc({"/a": path_item, "/keep": {"get": op()}}, **top)


def removed(**base_fields: Any) -> tuple[Doc, Doc]:
    """/a (with ``base_fields`` on its operation) present, then removed with its path."""
    return one(op(**base_fields)), doc({"/keep": {"get": op()}})


def op_removed(**base_fields: Any) -> tuple[Doc, Doc]:
    """DELETE /a (with ``base_fields``) present, then removed; GET /a stays."""
    return (both({"get": op(), "delete": op(**base_fields)}), both({"get": op()}))


def param(name: str = "q", where: str = "query", **fields: Any) -> dict[str, Any]:
    """A parameter with a string schema."""
    return {"name": name, "in": where, "schema": STR, **fields}


def with_params(*params: dict[str, Any]) -> Doc:
    """GET /a with these parameters."""
    return one(op(parameters=list(params)))


def body(schema: Any = STR, **fields: Any) -> Doc:
    """POST /a with a JSON request body."""
    return one(op(requestBody={"content": json_body(schema), **fields}), method="post")


def responding(**responses: Any) -> Doc:
    """GET /a with these responses (keys like r200 for "200")."""
    return one(op(responses={k.lstrip("r"): v for k, v in responses.items()}))


def ok(content: Any = None, **fields: Any) -> dict[str, Any]:
    """A response object."""
    response: dict[str, Any] = {"description": "ok", **fields}
    if content is not None:
        response["content"] = content
    return response


def obj(required: list[str] | None = None, **props: Any) -> dict[str, Any]:
    """An object schema."""
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def req_obj(schema: dict[str, Any]) -> Doc:
    """POST /a taking ``schema`` as its JSON body."""
    return body(schema)


def resp_obj(schema: dict[str, Any]) -> Doc:
    """GET /a returning ``schema`` as its JSON 200 body."""
    return responding(r200=ok(json_body(schema)))


def header_param(schema: dict[str, Any]) -> Doc:
    """GET /a with a header parameter whose schema is ``schema``."""
    return with_params({"name": "X-Q", "in": "header", "schema": schema})


OAUTH: dict[str, Any] = {"o": {"type": "oauth2", "flows": {"clientCredentials": {
    "tokenUrl": "https://t.example/token", "scopes": {"read": "r", "write": "w"}}}}}
KEYS: dict[str, Any] = {"a": {"type": "apiKey", "in": "header", "name": "X-A"},
        "b": {"type": "apiKey", "in": "header", "name": "X-B"}, **OAUTH}


def secured(security: list[Any] | None, top: list[Any] | None = None) -> Doc:
    """GET /a with an operation security list (None: none of its own) and a global one."""
    fields = {} if security is None else {"security": security}
    extra: dict[str, Any] = {"components": {"securitySchemes": KEYS}}
    if top is not None:
        extra["security"] = top
    return one(op(**fields), **extra)


def schemes(schemes_: dict[str, Any]) -> Doc:
    """A document with these security schemes."""
    return one(op(), components={"securitySchemes": schemes_})


def prop_lifecycle(where: str, **fields: Any) -> Doc:
    """A request or response object whose property p carries ``fields``."""
    schema = obj(p={**STR, **fields})
    return req_obj(schema) if where == "request" else resp_obj(schema)


def mutability(where: str, required: bool, **fields: Any) -> Doc:
    """A request or response object with property p (required or not) carrying ``fields``."""
    schema = obj(["p"] if required else None, p={**STR, **fields})
    return req_obj(schema) if where == "request" else resp_obj(schema)


def _cases() -> list[Case]:
    cases = [
        Case("api-path-removed-without-deprecation", *removed(),
             twin=removed(deprecated=True)),
        Case("api-path-removed-with-deprecation", *removed(deprecated=True, **{"x-sunset": PAST}),
             twin=removed()),
        Case("api-path-sunset-parse", *removed(deprecated=True, **{"x-sunset": "soon"}),
             twin=removed(deprecated=True, **{"x-sunset": PAST})),
        Case("api-path-removed-before-sunset",
             *removed(deprecated=True, **{"x-sunset": FUTURE}),
             twin=removed(deprecated=True, **{"x-sunset": PAST})),
        Case("api-removed-without-deprecation", *op_removed(), twin=op_removed(deprecated=True)),
        Case("api-removed-with-deprecation", *op_removed(deprecated=True),
             twin=op_removed()),
        Case("api-removed-before-sunset", *op_removed(deprecated=True, **{"x-sunset": FUTURE}),
             twin=op_removed(deprecated=True, **{"x-sunset": PAST})),
        Case("endpoint-added", doc({"/keep": {"get": op()}}), one(op())),
        Case("endpoint-deprecated", one(op()), one(op(deprecated=True))),
        Case("endpoint-deprecated-with-sunset", one(op()),
             one(op(deprecated=True, **{"x-sunset": LATER})),
             twin=(one(op()), one(op(deprecated=True)))),
        Case("endpoint-reactivated", one(op(deprecated=True)), one(op())),
        Case("api-deprecated-sunset-parse", one(op()),
             one(op(deprecated=True, **{"x-sunset": "later"})),
             twin=(one(op()), one(op(deprecated=True, **{"x-sunset": LATER})))),
        Case("api-deprecated-sunset-missing", one(op()), one(op(deprecated=True)),
             twin=(one(op()), one(op(deprecated=True, **{"x-sunset": LATER}))),
             deprecation_days=30),
        Case("api-sunset-date-too-small", one(op()),
             one(op(deprecated=True, **{"x-sunset": SOON})),
             twin=(one(op()), one(op(deprecated=True, **{"x-sunset": LATER}))),
             deprecation_days=30),
        Case("sunset-deleted", one(op(deprecated=True, **{"x-sunset": LATER})),
             one(op(deprecated=True))),
        Case("api-sunset-date-changed-too-small",
             one(op(deprecated=True, **{"x-sunset": FUTURE})),
             one(op(deprecated=True, **{"x-sunset": LATER}))),
        Case("api-stability-decreased", one(op(**{"x-stability-level": "stable"})),
             one(op(**{"x-stability-level": "beta"}))),
        Case("api-stability-increased", one(op(**{"x-stability-level": "beta"})),
             one(op(**{"x-stability-level": "stable"}))),
        Case("api-invalid-stability-level", one(op()), one(op(**{"x-stability-level": "gamma"})),
             twin=(one(op()), one(op(**{"x-stability-level": "stable"})))),
        Case("api-operation-id-removed", one(op(operationId="getA")), one(op())),
        Case("api-operation-id-added", one(op()), one(op(operationId="getA"))),
        Case("api-tag-removed", one(op(tags=["x"])), one(op())),
        Case("api-tag-added", one(op()), one(op(tags=["x"]))),
        Case("webhook-removed", one(op(), version="3.1.0", webhooks={"w": {"post": op()}}),
             one(op(), version="3.1.0")),
        Case("webhook-added", one(op(), version="3.1.0"),
             one(op(), version="3.1.0", webhooks={"w": {"post": op()}})),
        Case("api-schema-removed", one(op(), components={"schemas": {"A": STR}}), one(op())),
        Case("api-security-component-added", schemes({}), schemes(KEYS)),
        Case("api-security-component-removed", schemes(KEYS), schemes({})),
        Case("api-security-component-type-changed", schemes({"a": KEYS["a"]}),
             schemes({"a": {"type": "http", "scheme": "bearer"}}),
             twin=(schemes({"a": KEYS["a"]}), schemes({"a": {**KEYS["a"], "name": "X-C"}}))),
        Case("api-security-component-oauth-scope-removed", schemes(OAUTH), schemes({"o": {
            "type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "https://t.example/token", "scopes": {"read": "r"}}}}})),
        Case("api-security-component-oauth-scope-added", schemes({"o": {
            "type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "https://t.example/token", "scopes": {"read": "r"}}}}}),
            schemes(OAUTH)),
        Case("api-security-removed", secured([{"a": []}, {"b": []}]), secured([{"a": []}])),
        Case("api-security-added", secured([{"a": []}]), secured([{"a": []}, {"b": []}])),
        Case("api-security-scope-added", secured([{"o": ["read"]}]),
             secured([{"o": ["read", "write"]}])),
        Case("api-security-scope-removed", secured([{"o": ["read", "write"]}]),
             secured([{"o": ["read"]}])),
        Case("api-global-security-removed", secured(None, [{"a": []}, {"b": []}]),
             secured(None, [{"a": []}])),
        Case("api-global-security-added", secured(None, [{"a": []}]),
             secured(None, [{"a": []}, {"b": []}])),
        Case("api-global-security-scope-added", secured(None, [{"o": ["read"]}]),
             secured(None, [{"o": ["read", "write"]}])),
        Case("api-global-security-scope-removed", secured(None, [{"o": ["read", "write"]}]),
             secured(None, [{"o": ["read"]}])),
        Case("api-security-became-required", secured(None), secured([{"a": []}])),
        Case("new-required-request-parameter", with_params(), with_params(
            param(required=True)), twin=(with_params(), with_params(param()))),
        Case("new-optional-request-parameter", with_params(), with_params(param()),
             twin=(with_params(), with_params(param(required=True)))),
        Case("new-required-request-default-parameter-to-existing-path", both({"get": op()}),
             both({"parameters": [param(required=True)], "get": op()}),
             twin=(both({"get": op()}), both({"parameters": [param()], "get": op()}))),
        Case("new-optional-request-default-parameter-to-existing-path", both({"get": op()}),
             both({"parameters": [param()], "get": op()}),
             twin=(both({"get": op()}),
                   both({"parameters": [param(required=True)], "get": op()}))),
        Case("request-parameter-removed", with_params(param()), with_params(),
             twin=(with_params(param(deprecated=True)), with_params())),
        Case("request-parameter-removed-with-deprecation", with_params(param(deprecated=True)),
             with_params(), twin=(with_params(param()), with_params())),
        Case("request-parameter-removed-before-sunset",
             with_params(param(deprecated=True, **{"x-sunset": FUTURE})), with_params(),
             twin=(with_params(param(deprecated=True, **{"x-sunset": PAST})), with_params())),
        Case("request-parameter-sunset-parse",
             with_params(param(deprecated=True, **{"x-sunset": "never"})), with_params(),
             twin=(with_params(param(deprecated=True, **{"x-sunset": PAST})), with_params())),
        Case("request-parameter-became-required", with_params(param()),
             with_params(param(required=True))),
        Case("request-parameter-became-optional", with_params(param(required=True)),
             with_params(param())),
        Case("request-parameter-deprecated", with_params(param()),
             with_params(param(deprecated=True))),
        Case("request-parameter-reactivated", with_params(param(deprecated=True)),
             with_params(param())),
        Case("request-parameter-deprecated-sunset-missing", with_params(param()),
             with_params(param(deprecated=True)), deprecation_days=30,
             twin=(with_params(param()),
                   with_params(param(deprecated=True, **{"x-sunset": LATER})))),
        Case("request-parameter-sunset-date-too-small", with_params(param()),
             with_params(param(deprecated=True, **{"x-sunset": SOON})), deprecation_days=30,
             twin=(with_params(param()),
                   with_params(param(deprecated=True, **{"x-sunset": LATER})))),
        Case("request-parameter-sunset-deleted",
             with_params(param(deprecated=True, **{"x-sunset": LATER})),
             with_params(param(deprecated=True))),
        Case("request-parameter-sunset-date-changed-too-small",
             with_params(param(deprecated=True, **{"x-sunset": FUTURE})),
             with_params(param(deprecated=True, **{"x-sunset": LATER}))),
        Case("request-parameter-style-changed",
             with_params(param(schema={"type": "array", "items": STR})),
             with_params(param(schema={"type": "array", "items": STR}, style="pipeDelimited")),
             twin=(with_params(param(schema={"type": "array", "items": STR})),
                   with_params(param(schema={"type": "array", "items": STR}, style="form")))),
        Case("request-parameter-explode-changed",
             with_params(param(schema={"type": "array", "items": STR})),
             with_params(param(schema={"type": "array", "items": STR}, explode=False)),
             twin=(with_params(param()), with_params(param(explode=False)))),
        Case("request-parameter-became-not-allow-reserved",
             with_params(param(allowReserved=True)), with_params(param())),
        Case("request-parameter-became-allow-reserved", with_params(param()),
             with_params(param(allowReserved=True))),
        Case("request-parameter-location-changed", with_params(param("token")),
             with_params(param("token", "header")),
             twin=(with_params(param("token")), with_params(param("token")))),
        Case("request-body-added-required", one(op(), method="post"), body(required=True),
             twin=(one(op(), method="post"), body())),
        Case("request-body-added-optional", one(op(), method="post"), body(),
             twin=(one(op(), method="post"), body(required=True))),
        Case("request-body-removed", body(), one(op(), method="post")),
        Case("request-body-became-required", body(), body(required=True)),
        Case("request-body-became-optional", body(required=True), body()),
        Case("request-body-media-type-removed",
             one(op(requestBody={"content": {**json_body(STR), "text/plain": {"schema": STR}}}),
                 method="post"), body()),
        Case("request-body-media-type-added", body(),
             one(op(requestBody={"content": {**json_body(STR), "text/plain": {"schema": STR}}}),
                 method="post")),
        Case("request-body-media-type-schema-added",
             one(op(requestBody={"content": {"application/json": {}}}), method="post"), body()),
        Case("request-body-media-type-schema-removed", body(),
             one(op(requestBody={"content": {"application/json": {}}}), method="post")),
        Case("response-success-status-removed", responding(r200=ok(), r201=ok()),
             responding(r200=ok())),
        Case("response-success-status-added", responding(r200=ok()),
             responding(r200=ok(), r201=ok())),
        Case("response-non-success-status-removed", responding(r200=ok(), r404=ok()),
             responding(r200=ok())),
        Case("response-non-success-status-added", responding(r200=ok()),
             responding(r200=ok(), r404=ok())),
        Case("response-media-type-removed",
             responding(r200=ok({**json_body(STR), "text/plain": {"schema": STR}})),
             responding(r200=ok(json_body(STR)))),
        Case("response-media-type-added", responding(r200=ok(json_body(STR))),
             responding(r200=ok({**json_body(STR), "text/plain": {"schema": STR}}))),
        Case("response-media-type-name-changed", responding(r200=ok(json_body(STR))),
             responding(r200=ok({"application/json; charset=utf-8": {"schema": STR}})),
             twin=(responding(r200=ok(json_body(STR))),
                   responding(r200=ok(json_body({**STR, "description": "d"}))))),
        Case("response-media-type-name-generalized", responding(r200=ok(json_body(STR))),
             responding(r200=ok({"application/*": {"schema": STR}}))),
        Case("response-media-type-name-specialized",
             responding(r200=ok({"application/*": {"schema": STR}})),
             responding(r200=ok(json_body(STR)))),
        Case("response-body-media-type-schema-removed", responding(r200=ok(json_body(STR))),
             responding(r200=ok({"application/json": {}}))),
        Case("response-body-media-type-schema-added",
             responding(r200=ok({"application/json": {}})), responding(r200=ok(json_body(STR)))),
        Case("required-response-header-removed",
             responding(r200=ok(headers={"X-R": {"required": True, "schema": STR}})),
             responding(r200=ok()),
             twin=(responding(r200=ok(headers={"X-R": {"schema": STR}})), responding(r200=ok()))),
        Case("optional-response-header-removed",
             responding(r200=ok(headers={"X-R": {"schema": STR}})), responding(r200=ok()),
             twin=(responding(r200=ok(headers={"X-R": {"required": True, "schema": STR}})),
                   responding(r200=ok()))),
        Case("response-header-added", responding(r200=ok()),
             responding(r200=ok(headers={"X-R": {"schema": STR}}))),
        Case("response-header-became-optional",
             responding(r200=ok(headers={"X-R": {"required": True, "schema": STR}})),
             responding(r200=ok(headers={"X-R": {"schema": STR}}))),
        Case("new-required-request-property", req_obj(obj(a=STR)),
             req_obj(obj(["b"], a=STR, b=STR)),
             twin=(req_obj(obj(a=STR)), req_obj(obj(a=STR, b=STR)))),
        Case("new-required-request-property-with-default", req_obj(obj(a=STR)),
             req_obj(obj(["b"], a=STR, b={**STR, "default": "x"})),
             twin=(req_obj(obj(a=STR)), req_obj(obj(["b"], a=STR, b=STR)))),
        Case("new-optional-request-property", req_obj(obj(a=STR)), req_obj(obj(a=STR, b=STR)),
             twin=(req_obj(obj(a=STR)), req_obj(obj(["b"], a=STR, b=STR)))),
        Case("request-property-removed", req_obj(obj(a=STR, b=STR)), req_obj(obj(a=STR))),
        Case("request-property-became-required", req_obj(obj(a=STR)), req_obj(obj(["a"], a=STR))),
        Case("request-property-became-required-with-default",
             req_obj(obj(a={**STR, "default": "x"})),
             req_obj(obj(["a"], a={**STR, "default": "x"})),
             twin=(req_obj(obj(a=STR)), req_obj(obj(["a"], a=STR)))),
        Case("request-property-became-optional", req_obj(obj(["a"], a=STR)), req_obj(obj(a=STR))),
        Case("new-required-request-header-property", header_param(obj(a=STR)),
             header_param(obj(["b"], a=STR, b=STR)),
             twin=(header_param(obj(a=STR)), header_param(obj(a=STR, b=STR)))),
        Case("request-header-property-became-required", header_param(obj(a=STR)),
             header_param(obj(["a"], a=STR))),
        Case("response-required-property-removed", resp_obj(obj(["a", "b"], a=STR, b=STR)),
             resp_obj(obj(["a"], a=STR)),
             twin=(resp_obj(obj(["a"], a=STR, b=STR)), resp_obj(obj(["a"], a=STR)))),
        Case("response-optional-property-removed", resp_obj(obj(a=STR, b=STR)),
             resp_obj(obj(a=STR)),
             twin=(resp_obj(obj(["b"], a=STR, b=STR)), resp_obj(obj(a=STR)))),
        Case("response-required-property-added", resp_obj(obj(a=STR)),
             resp_obj(obj(["b"], a=STR, b=STR))),
        Case("response-optional-property-added", resp_obj(obj(a=STR)), resp_obj(obj(a=STR, b=STR))),
        Case("response-property-became-optional", resp_obj(obj(["a"], a=STR)),
             resp_obj(obj(a=STR))),
        Case("response-property-became-required", resp_obj(obj(a=STR)),
             resp_obj(obj(["a"], a=STR))),
    ]
    wo = {**STR, "writeOnly": True}
    cases += [
        Case("response-required-write-only-property-removed",
             resp_obj(obj(["a", "b"], a=STR, b=wo)), resp_obj(obj(["a"], a=STR))),
        Case("response-optional-write-only-property-removed", resp_obj(obj(a=STR, b=wo)),
             resp_obj(obj(a=STR))),
        Case("response-required-write-only-property-added", resp_obj(obj(a=STR)),
             resp_obj(obj(["b"], a=STR, b=wo))),
        Case("response-optional-write-only-property-added", resp_obj(obj(a=STR)),
             resp_obj(obj(a=STR, b=wo))),
        Case("response-write-only-property-became-optional", resp_obj(obj(["b"], b=wo)),
             resp_obj(obj(b={**STR, "writeOnly": True}))),
        Case("response-write-only-property-became-required", resp_obj(obj(b=wo)),
             resp_obj(obj(["b"], b=wo))),
    ]
    for where in ("request", "response"):
        for required in (True, False):
            state = "required" if required else "optional"
            for flag, label in (("readOnly", "read-only"), ("writeOnly", "write-only")):
                on, off = mutability(where, required, **{flag: True}), mutability(where, required)
                cases.append(Case(f"{where}-{state}-property-became-{label}", off, on))
                cases.append(Case(f"{where}-{state}-property-became-not-{label}", on, off))
        plain = prop_lifecycle(where)
        cases += [
            Case(f"{where}-property-deprecated", plain, prop_lifecycle(where, deprecated=True)),
            Case(f"{where}-property-deprecated-with-sunset", plain,
                 prop_lifecycle(where, deprecated=True, **{"x-sunset": LATER}),
                 twin=(plain, prop_lifecycle(where, deprecated=True))),
            Case(f"{where}-property-deprecated-sunset-missing", plain,
                 prop_lifecycle(where, deprecated=True), deprecation_days=30,
                 twin=(plain, prop_lifecycle(where, deprecated=True, **{"x-sunset": LATER}))),
            Case(f"{where}-property-deprecated-sunset-invalid", plain,
                 prop_lifecycle(where, deprecated=True, **{"x-sunset": "nope"}),
                 twin=(plain, prop_lifecycle(where, deprecated=True, **{"x-sunset": LATER}))),
            Case(f"{where}-property-sunset-date-too-small", plain,
                 prop_lifecycle(where, deprecated=True, **{"x-sunset": SOON}),
                 deprecation_days=30,
                 twin=(plain, prop_lifecycle(where, deprecated=True, **{"x-sunset": LATER}))),
            Case(f"{where}-property-reactivated", prop_lifecycle(where, deprecated=True), plain),
            Case(f"{where}-property-stability-decreased",
                 prop_lifecycle(where, **{"x-stability-level": "stable"}),
                 prop_lifecycle(where, **{"x-stability-level": "alpha"})),
            Case(f"{where}-property-stability-increased",
                 prop_lifecycle(where, **{"x-stability-level": "alpha"}),
                 prop_lifecycle(where, **{"x-stability-level": "stable"})),
        ]
    return cases


CASES = _cases()
