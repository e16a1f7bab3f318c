"""The flag model: frozen dataclasses for flags, their variants, environments and rules.

A :class:`Flag` has a type, named :class:`Variant` values, an *off variant* (what it serves
whenever it is not on), optional prerequisites, and one :class:`Environment` per deployment
environment (``dev``, ``staging``, ``production``...). An environment is disabled until someone
enables it, can be *killed* (the kill switch: off everywhere at once, rules and rollouts
ignored), and holds ordered :class:`Rule` s plus a default :class:`Serve` for contexts that
match no rule. A serve is a fixed variant or a :class:`Rollout` (a weighted split by
consistent bucketing, see :mod:`safeship.flags.bucketing`).

Constructors check what one object can check alone (a split adds up to 100 %, a rule's
conditions are valid) and raise :class:`ValueError`. Whether a flag holds together (every
variant named exists, values fit the type...) is :func:`safeship.flags.validation.check_flag`'s
job; :mod:`safeship.flags.codec` and :mod:`safeship.flags.changes` always run it.

Values of ``json`` flags are frozen (objects become read-only mappings, arrays tuples) so a flag
cannot change under a caller; :func:`thaw` turns them back into plain JSON data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from safeship.flags.bucketing import BUCKETS, cumulative_bounds, percent_text
from safeship.flags.context import TARGETING_KEY
from safeship.flags.rules import Condition

#: The environment the CLI and the evaluator use when none is named.
DEFAULT_ENVIRONMENT = "production"
#: Names of the two variants a boolean flag gets when none are given.
BOOLEAN_VARIANTS: tuple[tuple[str, bool], ...] = (("on", True), ("off", False))


class FlagType(StrEnum):
    """The type of every value a flag serves."""

    BOOLEAN = "boolean"
    STRING = "string"
    NUMBER = "number"
    JSON = "json"


@dataclass(frozen=True)
class Variant:
    """One named value of a flag (frozen when it is a JSON object or array)."""

    name: str
    value: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", freeze(self.value))


@dataclass(frozen=True)
class Weight:
    """A variant's share of a split, in buckets (``BUCKETS`` is 100 %)."""

    variant: str
    weight: int

    def __post_init__(self) -> None:
        if isinstance(self.weight, bool) or not isinstance(self.weight, int):
            raise ValueError(f"a weight is a whole number of buckets, not {self.weight!r}")
        if not 0 <= self.weight <= BUCKETS:
            raise ValueError(f"a weight must lie between 0% and 100%, not {self.weight}")

    @property
    def percent(self) -> str:
        """The weight as percentage text, e.g. ``"5%"``."""
        return percent_text(self.weight)


@dataclass(frozen=True)
class Rollout:
    """A weighted split: each key is bucketed by ``bucket_by`` and served one variant.

    The weights are listed in bucket order and add up to exactly ``BUCKETS``.
    """

    weights: tuple[Weight, ...]
    bucket_by: str = TARGETING_KEY
    bounds: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weights = tuple(self.weights)
        object.__setattr__(self, "weights", weights)
        if not weights:
            raise ValueError("a rollout needs at least one variant")
        names = [weight.variant for weight in weights]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"a rollout lists variant(s) {', '.join(duplicates)} twice")
        total = sum(weight.weight for weight in weights)
        if total != BUCKETS:
            raise ValueError(f"the weights add up to {percent_text(total)}, not 100%")
        if not self.bucket_by:
            raise ValueError("bucket_by must name an attribute (targetingKey by default)")
        object.__setattr__(self, "bounds", cumulative_bounds(tuple(w.weight for w in weights)))

    def weight_of(self, variant: str) -> int:
        """The buckets ``variant`` gets (0 when it is not in the split)."""
        return next((w.weight for w in self.weights if w.variant == variant), 0)


@dataclass(frozen=True)
class Serve:
    """What to serve: exactly one of a fixed ``variant`` or a ``rollout``."""

    variant: str | None = None
    rollout: Rollout | None = None

    def __post_init__(self) -> None:
        if (self.variant is None) == (self.rollout is None):
            raise ValueError("serve exactly one of a variant or a rollout")

    def variants(self) -> tuple[str, ...]:
        """Every variant this serve can hand out."""
        if self.rollout is not None:
            return tuple(weight.variant for weight in self.rollout.weights)
        return (self.variant,) if self.variant is not None else ()


@dataclass(frozen=True)
class Rule:
    """When every condition holds (all of them; none means always), serve ``serve``."""

    rule_id: str
    conditions: tuple[Condition, ...]
    serve: Serve

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if not self.rule_id:
            raise ValueError("a rule needs an id")


@dataclass(frozen=True)
class Prerequisite:
    """This flag is on only while flag ``flag`` evaluates to one of ``variants``."""

    flag: str
    variants: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "variants", tuple(self.variants))
        if not self.variants:
            raise ValueError(f"prerequisite '{self.flag}' must name at least one variant")


@dataclass(frozen=True)
class Environment:
    """A flag's state in one environment.

    Serves the off variant while ``enabled`` is false or ``killed`` is true; otherwise the first
    matching rule's serve, else ``default``.
    """

    default: Serve
    enabled: bool = False
    killed: bool = False
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))

    @property
    def serving(self) -> bool:
        """True when the environment evaluates its rules (enabled and not killed)."""
        return self.enabled and not self.killed


@dataclass(frozen=True)
class Flag:
    """A feature flag (see the module docstring). ``salt`` defaults to ``key``."""

    key: str
    flag_type: FlagType
    variants: tuple[Variant, ...]
    off_variant: str
    environments: Mapping[str, Environment] = field(default_factory=dict)
    prerequisites: tuple[Prerequisite, ...] = ()
    description: str = ""
    salt: str = ""
    _values: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flag_type", FlagType(self.flag_type))
        object.__setattr__(self, "variants", tuple(self.variants))
        object.__setattr__(self, "prerequisites", tuple(self.prerequisites))
        object.__setattr__(self, "environments", MappingProxyType(dict(self.environments)))
        if not self.salt:
            object.__setattr__(self, "salt", self.key)
        object.__setattr__(self, "_values", {v.name: v.value for v in self.variants})

    def has_variant(self, name: str) -> bool:
        """True when the flag defines variant ``name``."""
        return name in self._values

    def value_of(self, name: str) -> Any:
        """The (frozen) value of variant ``name``; KeyError when there is none."""
        return self._values[name]

    @property
    def variant_names(self) -> tuple[str, ...]:
        """The variant names, in definition order."""
        return tuple(variant.name for variant in self.variants)

    @property
    def killed(self) -> bool:
        """True when the kill switch is on in every environment (and there is at least one)."""
        return bool(self.environments) and all(e.killed for e in self.environments.values())

    def environment(self, name: str) -> Environment | None:
        """The environment ``name``, or None when the flag has never been set up there."""
        return self.environments.get(name)


def default_off_variant(flag_type: FlagType, variants: tuple[Variant, ...]) -> str:
    """The off variant when none is named: a boolean flag's first ``false`` variant, else the
    first variant ("" when there are none, which validation reports)."""
    if flag_type is FlagType.BOOLEAN:
        for variant in variants:
            if variant.value is False:
                return variant.name
    return variants[0].name if variants else ""


def default_serve(variants: tuple[Variant, ...], off_variant: str) -> Serve:
    """What an environment serves by default: the first variant that is not the off one."""
    for variant in variants:
        if variant.name != off_variant:
            return Serve(variant=variant.name)
    return Serve(variant=off_variant)


def freeze(value: Any) -> Any:
    """JSON data made read-only: objects become mappings, arrays tuples (recursively)."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(key): freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """Frozen JSON data (see :func:`freeze`) as plain dicts and lists, safe to change."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value


def is_json_value(value: Any, depth: int = 0) -> bool:
    """True for JSON data: objects with string keys, arrays, strings, finite numbers, booleans
    and null, nested at most 64 deep."""
    if depth > _MAX_JSON_DEPTH:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and is_json_value(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(is_json_value(item, depth + 1) for item in value)
    return False


_MAX_JSON_DEPTH = 64
