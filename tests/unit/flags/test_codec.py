"""Flag documents: round trips, defaults, versions, and problems located at file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeship.config.flag_file import read_flag_file
from safeship.errors import ConfigError, NotFound
from safeship.flags import EvaluationContext, FlagType, changes, evaluate
from safeship.flags.codec import (
    flag_from_dict,
    flag_from_file,
    flag_from_json,
    flag_to_dict,
    flag_to_json,
)
from safeship.flags.compact import parse_rule
from tests.unit.flags.flag_samples import boolean_flag

FILE = """\
apiVersion: safeship/v1
kind: Flag
key: new-checkout
type: string
description: the one-page checkout
variants:
  old: classic
  new: one-page
  beta: one-page-beta
off_variant: old
prerequisites:
  - {flag: payments, variants: [on]}
environments:
  production:
    enabled: true
    rules:
      - id: staff
        when:
          - {attribute: email, op: regex, value: '@example\\.com$'}
          - {attribute: app_version, op: semver_gte, value: 2.1.0}
        serve: beta
      - when:
          - {attribute: country, op: in, values: [DE, AT]}
        serve: old
    default:
      rollout:
        - {variant: new, weight: 12.5%}
        - {variant: old, weight: 87.5%}
      bucket_by: session
  dev: {}
"""


def write(tmp_path: Path, text: str, name: str = "flag.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_written_file_loads_with_its_defaults(tmp_path: Path) -> None:
    flag = flag_from_file(read_flag_file(write(tmp_path, FILE)))
    assert flag.key == "new-checkout"
    assert flag.flag_type is FlagType.STRING
    assert flag.variant_names == ("old", "new", "beta")
    assert flag.salt == "new-checkout"
    production = flag.environments["production"]
    assert [rule.rule_id for rule in production.rules] == ["staff", "rule-2"]
    assert production.default.rollout is not None
    assert production.default.rollout.bucket_by == "session"
    assert [w.weight for w in production.default.rollout.weights] == [12_500, 87_500]
    dev = flag.environments["dev"]
    assert (dev.enabled, dev.killed, dev.default.variant) == (False, False, "new")
    staff = EvaluationContext("u", {"email": "a@example.com", "app_version": "2.2.0"})
    assert evaluate(flag, staff, flags={"payments": boolean_flag("payments")}).value == (
        "one-page-beta")


def test_round_trip_through_json_is_exact(tmp_path: Path) -> None:
    flag = flag_from_file(read_flag_file(write(tmp_path, FILE)))
    document = flag_to_dict(flag)
    assert document["apiVersion"] == "safeship/v1"
    assert document["kind"] == "Flag"
    assert list(document["variants"]) == ["old", "new", "beta"]  # order kept
    assert document["environments"]["production"]["default"]["rollout"][0] == {
        "variant": "new", "weight": "12.5%"}
    again = flag_from_json(flag_to_json(flag), "round trip")
    assert again == flag
    assert flag_to_dict(again) == document
    # ...and the JSON document is itself a valid flag file
    assert flag_from_file(read_flag_file(write(tmp_path, flag_to_json(flag, indent=2),
                                               "flag.json"))) == flag


def test_a_boolean_flag_needs_only_a_key() -> None:
    flag = flag_from_dict({"key": "tiny"}, "tiny")
    assert flag.variant_names == ("on", "off")
    assert flag.off_variant == "off"
    assert flag.environments == {}
    custom = flag_from_dict({"key": "b", "variants": {"yes": True, "no": False}}, "b")
    assert custom.off_variant == "no"


def test_salt_and_key_handling() -> None:
    salted = flag_from_dict({"key": "a", "salt": "pepper"}, "a")
    assert salted.salt == "pepper"
    assert flag_to_dict(salted)["salt"] == "pepper"
    assert "salt" not in flag_to_dict(boolean_flag())
    assert flag_from_dict({}, "x", key="given").key == "given"
    with pytest.raises(ConfigError, match="describes flag 'a', not 'b'"):
        flag_from_dict({"key": "a"}, "x", key="b")
    with pytest.raises(ConfigError, match="needs a key"):
        flag_from_dict({}, "x")


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        flag_from_file(read_flag_file(write(tmp_path, text)))
    return caught.value.diagnostics()


def test_an_invalid_regex_is_reported_at_its_line(tmp_path: Path) -> None:
    lines = problems(tmp_path, FILE.replace("'@example\\.com$'", "'([a-z'"))
    assert len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'flag.yaml'}:19:")
    assert "environments.production.rules[0].when[0]" in lines[0]
    assert "invalid regular expression" in lines[0]


def test_a_bad_version_and_a_bad_split_are_both_reported(tmp_path: Path) -> None:
    text = FILE.replace("value: 2.1.0", "value: two").replace("87.5%", "80%")
    lines = problems(tmp_path, text)
    assert any(":20:" in line and "not a semantic version" in line for line in lines)
    assert any("default.rollout" in line and "92.5%" in line for line in lines)


@pytest.mark.parametrize(("change", "expected"), [
    (("serve: beta", "serve: gamma"), "rules[0].serve: unknown variant 'gamma'"),
    (("off_variant: old", "off_variant: none"), "off_variant: unknown variant 'none'"),
    (("  beta: one-page-beta", "  beta: 7"), "variants.beta: a string flag's values are"),
    (("type: string", "type: strings"), "type: must be one of"),
    (("weight: 12.5%", "weight: 12.5"), "is not between 0 and 1"),
    (("op: regex", "op: like"), "unknown operator 'like'"),
    (("      - id: staff", "      - id: st aff"), "a rule id 'st aff' may hold only"),
    (("apiVersion: safeship/v1", "apiVersion: safeship/v9"), "apiVersion: must be one of"),
    (("kind: Flag", "kind: Service"), "kind: must be one of"),
    (("enabled: true", "enabled: true\n    enable: true"), "unknown key"),
    (("values: [DE, AT]", "values: [DE, AT], value: DE"), "exactly one of"),
    (("{flag: payments, variants: [on]}", "{flag: new-checkout, variants: [on]}"),
     "cannot be its own prerequisite"),
])
def test_problems_name_the_field(tmp_path: Path, change: tuple[str, str],
                                 expected: str) -> None:
    assert change[0] in FILE
    lines = problems(tmp_path, FILE.replace(change[0], change[1], 1))
    assert any(expected in line for line in lines), lines
    assert all(line.startswith(str(tmp_path)) for line in lines if not line.startswith("hint"))


def test_non_boolean_flags_need_variants() -> None:
    with pytest.raises(ConfigError, match="a number flag needs its variants listed"):
        flag_from_dict({"key": "n", "type": "number"}, "n")


def test_weights_that_round_short_of_one_hundred_percent_are_closed() -> None:
    third = "33.3333%"
    flag = flag_from_dict({"key": "t", "type": "string",
                           "variants": {"a": "a", "b": "b", "c": "c"},
                           "environments": {"p": {"default": {"rollout": [
                               {"variant": "a", "weight": third},
                               {"variant": "b", "weight": third},
                               {"variant": "c", "weight": third}]}}}}, "t")
    rollout = flag.environments["p"].default.rollout
    assert rollout is not None
    assert [w.weight for w in rollout.weights] == [33_333, 33_333, 33_334]


def test_json_and_file_errors() -> None:
    with pytest.raises(ConfigError, match="invalid JSON") as caught:
        flag_from_json("{not json", "stdin")
    assert caught.value.problems[0].location.line == 1
    with pytest.raises(ConfigError, match="expected a mapping"):
        flag_from_dict(["a"], "list")
    with pytest.raises(NotFound):
        read_flag_file(Path("/nonexistent/flag.yaml"))


def test_problems_without_a_file_are_named_by_their_source() -> None:
    with pytest.raises(ConfigError) as caught:
        flag_from_dict({"key": "x", "off_variant": "nope"}, "flag 'x' in the state store")
    assert caught.value.diagnostics()[0] == (
        "flag 'x' in the state store: off_variant: unknown variant 'nope' (variants: on, off)")


_names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    key=_names,
    variants=st.lists(st.tuples(_names, st.integers(-1000, 1000) | st.floats(-1e6, 1e6)),
                      min_size=2, max_size=5, unique_by=lambda pair: pair[0]),
    percent=st.integers(0, 100_000),
    country=st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4),
    enabled=st.booleans(),
    killed=st.booleans(),
)
def test_generated_flags_round_trip(key: str, variants: list[tuple[str, float]], percent: int,
                                    country: list[str], enabled: bool, killed: bool) -> None:
    flag = changes.new_flag(key, FlagType.NUMBER, variants=variants)
    flag = changes.set_rollout(flag, "production", percent / 100_000,
                               variant=variants[1][0])
    rule = parse_rule(f"r: version semver_lt 3.0.0 -> {variants[1][0]}", 1)
    condition = rule.conditions[0]
    flag = changes.set_rules(flag, "production", [
        rule, parse_rule(f"c: country in {json.dumps(country)} -> {variants[0][0]}", 2)])
    if enabled:
        flag = changes.enable(flag, "production")
    if killed:
        flag = changes.kill(flag)
    assert condition.values == ("3.0.0",)
    assert flag_from_json(flag_to_json(flag), "generated") == flag
