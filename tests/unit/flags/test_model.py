"""The flag dataclasses: what each constructor refuses on its own, and frozen JSON values."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from safeship.flags import (
    Environment,
    Flag,
    FlagType,
    Prerequisite,
    Rollout,
    Rule,
    Serve,
    Variant,
    Weight,
)
from safeship.flags.model import freeze, is_json_value, thaw


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Weight("a", 1.5), "whole number"),
    (lambda: Weight("a", True), "whole number"),
    (lambda: Weight("a", -1), "between 0% and 100%"),
    (lambda: Weight("a", 100_001), "between 0% and 100%"),
    (lambda: Rollout(()), "at least one variant"),
    (lambda: Rollout((Weight("a", 50_000), Weight("a", 50_000))), "twice"),
    (lambda: Rollout((Weight("a", 50_000), Weight("b", 40_000))), "90%, not 100%"),
    (lambda: Rollout((Weight("a", 100_000),), bucket_by=""), "bucket_by"),
    (lambda: Serve(), "exactly one"),
    (lambda: Serve("a", Rollout((Weight("a", 100_000),))), "exactly one"),
    (lambda: Rule("", (), Serve("a")), "needs an id"),
    (lambda: Prerequisite("other", ()), "at least one variant"),
])
def test_constructors_refuse_what_they_can_see(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_json_values_are_frozen_and_thawed() -> None:
    variant = Variant("v", {"a": [1, {"b": 2}]})
    assert isinstance(variant.value, MappingProxyType)
    assert variant.value["a"] == (1, MappingProxyType({"b": 2}))
    with pytest.raises(TypeError):
        variant.value["a"] = 0  # type: ignore[index]
    assert thaw(variant.value) == {"a": [1, {"b": 2}]}
    assert freeze("text") == "text"


@pytest.mark.parametrize(("value", "ok"), [
    ({"a": [1, 2.5, None, True, "x"]}, True), ({1: "x"}, False), (float("nan"), False),
    ({"a": object()}, False), (b"bytes", False),
])
def test_is_json_value(value: object, ok: bool) -> None:
    assert is_json_value(value) is ok


def test_deep_nesting_is_not_json() -> None:
    deep: object = 1
    for _ in range(70):
        deep = [deep]
    assert not is_json_value(deep)


def test_flag_helpers() -> None:
    flag = Flag("f", "string", [Variant("a", "x"), Variant("b", "y")], "a",  # type: ignore[arg-type]
                {"prod": Environment(Serve("b"), enabled=True)})
    assert flag.flag_type is FlagType.STRING
    assert flag.salt == "f"
    assert flag.variant_names == ("a", "b")
    assert flag.value_of("b") == "y"
    assert flag.has_variant("a")
    assert not flag.has_variant("c")
    assert flag.environment("prod") is not None
    assert flag.environment("dev") is None
    assert flag.environments["prod"].serving
    assert not flag.killed
    with pytest.raises(KeyError):
        flag.value_of("c")
