"""``type: feature_flag``: a split as a flag's percentage, off on rollback, read back.

Runs the router over a real SQLite flag store in a temp dir and evaluates the stored flag with
the part-1 evaluator, so "off" means what every connected evaluator would serve. The API-level
half of the router contract suite runs here too, on a flag whose variants are the contract's
versions (``v1`` the off variant); the tests that do not fit a flag are listed at the end.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeship.errors import StoreUnavailable, UsageError
from safeship.flags import EvaluationContext, FlagType, Reason, evaluate
from safeship.flags import changes as change
from safeship.flags.changes import FlagAction
from safeship.flags.model import Flag, Rule, Serve
from safeship.model.endpoints import Endpoint
from safeship.routers.feature_flag import (
    ROLLOUT_ACTOR,
    FeatureFlagOptions,
    FeatureFlagRouter,
)
from safeship.routers.feature_flag_split import (
    SplitRefused,
    apply_split,
    non_off_share,
    split_of,
)
from safeship.routers.interface import RouterRejected, RouterUnavailable
from safeship.store.flags import FlagStore

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
ENV = "production"


class Ticks:
    """A clock for the flag history: one second later at every call."""

    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@pytest.fixture
def flags(tmp_path: Path) -> Iterator[FlagStore]:
    with FlagStore.open(None, tmp_path) as store:
        store.create(change.new_flag("new-checkout", environments=("dev", ENV)),
                     actor="alice", reason="ships off", at=T0)
        yield store


def router_for(flags: FlagStore, **options: object) -> FeatureFlagRouter:
    return FeatureFlagRouter(FeatureFlagOptions.model_validate({"flag": "new-checkout",
                                                                **options}),
                             flags=flags, now=Ticks())


def served(flag: Flag, keys: int = 2000, environment: str = ENV) -> Counter[str]:
    """How many of ``keys`` users get each variant."""
    return Counter(str(evaluate(flag, EvaluationContext(f"user-{i}"), environment).variant)
                   for i in range(keys))


# --- the split as a flag ---------------------------------------------------------------------


def test_a_new_flag_reads_back_as_off() -> None:
    flag = change.new_flag("f")
    assert split_of(flag, ENV) == {"off": 100.0}
    assert split_of(flag, "staging") == {"off": 100.0}  # never set up there: off too


def test_a_step_enables_the_flag_with_a_percentage(flags: FlagStore) -> None:
    router = router_for(flags)
    router.set_weights({"off": 95.0, "on": 5.0})
    assert router.weights() == {"on": 5.0, "off": 95.0}
    flag = flags.get("new-checkout").flag
    share = served(flag)["on"] / 2000
    assert 0.03 < share < 0.07
    assert split_of(flag, "dev") == {"off": 100.0}  # other environments untouched


def test_raising_the_percentage_keeps_every_user_who_had_the_flag(flags: FlagStore) -> None:
    router = router_for(flags)
    had: set[str] = set()
    for percent in (1.0, 5.0, 25.0, 100.0):
        router.set_weights({"off": 100 - percent, "on": percent})
        flag = flags.get("new-checkout").flag
        now = {f"user-{i}" for i in range(3000)
               if evaluate(flag, EvaluationContext(f"user-{i}"), ENV).variant == "on"}
        assert had <= now, f"users lost the flag at {percent}%"
        had = now
    assert len(had) == 3000


def test_switching_off_serves_the_off_variant_to_everyone_rules_included(
        flags: FlagStore) -> None:
    flags.update("new-checkout", lambda f: change.set_rules(
        f, ENV, [Rule("staff", (), Serve(variant="on"))]),
        action=FlagAction.SET, actor="alice", reason="staff", at=T0)
    router = router_for(flags)
    router.set_weights({"off": 75.0, "on": 25.0})
    assert served(flags.get("new-checkout").flag)["on"] == 2000  # the staff rule wins
    router.set_weights({"off": 100.0, "on": 0.0})
    flag = flags.get("new-checkout").flag
    assert served(flag) == Counter({"off": 2000})
    assert evaluate(flag, EvaluationContext("u"), ENV).reason is Reason.DISABLED
    assert router.weights() == {"on": 0.0, "off": 100.0}
    env = flag.environment(ENV)
    assert env is not None
    assert not env.enabled
    assert not env.killed
    assert non_off_share(flag, env) == 0.0


def test_on_rollback_kill_throws_the_kill_switch_everywhere(flags: FlagStore) -> None:
    router = router_for(flags, on_rollback="kill")
    router.set_weights({"off": 99.0, "on": 1.0})
    router.set_weights({"off": 100.0})
    flag = flags.get("new-checkout").flag
    assert flag.killed
    assert served(flag, 500) == Counter({"off": 500})
    assert flags.history("new-checkout")[-1].action == FlagAction.KILL.value


def test_kill_is_only_thrown_when_the_flag_served_something(flags: FlagStore) -> None:
    # Switching off a flag that serves nothing (before step 1) must not kill other
    # environments by surprise.
    router = router_for(flags, on_rollback="kill")
    router.switch_off()
    flag = flags.get("new-checkout").flag
    assert not flag.killed
    assert split_of(flag, ENV) == {"off": 100.0}
    assert router.switch_off() is False  # off already: nothing more to record


def test_a_split_never_lifts_a_kill_switch(flags: FlagStore) -> None:
    router = router_for(flags)
    router.set_weights({"off": 95.0, "on": 5.0})
    flags.update("new-checkout", change.kill, action=FlagAction.KILL, actor="oncall",
                 reason="INC-1", at=T0)
    with pytest.raises(RouterRejected, match="never lifts a kill switch"):
        router.set_weights({"off": 75.0, "on": 25.0})
    assert flags.get("new-checkout").flag.killed
    assert router.weights()["on"] == 0.0


def test_a_flag_a_person_disabled_mid_rollout_is_not_turned_back_on(flags: FlagStore) -> None:
    router = router_for(flags)
    router.set_weights({"off": 95.0, "on": 5.0})
    flags.update("new-checkout", lambda f: change.disable(f, ENV), action=FlagAction.DISABLE,
                 actor="oncall", reason="looks bad", at=T0)
    with pytest.raises(RouterRejected, match="does not turn it back on") as caught:
        router.set_weights({"off": 95.0, "on": 5.0})
    assert "--to 0%" in (caught.value.hint or "")
    assert router.weights() == {"on": 0.0, "off": 100.0}
    router.set_weights({"off": 100.0, "on": 0.0})  # switching off is always allowed


def test_a_flag_switched_off_by_a_rollback_can_be_rolled_out_again(flags: FlagStore) -> None:
    router = router_for(flags)
    router.set_weights({"off": 95.0, "on": 5.0})
    router.set_weights({"off": 100.0, "on": 0.0})
    router.set_weights({"off": 99.0, "on": 1.0})
    assert router.weights() == {"on": 1.0, "off": 99.0}


def test_changes_are_recorded_with_the_rollout_actor_and_the_release(flags: FlagStore) -> None:
    router = router_for(flags)
    router.bind_release("rel-42")
    router.set_weights({"off": 99.0, "on": 1.0})
    router.set_weights({"off": 99.0, "on": 1.0})  # the same split again: no new entry
    router.set_weights({"off": 100.0, "on": 0.0})
    history = flags.history("new-checkout")
    assert [(h.action, h.actor) for h in history[1:]] == [
        ("rollout", ROLLOUT_ACTOR), ("disable", ROLLOUT_ACTOR)]
    assert history[1].reason == ("release rel-42: 'on' 1% of the contexts no rule matches")
    assert history[2].reason == "release rel-42: switched off: disabled"
    audit = flags.audit_events(subject="new-checkout")
    assert {event.action for event in audit} >= {"flag.rollout", "flag.disable"}


def test_switch_off_takes_its_own_actor_and_reason(flags: FlagStore) -> None:
    router = router_for(flags)
    router.set_weights({"off": 75.0, "on": 25.0})
    assert router.switch_off(actor="oncall", reason="rollout undo") is True
    last = flags.history("new-checkout")[-1]
    assert (last.actor, last.reason, last.action) == ("oncall", "rollout undo", "disable")


def test_a_multi_variant_flag_lists_rolled_out_variants_first(tmp_path: Path) -> None:
    flag = change.new_flag("layout", FlagType.STRING,
                           variants=[("classic", "c"), ("one-page", "o"), ("beta", "b")])
    applied = apply_split(flag, ENV, {"classic": 70.0, "one-page": 20.0, "beta": 10.0})
    env = applied.flag.environment(ENV)
    assert env is not None
    assert env.default.rollout is not None
    assert [w.variant for w in env.default.rollout.weights] == ["one-page", "beta", "classic"]
    assert split_of(applied.flag, ENV) == {"one-page": 20.0, "beta": 10.0, "classic": 70.0}
    assert applied.on_percent == pytest.approx(30.0)


def test_thirds_are_rounded_to_buckets_that_add_up(tmp_path: Path) -> None:
    flag = change.new_flag("layout", FlagType.STRING,
                           variants=[("a", 1), ("b", 2), ("c", 3)])
    applied = apply_split(flag, ENV, {"a": 100 / 3, "b": 100 / 3, "c": 100 / 3})
    split = split_of(applied.flag, ENV)
    assert sum(split.values()) == pytest.approx(100.0)
    assert all(abs(share - 100 / 3) < 0.002 for share in split.values())


def test_the_bucketing_attribute_of_an_existing_split_is_kept(flags: FlagStore) -> None:
    flags.update("new-checkout", lambda f: change.set_rollout(f, ENV, 0.0, bucket_by="org"),
                 action=FlagAction.ROLLOUT, actor="alice", reason="by org", at=T0)
    router_for(flags).set_weights({"off": 90.0, "on": 10.0})
    env = flags.get("new-checkout").flag.environment(ENV)
    assert env is not None
    assert env.default.rollout is not None
    assert env.default.rollout.bucket_by == "org"


def test_an_environment_the_flag_lacks_is_set_up_by_the_first_step(flags: FlagStore) -> None:
    router = router_for(flags, environment="staging")
    assert router.switch_off() is False  # off already: nothing to record
    router.set_weights({"off": 50.0, "on": 50.0})
    assert router.weights() == {"on": 50.0, "off": 50.0}
    assert split_of(flags.get("new-checkout").flag, ENV) == {"off": 100.0}


def test_a_fixed_default_becomes_a_zero_split_when_switching_off() -> None:
    flag = change.enable(change.new_flag("f"), ENV)  # serves "on" to everyone, no split
    assert split_of(flag, ENV) == {"on": 100.0}
    off = apply_split(flag, ENV, {"off": 100.0})
    env = off.flag.environment(ENV)
    assert env is not None
    assert not env.enabled
    assert split_of(off.flag, ENV) == {"off": 100.0}
    # Enabled again by hand, it still serves nobody "on" until a share is set.
    again = change.enable(off.flag, ENV)
    assert split_of(again, ENV) == {"off": 100.0}
    assert served(again, 200) == Counter({"off": 200})


def test_unknown_variants_are_refused() -> None:
    with pytest.raises(SplitRefused, match="no variant 'v9'"):
        apply_split(change.new_flag("f"), ENV, {"off": 50.0, "v9": 50.0})


def test_set_backends_checks_the_variants_and_ignores_endpoints(flags: FlagStore) -> None:
    router = router_for(flags)
    router.set_backends({})
    router.set_backends({"on": [Endpoint("127.0.0.1", 1)], "off": []})
    with pytest.raises(RouterRejected, match="no variant 'v2'"):
        router.set_backends({"v2": [Endpoint("127.0.0.1", 1)]})


def test_a_missing_flag_or_store_makes_the_router_unavailable(
        flags: FlagStore, monkeypatch: pytest.MonkeyPatch) -> None:
    router = FeatureFlagRouter(FeatureFlagOptions(flag="nope"), flags=flags)
    with pytest.raises(RouterUnavailable, match="no flag 'nope'") as caught:
        router.weights()
    assert "flags create nope" in (caught.value.hint or "")
    with pytest.raises(RouterUnavailable):
        router.set_weights({"off": 100.0})

    def down(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("database is locked", hint="try later")

    working = router_for(flags)
    monkeypatch.setattr(flags, "update", down)
    with pytest.raises(RouterUnavailable, match="flag store: database is locked"):
        working.set_weights({"off": 90.0, "on": 10.0})
    monkeypatch.setattr(flags, "get", down)
    with pytest.raises(RouterUnavailable, match="flag store: database is locked"):
        working.weights()


def test_a_change_the_store_refuses_is_rejected(flags: FlagStore,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise UsageError("invalid")

    monkeypatch.setattr(flags, "update", refuse)
    with pytest.raises(RouterRejected, match="invalid"):
        router_for(flags).set_weights({"off": 90.0, "on": 10.0})


def test_reset_switches_off_and_close_is_final(tmp_path: Path) -> None:
    store = FlagStore.open(None, tmp_path)
    store.create(change.new_flag("new-checkout"), actor="a", reason="r", at=T0)
    router = FeatureFlagRouter(FeatureFlagOptions(flag="new-checkout"), flags=store,
                               owns_store=True)
    router.set_weights({"off": 50.0, "on": 50.0})
    router.reset()
    assert router.weights() == {"on": 0.0, "off": 100.0}
    router.close()
    router.close()
    with pytest.raises(RouterUnavailable, match="closed"):
        router.weights()
    with pytest.raises(RouterUnavailable):
        router.set_backends({})
    with pytest.raises(Exception, match="after close"):
        store.get("new-checkout")  # the router closed the store it owned


def test_options_refuse_a_bad_flag_key_and_unknown_fields() -> None:
    with pytest.raises(ValueError, match="flag"):
        FeatureFlagOptions(flag="no spaces")
    with pytest.raises(ValueError, match="extra"):
        FeatureFlagOptions(flag="f", url="http://x")  # type: ignore[call-arg]


def test_a_flag_changed_between_plan_and_write_is_planned_again(
        flags: FlagStore, monkeypatch: pytest.MonkeyPatch) -> None:
    router = router_for(flags)
    router.set_weights({"off": 95.0, "on": 5.0})
    real_update = flags.update
    calls = {"n": 0}

    def person_kills_first(key: str, change_fn: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:  # a person kills the flag just before the rollout's write
            real_update(key, change.kill, action=FlagAction.KILL, actor="oncall",
                        reason="INC", at=T0)
        return real_update(key, change_fn, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(flags, "update", person_kills_first)
    with pytest.raises(RouterRejected, match="never lifts a kill switch"):
        router.set_weights({"off": 75.0, "on": 25.0})
    # The first write found the flag changed, so the split was planned again against the
    # killed flag and refused there: no second write was attempted.
    assert calls["n"] == 1
    assert flags.get("new-checkout").flag.killed


def test_a_flag_that_keeps_changing_is_unavailable(flags: FlagStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def always_changed(key: str, change_fn: object, **kwargs: object) -> None:
        change_fn(change.new_flag("new-checkout", description="other"))  # type: ignore[operator]

    monkeypatch.setattr(flags, "update", always_changed)
    with pytest.raises(RouterUnavailable, match="kept changing"):
        router_for(flags).set_weights({"off": 90.0, "on": 10.0})


# --- the router contract suite (API level), on a flag ------------------------------------------

CONTRACT_VERSIONS = ("v1", "v2", "v3")


@pytest.fixture
def router(flags: FlagStore) -> FeatureFlagRouter:
    """A router over a string flag whose variants are the contract's versions (v1 is off)."""
    flag = change.new_flag("contract", FlagType.STRING,
                           variants=[(v, v) for v in CONTRACT_VERSIONS], off_variant="v1")
    flags.create(flag, actor="t", reason="contract", at=T0)
    made = FeatureFlagRouter(FeatureFlagOptions(flag="contract"), flags=flags, now=Ticks())
    made.set_backends({v: [Endpoint("127.0.0.1", 1)] for v in ("v1", "v2")})
    return made


@pytest.mark.parametrize("split", [
    {"v1": 100, "v2": 0}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50}, {"v1": 0, "v2": 100},
    {"v1": 12.5, "v2": 87.5}, {"v1": 100},
], ids=lambda split: "/".join(f"{w:g}" for w in split.values()))
def test_contract_weights_read_back_equal_what_was_set(router: FeatureFlagRouter,
                                                       split: dict[str, float]) -> None:
    router.set_weights(split)
    assert router.weights() == pytest.approx(split)
    assert set(router.weights()) == set(split)


def test_contract_setting_the_same_split_twice_is_harmless(router: FeatureFlagRouter,
                                                           flags: FlagStore) -> None:
    router.set_weights({"v1": 80, "v2": 20})
    version = flags.get("contract").version
    router.set_weights({"v1": 80, "v2": 20})
    assert router.weights() == pytest.approx({"v1": 80, "v2": 20})
    assert flags.get("contract").version == version


@pytest.mark.parametrize("bad", [
    {"v1": 60, "v2": 30},
    {"v1": 100.5, "v2": -0.5},
    {"v1": 110, "v2": -10},
    {"v1": 50, "nope": 50},
    {"v1": math.nan, "v2": 100},
    {},
], ids=["sum-90", "slightly-negative", "negative", "unknown", "nan", "empty"])
def test_contract_invalid_weights_are_rejected_and_the_split_stays(
        router: FeatureFlagRouter, bad: dict[str, float]) -> None:
    router.set_weights({"v1": 70, "v2": 30})
    with pytest.raises(RouterRejected):
        router.set_weights(bad)
    assert router.weights() == pytest.approx({"v1": 70, "v2": 30})


def test_contract_close_is_idempotent_and_a_closed_router_is_unavailable(
        router: FeatureFlagRouter) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    router.close()
    router.close()
    with pytest.raises(RouterUnavailable):
        router.weights()
    with pytest.raises(RouterUnavailable):
        router.set_weights({"v1": 0, "v2": 100})


def test_contract_departures_are_the_documented_ones(router: FeatureFlagRouter) -> None:
    # Not "{}" before the first split: the flag exists and serves its off variant.
    assert router.weights() == {"v1": 100.0}
    # Every variant may take a share, "declared" or not: every instance serves every variant.
    router.set_weights({"v1": 50, "v3": 50})
    assert router.weights() == pytest.approx({"v3": 50, "v1": 50})
    # reset switches the flag off instead of forgetting it.
    router.reset()
    assert router.weights() == {"v3": 0.0, "v1": 100.0}
