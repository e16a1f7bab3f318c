"""check_flag / all_problems: a flag alone, and its prerequisites among the other flags."""

from __future__ import annotations

from dataclasses import replace

import pytest

from safeship.flags import FlagType, Prerequisite, changes
from safeship.flags.model import Variant
from safeship.flags.validation import (
    MAX_VARIANTS,
    FlagProblem,
    all_problems,
    check_flag,
    find_cycle,
    name_problem,
)
from tests.unit.flags.flag_samples import boolean_flag, string_flag


def rendered(problems: list[FlagProblem]) -> list[str]:
    return [problem.render() for problem in problems]


def test_a_sample_flag_is_valid() -> None:
    assert check_flag(boolean_flag(percent=0.3, rules=("country in DE,AT -> off",))) == []
    assert check_flag(string_flag()) == []


@pytest.mark.parametrize(("name", "ok"), [
    ("new-checkout", True), ("a.b_c-1", True), ("9lives", True), ("", False),
    ("-dash", False), ("with space", False), ("ümlaut", False), ("x" * 65, False),
])
def test_names(name: str, ok: bool) -> None:
    assert (name_problem(name, "a variant name") is None) is ok


def test_variant_values_must_fit_the_type() -> None:
    flag = changes.new_flag("n", FlagType.NUMBER, variants=[("a", 1), ("b", 2.5)])
    assert check_flag(flag) == []
    cases = {
        FlagType.BOOLEAN: "yes", FlagType.STRING: 5, FlagType.NUMBER: True,
        FlagType.JSON: {"bad": float("nan")},
    }
    for flag_type, value in cases.items():
        broken = replace(flag, flag_type=flag_type, variants=(Variant("a", value),),
                         off_variant="a", environments={})
        problems = rendered(check_flag(broken))
        assert len(problems) == 1, problems
        assert problems[0].startswith("variants.a: ")
    assert rendered(check_flag(replace(flag, variants=(Variant("a", float("inf")),),
                                       off_variant="a", environments={})))


def test_structural_problems_are_all_reported_with_paths() -> None:
    flag = boolean_flag(rules=("one: country equals DE -> on", "two: country equals FR -> on"))
    production = flag.environments["production"]
    rules = (production.rules[0], replace(production.rules[1], rule_id="one"))
    broken = replace(
        flag, key="bad key", off_variant="nope", description="x" * 3000, salt="s" * 200,
        variants=(*flag.variants, Variant("on", True)),
        prerequisites=(Prerequisite("bad key", ("on",)), Prerequisite("bad key", ("on",))),
        environments={"prod uction": replace(production, rules=rules)},
    )
    problems = rendered(check_flag(broken))
    for expected in (
        "key: the flag key 'bad key' may hold only",
        "description: is longer than",
        "salt: is longer than",
        "variants.on: variant 'on' is defined twice",
        "off_variant: unknown variant 'nope'",
        "prerequisites[0].flag: a flag cannot be its own prerequisite",
        "prerequisites[1].flag: prerequisite 'bad key' is listed twice",
        "environments.prod uction: an environment name 'prod uction' may hold only",
        "environments.prod uction.rules[1].id: rule id 'one' is used twice",
    ):
        assert any(problem.startswith(expected) for problem in problems), (expected, problems)


def test_too_many_variants_and_no_variants() -> None:
    many = changes.new_flag("m", FlagType.STRING,
                            variants=[(f"v{i}", str(i)) for i in range(MAX_VARIANTS + 1)])
    assert any("at most" in p for p in rendered(check_flag(many)))
    empty = replace(many, variants=(), environments={})
    assert any("at least one variant" in p for p in rendered(check_flag(empty)))


def test_prerequisites_must_exist_and_name_real_variants() -> None:
    flag = changes.set_prerequisites(boolean_flag("checkout"), [
        Prerequisite("payments", ("on",)), Prerequisite("theme", ("purple",))])
    problems = rendered(all_problems(flag, {"theme": string_flag()}))
    assert "prerequisites[0].flag: no flag 'payments'" in problems
    assert any(p.startswith("prerequisites[1].variants: flag 'theme' has no variant 'purple'")
               for p in problems)


def test_cycles_are_refused_with_their_path() -> None:
    a = changes.set_prerequisites(boolean_flag("a"), [Prerequisite("b", ("on",))])
    b = changes.set_prerequisites(boolean_flag("b"), [Prerequisite("c", ("on",))])
    c = boolean_flag("c")
    assert all_problems(a, {"b": b, "c": c}) == []
    c_cyclic = changes.set_prerequisites(c, [Prerequisite("a", ("on",))])
    problems = rendered(all_problems(c_cyclic, {"a": a, "b": b, "c": c}))
    assert problems == ["prerequisites: prerequisites form a cycle: c -> a -> b -> c"]


def test_removing_a_variant_others_wait_for_is_refused() -> None:
    theme = string_flag()
    contrast = changes.set_prerequisites(boolean_flag("contrast"),
                                         [Prerequisite("theme", ("light",))])
    shrunk = replace(theme, variants=tuple(v for v in theme.variants if v.name != "light"))
    problems = rendered(all_problems(shrunk, {"contrast": contrast, "theme": theme}))
    assert problems == [
        "variants: flag 'contrast' needs variant 'light' of this flag as a prerequisite"]


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}, "a") is None
    assert find_cycle({"a": ["a"]}, "a") == ["a", "a"]
    # a diamond is not a cycle
    assert find_cycle({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}, "a") is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["b"]}, "a") == ["b", "c", "b"]
    # long chains do not hit the recursion limit
    chain = {f"f{i}": [f"f{i + 1}"] for i in range(5000)}
    assert find_cycle(chain, "f0") is None
    chain["f5000"] = ["f0"]
    cycle = find_cycle(chain, "f0")
    assert cycle is not None
    assert (cycle[0], cycle[-1], len(cycle)) == ("f0", "f0", 5002)
