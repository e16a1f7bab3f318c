"""The changes people make to a flag, as pure functions from the old flag to the new one.

The CLI (and later the HTTP service) runs them inside the store's compare-and-swap update, so
each one sees the latest stored flag. They raise :class:`~safeship.errors.UsageError` for a
request that cannot apply (a rollout of a variant the flag does not have); whether the result
holds together as a whole is checked by the store (:func:`safeship.flags.validation.all_problems`).

Kill switch semantics: :func:`kill` sets ``killed`` in every environment at once (off
everywhere, rules and rollouts ignored, enabled states kept); :func:`unkill` clears them all,
so each environment goes back to what it served before. :func:`enable` clears the kill in the
one environment it enables, and leaves the others killed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Any

from safeship.errors import UsageError
from safeship.flags.bucketing import BUCKETS, weight_of
from safeship.flags.context import TARGETING_KEY
from safeship.flags.model import (
    BOOLEAN_VARIANTS,
    DEFAULT_ENVIRONMENT,
    Environment,
    Flag,
    FlagType,
    Prerequisite,
    Rollout,
    Rule,
    Serve,
    Variant,
    Weight,
    default_off_variant,
    default_serve,
)


class FlagAction(StrEnum):
    """The kinds of change recorded in a flag's history (``flag.<action>`` in the audit)."""

    CREATE = "create"
    SET = "set"
    ENABLE = "enable"
    DISABLE = "disable"
    ROLLOUT = "rollout"
    KILL = "kill"
    UNKILL = "unkill"


def new_flag(
    key: str,
    flag_type: FlagType = FlagType.BOOLEAN,
    *,
    variants: Sequence[tuple[str, Any]] = (),
    off_variant: str | None = None,
    environments: Iterable[str] = (DEFAULT_ENVIRONMENT,),
    description: str = "",
    salt: str | None = None,
) -> Flag:
    """A new flag, disabled in each of ``environments``: it serves its off variant until
    enabled. A boolean flag without ``variants`` gets ``on: true`` / ``off: false``; the off
    variant defaults to a boolean flag's false variant, else to the first variant."""
    if not variants:
        if flag_type is not FlagType.BOOLEAN:
            raise UsageError(f"a {flag_type} flag needs its variants",
                             hint="give them as --variant NAME=VALUE, once per variant")
        variants = BOOLEAN_VARIANTS
    built = tuple(Variant(name, value) for name, value in variants)
    if off_variant is None:
        off_variant = default_off_variant(flag_type, built)
    default = default_serve(built, off_variant)
    return Flag(
        key=key, flag_type=flag_type, variants=built, off_variant=off_variant,
        environments={name: Environment(default=default) for name in environments},
        description=description, salt=salt or key,
    )


def _with_environment(flag: Flag, name: str, environment: Environment) -> Flag:
    environments = dict(flag.environments)
    environments[name] = environment
    return replace(flag, environments=environments)


def _environment_or_new(flag: Flag, name: str) -> Environment:
    existing = flag.environment(name)
    if existing is not None:
        return existing
    return Environment(default=default_serve(flag.variants, flag.off_variant))


def enable(flag: Flag, environment: str) -> Flag:
    """``flag`` on in ``environment`` (set up there if new), its kill switch lifted there."""
    current = _environment_or_new(flag, environment)
    return _with_environment(flag, environment, replace(current, enabled=True, killed=False))


def disable(flag: Flag, environment: str) -> Flag:
    """``flag`` off in ``environment`` (unchanged when it was never set up there)."""
    current = flag.environment(environment)
    if current is None:
        return flag
    return _with_environment(flag, environment, replace(current, enabled=False))


def kill(flag: Flag) -> Flag:
    """The kill switch: the off variant in every environment at once."""
    return replace(flag, environments={
        name: replace(env, killed=True) for name, env in flag.environments.items()})


def unkill(flag: Flag) -> Flag:
    """Lift the kill switch everywhere: each environment serves what it did before."""
    return replace(flag, environments={
        name: replace(env, killed=False) for name, env in flag.environments.items()})


def rollout_variant(flag: Flag, variant: str | None) -> str:
    """The variant a percentage rollout hands out: ``variant`` if given, else a boolean flag's
    true variant, else the only variant besides the off one."""
    if variant is not None:
        if not flag.has_variant(variant):
            raise UsageError(f"flag '{flag.key}' has no variant '{variant}'",
                             hint=f"variants: {', '.join(flag.variant_names)}")
        if variant == flag.off_variant:
            raise UsageError(f"'{variant}' is the off variant; roll out another one")
        return variant
    if flag.flag_type is FlagType.BOOLEAN:
        for candidate in flag.variants:
            if candidate.value is True and candidate.name != flag.off_variant:
                return candidate.name
    others = [name for name in flag.variant_names if name != flag.off_variant]
    if len(others) == 1:
        return others[0]
    raise UsageError(f"flag '{flag.key}' has several variants; say which one to roll out",
                     hint=f"add --variant with one of: {', '.join(others)}")


def set_rollout(flag: Flag, environment: str, fraction: float, *, variant: str | None = None,
                bucket_by: str = TARGETING_KEY) -> Flag:
    """Serve ``variant`` to ``fraction`` of the keys in ``environment`` by default (contexts no
    rule matches), the off variant to the rest.

    The rolled-out variant's buckets come first, so raising the fraction keeps every key that
    already had it. The environment's enabled state is unchanged.
    """
    chosen = rollout_variant(flag, variant)
    try:
        on = weight_of(fraction)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    weights = (Weight(chosen, on), Weight(flag.off_variant, BUCKETS - on))
    current = _environment_or_new(flag, environment)
    return _with_environment(flag, environment, replace(
        current, default=Serve(rollout=Rollout(weights, bucket_by))))


def set_default(flag: Flag, environment: str, variant: str) -> Flag:
    """Serve ``variant`` by default in ``environment`` (no split)."""
    current = _environment_or_new(flag, environment)
    return _with_environment(flag, environment, replace(current, default=Serve(variant=variant)))


def set_rules(flag: Flag, environment: str, rules: Sequence[Rule]) -> Flag:
    """Replace the rules of ``environment`` with ``rules`` (in order; first match wins)."""
    current = _environment_or_new(flag, environment)
    return _with_environment(flag, environment, replace(current, rules=tuple(rules)))


def set_variants(flag: Flag, variants: Sequence[tuple[str, Any]]) -> Flag:
    """Add variants, or change the values of existing ones (they keep their place)."""
    given = dict(variants)
    updated = [Variant(v.name, given.pop(v.name)) if v.name in given else v
               for v in flag.variants]
    updated += [Variant(name, value) for name, value in given.items()]
    return replace(flag, variants=tuple(updated))


def remove_variants(flag: Flag, names: Iterable[str]) -> Flag:
    """Remove variants; refused while the flag still serves one of them anywhere."""
    doomed = set(names)
    for name in sorted(doomed):
        if not flag.has_variant(name):
            raise UsageError(f"flag '{flag.key}' has no variant '{name}'")
        if name == flag.off_variant:
            raise UsageError(f"'{name}' is the off variant; choose another --off-variant first")
        for env_name, environment in flag.environments.items():
            served = {*environment.default.variants()}
            for rule in environment.rules:
                served.update(rule.serve.variants())
            if name in served:
                raise UsageError(f"variant '{name}' is still served in {env_name}",
                                 hint="change the rules or the rollout there first")
    return replace(flag, variants=tuple(v for v in flag.variants if v.name not in doomed))


def set_off_variant(flag: Flag, variant: str) -> Flag:
    """Serve ``variant`` whenever the flag is off, disabled or killed."""
    if not flag.has_variant(variant):
        raise UsageError(f"flag '{flag.key}' has no variant '{variant}'",
                         hint=f"variants: {', '.join(flag.variant_names)}")
    return replace(flag, off_variant=variant)


def set_description(flag: Flag, description: str) -> Flag:
    """The flag with a new description."""
    return replace(flag, description=description)


def set_prerequisites(flag: Flag, prerequisites: Sequence[Prerequisite]) -> Flag:
    """Replace the flag's prerequisites."""
    return replace(flag, prerequisites=tuple(prerequisites))


def replace_definition(current: Flag, new: Flag) -> Flag:
    """``new`` as the next definition of ``current`` (from a file): same key, same type.

    A definition never lifts a kill switch: an environment killed now stays killed, whatever
    the file says (re-applying a file from version control during an incident must not turn a
    killed flag back on); :func:`unkill` and :func:`enable` do that, on purpose.
    """
    if new.key != current.key:
        raise UsageError(f"the definition is of flag '{new.key}', not '{current.key}'")
    if new.flag_type is not current.flag_type:
        raise UsageError(
            f"flag '{current.key}' is a {current.flag_type} flag; a definition cannot change "
            f"it to {new.flag_type}",
            hint="create a new flag with the new type and move callers over",
        )
    killed = {name for name, env in current.environments.items() if env.killed}
    if not killed:
        return new
    return replace(new, environments={
        name: replace(env, killed=True) if name in killed else env
        for name, env in new.environments.items()})
