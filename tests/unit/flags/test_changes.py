"""Pure flag changes: new flags, enable/disable, kill/unkill, rollouts, variants, rules."""

from __future__ import annotations

import pytest

from safeship.errors import UsageError
from safeship.flags import FlagType, Prerequisite, changes
from safeship.flags.bucketing import BUCKETS
from safeship.flags.compact import parse_rule
from tests.unit.flags.flag_samples import boolean_flag, string_flag


def test_new_flags_are_off_in_every_environment() -> None:
    flag = changes.new_flag("f", environments=["dev", "staging", "production"])
    assert list(flag.environments) == ["dev", "staging", "production"]
    assert all(not env.enabled and not env.killed for env in flag.environments.values())
    assert all(env.default.variant == "on" for env in flag.environments.values())
    multi = changes.new_flag("m", FlagType.STRING, variants=[("a", "1"), ("b", "2")],
                             off_variant="b")
    assert multi.environments["production"].default.variant == "a"
    assert changes.new_flag("s", FlagType.STRING, variants=[("x", "x")]).off_variant == "x"
    with pytest.raises(UsageError, match="needs its variants"):
        changes.new_flag("j", FlagType.JSON)


def test_enable_creates_a_missing_environment_and_disable_ignores_it() -> None:
    flag = changes.enable(boolean_flag(enabled=False), "staging")
    assert flag.environments["staging"].enabled
    assert changes.disable(flag, "nowhere") == flag
    assert not changes.disable(flag, "staging").environments["staging"].enabled


def test_kill_and_unkill_keep_the_enabled_states() -> None:
    flag = boolean_flag()  # production on, dev off
    killed = changes.kill(flag)
    assert [(e.enabled, e.killed) for e in killed.environments.values()] == [
        (False, True), (True, True)]
    assert changes.unkill(killed) == flag
    assert not changes.new_flag("x", environments=[]).killed


def test_rollouts_put_the_rolled_out_variant_first() -> None:
    flag = changes.set_rollout(boolean_flag(), "production", 0.05)
    rollout = flag.environments["production"].default.rollout
    assert rollout is not None
    assert [(w.variant, w.weight) for w in rollout.weights] == [("on", 5000),
                                                                 ("off", BUCKETS - 5000)]
    assert rollout.weight_of("on") == 5000
    assert rollout.weight_of("ghost") == 0
    theme = changes.set_rollout(string_flag(), "production", 0.5, variant="dark")
    theme_rollout = theme.environments["production"].default.rollout
    assert theme_rollout is not None
    assert [w.variant for w in theme_rollout.weights] == ["dark", "classic"]
    assert changes.set_rollout(flag, "staging", 0.2).environments["staging"].enabled is False


@pytest.mark.parametrize(("variant", "message"), [
    (None, "several variants"), ("purple", "no variant 'purple'"), ("classic", "off variant"),
])
def test_rollouts_refuse_ambiguous_or_wrong_variants(variant: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        changes.set_rollout(string_flag(), "production", 0.1, variant=variant)


def test_rollout_of_a_two_variant_flag_needs_no_variant_name() -> None:
    flag = changes.new_flag("n", FlagType.NUMBER, variants=[("low", 1), ("high", 2)])
    rollout = changes.set_rollout(flag, "production", 0.1).environments["production"]
    assert rollout.default.variants() == ("high", "low")
    with pytest.raises(UsageError, match="between 0 and 1"):
        changes.set_rollout(flag, "production", 1.5)


def test_variants_are_added_changed_and_removed() -> None:
    flag = changes.set_variants(string_flag(), [("dark", "black"), ("sepia", "s")])
    assert flag.variant_names == ("classic", "dark", "light", "sepia")
    assert flag.value_of("dark") == "black"
    assert changes.remove_variants(flag, ["sepia"]).variant_names == ("classic", "dark", "light")
    with pytest.raises(UsageError, match="off variant"):
        changes.remove_variants(flag, ["classic"])
    with pytest.raises(UsageError, match="no variant 'ghost'"):
        changes.remove_variants(flag, ["ghost"])
    with pytest.raises(UsageError, match="still served in production"):
        changes.remove_variants(flag, ["dark"])  # the default serve
    ruled = changes.set_rules(changes.set_default(flag, "production", "light"), "production",
                              [parse_rule("x equals 1 -> sepia", 1)])
    with pytest.raises(UsageError, match="still served"):
        changes.remove_variants(ruled, ["sepia"])


def test_off_variant_description_default_and_prerequisites() -> None:
    flag = changes.set_off_variant(string_flag(), "light")
    assert flag.off_variant == "light"
    with pytest.raises(UsageError, match="no variant"):
        changes.set_off_variant(flag, "ghost")
    assert changes.set_description(flag, "d").description == "d"
    assert changes.set_default(flag, "dev", "dark").environments["dev"].default.variant == "dark"
    prerequisite = Prerequisite("other", ("on",))
    assert changes.set_prerequisites(flag, [prerequisite]).prerequisites == (prerequisite,)


def test_replace_definition_keeps_key_and_type() -> None:
    current = boolean_flag()
    assert changes.replace_definition(current, changes.kill(current)) == changes.kill(current)
    with pytest.raises(UsageError, match="not 'beta'"):
        changes.replace_definition(current, boolean_flag("other"))
    with pytest.raises(UsageError, match="cannot change"):
        changes.replace_definition(string_flag("beta"), current)


def test_a_definition_never_lifts_a_kill_switch() -> None:
    current = changes.kill(boolean_flag())
    from_git = changes.enable(boolean_flag(), "staging")  # says killed: false everywhere
    applied = changes.replace_definition(current, from_git)
    assert [(name, env.killed) for name, env in applied.environments.items()] == [
        ("dev", True), ("production", True), ("staging", False)]
    assert changes.unkill(applied) == from_git
