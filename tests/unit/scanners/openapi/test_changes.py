"""The diff's output: the JSON shape, ordering, levels and the catalogue's helpers."""

from __future__ import annotations

import json

import pytest

from safeship.errors import InternalError
from safeship.scanners.openapi import RULES, Level
from safeship.scanners.openapi.context import DiffContext, DiffOptions, Place
from safeship.scanners.openapi.pointers import from_ref, to_pointer
from safeship.scanners.openapi.rules import level_of
from tests.unit.scanners.openapi.specs import TODAY, diff, doc, op, parse

REQUIRED_FIELDS = {"id", "level", "operation", "path", "message", "base_pointer",
                   "revision_pointer"}


def _breaking_and_not() -> tuple[dict[str, object], dict[str, object]]:
    base = doc({"/a": {"get": op()}, "/b": {"get": op(parameters=[
        {"name": "q", "in": "query", "schema": {"type": "string"}}])}})
    rev = doc({"/b": {"get": op(parameters=[
        {"name": "q", "in": "query", "schema": {"type": "string"}},
        {"name": "r", "in": "query", "schema": {"type": "string"}}])},
        "/c": {"get": op()}})
    return base, rev


def test_json_shape_keeps_the_documented_fields() -> None:
    report = diff(*_breaking_and_not())
    data = json.loads(json.dumps(report.to_json(Level.ERR, Level.INFO)))
    assert data["breaking"] is True
    assert data["counts"] == {"ERR": 1, "WARN": 0, "INFO": 2}
    assert (data["base"], data["revision"]) == ("base.json", "rev.json")
    assert len(data["changes"]) == 3
    for change in data["changes"]:
        assert set(change) >= REQUIRED_FIELDS
        assert change["level"] in ("ERR", "WARN", "INFO")
        assert change["id"] in RULES
    first = data["changes"][0]
    assert (first["id"], first["operation"], first["path"]) == (
        "api-path-removed-without-deprecation", "GET /a", "/a")
    assert first["base_pointer"] == "/paths/~1a/get"


def test_levels_filter_and_order() -> None:
    report = diff(*_breaking_and_not())
    assert [c.level for c in report.changes] == sorted(
        (c.level for c in report.changes), key=lambda level: -level.rank)
    assert len(report.at_least(Level.WARN)) == 1
    assert report.to_json(Level.ERR, Level.WARN)["changes"][0]["level"] == "ERR"
    base, rev = _breaking_and_not()
    assert diff(rev, base).breaking(Level.ERR)


def test_fail_on_warn_counts_warnings() -> None:
    base = doc({"/b": {"get": op(parameters=[
        {"name": "q", "in": "query", "schema": {"type": "string"}}])}})
    rev = doc({"/b": {"get": op()}})
    report = diff(base, rev)
    assert not report.breaking(Level.ERR)
    assert report.breaking(Level.WARN)


@pytest.mark.parametrize(("text", "level"), [
    ("ERR", Level.ERR), ("err", Level.ERR), ("error", Level.ERR), ("WARN", Level.WARN),
    ("warning", Level.WARN), (" info ", Level.INFO),
])
def test_levels_parse(text: str, level: Level) -> None:
    assert Level.parse(text) is level


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="FATAL"):
        Level.parse("fatal")


def test_pointers_round_trip() -> None:
    ptr = ("paths", "/pets/{id}", "get", "responses", "200", "content", "a~b/c")
    text = to_pointer(ptr)
    assert text == "/paths/~1pets~1{id}/get/responses/200/content/a~0b~1c"
    assert from_ref("#" + text) == ptr
    assert from_ref("#/a%20b") == ("a b",)
    assert from_ref("#") == ()
    assert from_ref("other.yaml#/a") is None
    assert from_ref("#a") is None


def test_an_unknown_rule_is_a_bug() -> None:
    spec = parse(doc({"/a": {"get": op()}}))
    ctx = DiffContext(spec, spec, DiffOptions(TODAY))
    with pytest.raises(InternalError, match="not in the catalogue"):
        ctx.emit("no-such-rule", Place(), "x", None, None)
    assert level_of("endpoint-added") is Level.INFO


def test_the_same_change_reached_twice_is_recorded_once() -> None:
    spec = parse(doc({"/a": {"get": op()}}))
    ctx = DiffContext(spec, spec, DiffOptions(TODAY))
    for _ in range(3):
        ctx.emit("endpoint-added", Place.of("get", "/a"), "x", ("paths",), ("paths", "/a"))
    assert len(ctx.changes) == 1
    assert ctx.changes[0].operation == "GET /a"
