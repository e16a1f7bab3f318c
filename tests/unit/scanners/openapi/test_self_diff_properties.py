"""Property tests (hypothesis): a spec compared with itself, or with itself reordered and
re-documented, has no changes; any two specs compare without errors into catalogue rules
whose pointers name real places.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeship.scanners.openapi import RULES, DiffOptions, diff_specs
from tests.unit.scanners.openapi.specs import TODAY, doc, json_body, op, parse, pointer_target

NAMES = st.sampled_from(["id", "name", "kind", "size", "tags", "owner", "when"])
_SETTINGS = settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    string = st.fixed_dictionaries({"type": st.just("string")}, optional={
        "maxLength": st.integers(1, 50), "minLength": st.integers(0, 3),
        "pattern": st.sampled_from(["^a", "^[0-9]+$"]), "format": st.sampled_from(
            ["uuid", "date"]), "enum": st.lists(st.sampled_from(["a", "b", "c"]), min_size=1,
                                                 max_size=3, unique=True),
        "nullable": st.booleans(), "default": st.just("a")})
    number = st.fixed_dictionaries({"type": st.sampled_from(["integer", "number"])}, optional={
        "minimum": st.integers(-5, 0), "maximum": st.integers(1, 100),
        "multipleOf": st.sampled_from([1, 2, 5]), "nullable": st.booleans()})
    ref = st.just({"$ref": "#/components/schemas/Node"})
    return st.one_of(string, number, st.just({"type": "boolean"}), ref)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    def obj(props: dict[str, Any], required: list[str], read_only: bool) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "properties": props}
        required = [name for name in required if name in props]
        if required:
            schema["required"] = required
        if read_only and props:
            first = next(iter(props))
            props[first] = {**props[first], "readOnly": True}
        return schema

    objects = st.builds(obj, st.dictionaries(NAMES, children, min_size=1, max_size=3),
                        st.lists(NAMES, max_size=3, unique=True), st.booleans())
    arrays = st.builds(lambda items, n: {"type": "array", "items": items, "maxItems": n},
                       children, st.integers(1, 10))
    composed = st.builds(lambda key, parts: {key: parts}, st.sampled_from(
        ["allOf", "oneOf", "anyOf"]), st.lists(children, min_size=1, max_size=3))
    return st.one_of(objects, arrays, composed)


SCHEMAS = st.recursive(_leaf(), _extend, max_leaves=8)
NODE: dict[str, Any] = {"type": "object", "properties": {"label": {"type": "string"}, "next": {
    "$ref": "#/components/schemas/Node"}}}


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A small spec whose schemas come from :data:`SCHEMAS` (the Node component recurses)."""
    paths: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 3))):
        body, out, param = draw(SCHEMAS), draw(SCHEMAS), draw(_leaf())
        paths[f"/r{index}/{{id}}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "post": op(parameters=[{"name": "q", "in": "query", "schema": param,
                                    "required": draw(st.booleans())}],
                       requestBody={"content": json_body(body),
                                    "required": draw(st.booleans())},
                       responses={"200": {"description": "ok", "content": json_body(out)}}),
        }
    node = copy.deepcopy(NODE)
    if draw(st.booleans()):
        node["properties"]["extra"] = draw(SCHEMAS)
    return doc(paths, components={"schemas": {"Node": node}})


def _reordered_and_documented(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        out = {k: _reordered_and_documented(value[k], rng) for k in keys}
        if "type" in out:
            out["description"] = "documented later"
        return out
    if isinstance(value, list):
        return [_reordered_and_documented(v, rng) for v in value]
    return value


@_SETTINGS
@given(specs())
def test_a_spec_against_itself_has_no_changes(data: dict[str, Any]) -> None:
    spec = parse(data, validate=False)
    assert diff_specs(spec, spec, DiffOptions(TODAY)).changes == ()


@_SETTINGS
@given(specs(), st.randoms(use_true_random=False))
def test_reordering_and_documenting_changes_nothing(data: dict[str, Any],
                                                   rng: random.Random) -> None:
    other = _reordered_and_documented(copy.deepcopy(data), rng)
    for key in ("required", "enum"):
        _shuffle_lists(other, key, rng)
    base, rev = parse(data, validate=False), parse(other, "rev.json", validate=False)
    assert diff_specs(base, rev, DiffOptions(TODAY)).changes == ()


def _shuffle_lists(value: Any, key: str, rng: random.Random) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and isinstance(v, list) and all(isinstance(i, str) for i in v):
                rng.shuffle(v)
            else:
                _shuffle_lists(v, key, rng)
    elif isinstance(value, list):
        for item in value:
            _shuffle_lists(item, key, rng)


@_SETTINGS
@given(specs(), specs())
def test_any_two_specs_diff_into_known_rules_at_real_places(
        first: dict[str, Any], second: dict[str, Any]) -> None:
    base, rev = parse(first, validate=False), parse(second, "rev.json", validate=False)
    report = diff_specs(base, rev, DiffOptions(TODAY))
    for change in report.changes:
        assert change.id in RULES
        assert change.level is RULES[change.id].level
        assert change.message
        assert change.base_pointer is None or pointer_target(base, change.base_pointer)
        assert change.revision_pointer is None or pointer_target(rev, change.revision_pointer)
    again = diff_specs(base, rev, DiffOptions(TODAY))
    assert again.changes == report.changes
