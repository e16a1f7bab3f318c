"""A traffic split as a flag's state in one environment, and back (pure functions).

The ``feature_flag`` router (:mod:`safeship.routers.feature_flag`) runs :func:`apply_split`
inside the flag store's compare-and-swap update and :func:`split_of` on what it reads back.
The versions of a split are the flag's variant names; the flag's *off variant* is the stable
side (what everyone gets while the flag is off).

**A split with a share for a variant other than the off one** becomes the environment's
default: a percentage rollout listing the other variants first (in the split's order) and the
off variant last, so raising a share keeps every user who already had the variant (the
bucketing is monotonic, see :mod:`safeship.flags.bucketing`), and the environment is enabled.
Rules stay as they are: they decide for the contexts they match, the split for the rest.

**A split with no such share** switches the flag off: the default becomes a split giving
every other variant 0 % (even if it was a fixed variant, so re-enabling the flag by hand after
a rollback serves nobody the variant) and the environment is disabled, so every evaluator
serves the off variant (its rules included). With ``kill``, an environment that was serving
is killed instead: the flag's kill switch, the off variant in every environment at once.

**Turned off by a person.** A split never lifts a kill switch, and never re-enables an
environment that was disabled while its split still gave another variant a share: somebody
switched the flag off in the middle of a rollout, and the rollout must not turn it back on
(:class:`SplitRefused`; the controller rolls back). A disabled environment whose default is not
such a split (a new flag, or one a rollback switched off) is the starting state and is enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from safeship.flags import changes
from safeship.flags.bucketing import BUCKETS
from safeship.flags.model import Environment, Flag, Rollout, Serve, Weight, default_serve

FULL = 100.0


class SplitRefused(ValueError):
    """The split cannot be applied to the flag; the message says why."""


@dataclass(frozen=True)
class SplitChange:
    """What a split does to the flag: ``action`` is ``rollout``, ``disable`` or ``kill``."""

    flag: Flag
    action: str
    on_percent: float


def non_off_share(flag: Flag, environment: Environment | None) -> float:
    """The percent of the default split given to variants other than the off one (a fixed
    default counts 0: it is not a split a rollout wrote)."""
    if environment is None or environment.default.rollout is None:
        return 0.0
    rollout = environment.default.rollout
    return sum(w.weight for w in rollout.weights if w.variant != flag.off_variant) * FULL \
        / BUCKETS


def unknown_versions(flag: Flag, versions: list[str]) -> list[str]:
    """The versions that are not variants of ``flag``."""
    return [version for version in versions if not flag.has_variant(version)]


def apply_split(flag: Flag, environment: str, split: Mapping[str, float], *,
                kill: bool = False) -> SplitChange:
    """``flag`` serving ``split`` (variant -> percent, adding up to 100) by default in
    ``environment`` (see the module docstring).

    Raises:
        SplitRefused: a version is not a variant, or the flag was turned off by a person.
    """
    unknown = unknown_versions(flag, list(split))
    if unknown:
        raise SplitRefused(f"flag '{flag.key}' has no variant {', '.join(map(repr, unknown))} "
                           f"(variants: {', '.join(flag.variant_names)})")
    current = flag.environment(environment)
    on_percent = sum(share for variant, share in split.items() if variant != flag.off_variant)
    if on_percent <= 0:
        return _switch_off(flag, environment, current, split, kill=kill)
    if current is not None and current.killed:
        raise SplitRefused(f"flag '{flag.key}' is killed; a rollout never lifts a kill switch "
                           f"(`safeship flags unkill {flag.key}` does, on purpose)")
    if current is not None and not current.enabled and non_off_share(flag, current) > 0:
        raise SplitRefused(
            f"flag '{flag.key}' was switched off in {environment} while it still served "
            f"{non_off_share(flag, current):g}% of users another variant than "
            f"'{flag.off_variant}'; a rollout does not turn it back on")
    base = current if current is not None else Environment(
        default=default_serve(flag.variants, flag.off_variant))
    updated = replace(base, default=Serve(rollout=_rollout(flag, split, base)), enabled=True)
    return SplitChange(_with_environment(flag, environment, updated), "rollout", on_percent)


def split_of(flag: Flag, environment: str) -> dict[str, float]:
    """What the environment serves by default, in percent per variant (read-back).

    Off (missing, disabled or killed): the off variant at 100 %, and 0 % for every other
    variant of the stored split. On: the default's split, or its fixed variant at 100 %.
    """
    env = flag.environment(environment)
    off = flag.off_variant
    rollout = env.default.rollout if env is not None else None
    if env is None or not env.serving:
        report = {} if rollout is None else {
            w.variant: 0.0 for w in rollout.weights if w.variant != off}
        report[off] = FULL
        return report
    if rollout is None:
        return {env.default.variant or off: FULL}
    return {w.variant: w.weight * FULL / BUCKETS for w in rollout.weights}


def _switch_off(flag: Flag, environment: str, current: Environment | None,
                split: Mapping[str, float], *, kill: bool) -> SplitChange:
    if current is None:
        return SplitChange(flag, "disable", 0.0)  # never set up there: it is off already
    was_serving = current.serving and non_off_share(flag, current) > 0
    zeroed = {variant: 0.0 for variant in split if variant != flag.off_variant}
    if current.default.rollout is not None:
        for weight in current.default.rollout.weights:
            if weight.variant != flag.off_variant:
                zeroed.setdefault(weight.variant, 0.0)
    # The default becomes a 0 % split even when it was a fixed variant: enabling the flag by
    # hand after a rollback then serves nobody the variant until someone raises the share.
    default = Serve(rollout=_rollout(flag, {**zeroed, flag.off_variant: FULL}, current))
    updated = replace(current, default=default, enabled=False)
    result = _with_environment(flag, environment, updated)
    if kill and was_serving:
        return SplitChange(changes.kill(result), "kill", 0.0)
    return SplitChange(result, "disable", 0.0)


def _rollout(flag: Flag, split: Mapping[str, float], base: Environment) -> Rollout:
    """The split as buckets per variant, other variants first and the off variant last.

    Rounded cumulatively, so the buckets always add up to exactly 100 %. The attribute the
    environment's split buckets by (``bucket_by``) is kept.
    """
    order = [variant for variant in split if variant != flag.off_variant]
    order.append(flag.off_variant)
    weights: list[Weight] = []
    running = 0.0
    placed = 0
    for variant in order:
        running += split.get(variant, 0.0)
        upto = min(BUCKETS, round(running * BUCKETS / FULL))
        weights.append(Weight(variant, max(0, upto - placed)))
        placed = max(placed, upto)
    shortfall = BUCKETS - placed
    if shortfall:
        # Percentages that add up to 100 within validate_weights' tolerance: the off variant
        # (last) takes the rounding remainder.
        last = weights[-1]
        weights[-1] = Weight(last.variant, last.weight + shortfall)
    current = base.default.rollout
    if current is None:
        return Rollout(tuple(weights))
    return Rollout(tuple(weights), current.bucket_by)


def _with_environment(flag: Flag, name: str, environment: Environment) -> Flag:
    environments = dict(flag.environments)
    environments[name] = environment
    return replace(flag, environments=environments)
