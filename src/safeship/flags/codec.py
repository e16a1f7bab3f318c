"""Flags to and from plain data (JSON, YAML), in the versioned document format.

:func:`flag_to_dict` writes the canonical document (``apiVersion: safeship/v1``, ``kind: Flag``;
the format is described in :mod:`safeship.config.flag_file`). :func:`flag_from_dict` and
:func:`flag_from_file` read it back, fill the defaults, and check everything
(:func:`safeship.flags.validation.check_flag`), reporting each problem at its field (and, for
files, its line). The format is versioned by ``apiVersion``: a future ``safeship/v2`` gets an
upgrade step here, and documents without ``apiVersion`` are read as ``safeship/v1``.

Defaults filled on reading:

- a boolean flag without ``variants`` gets ``on: true`` and ``off: false``;
- ``off_variant``: a boolean flag's first ``false`` variant, otherwise the first variant;
- an environment's ``default``: the first variant that is not the off variant;
- a rule without ``id``: ``rule-1``, ``rule-2``... by position (give ids if you reorder rules);
- ``salt``: the flag key.

Splits keep their order (it decides which buckets each variant gets), so they are lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from safeship.config.flag_file import (
    FLAG_API_VERSION,
    FLAG_KIND,
    EnvironmentModel,
    FlagDocument,
    FlagFile,
    RuleModel,
    ServeModel,
    flag_document_from_data,
)
from safeship.config.yaml_source import YamlDocument, format_path
from safeship.errors import ConfigError, ConfigProblem, SourceLocation
from safeship.flags.bucketing import BUCKETS, weight_of
from safeship.flags.context import TARGETING_KEY
from safeship.flags.model import (
    BOOLEAN_VARIANTS,
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
    thaw,
)
from safeship.flags.rules import Condition
from safeship.flags.validation import FlagProblem, PathKey, all_problems

_T = TypeVar("_T")

__all__ = [
    "FLAG_API_VERSION",
    "FLAG_KIND",
    "flag_from_dict",
    "flag_from_file",
    "flag_from_json",
    "flag_to_dict",
    "flag_to_json",
    "problems_error",
]


# --------------------------------------------------------------------------- writing


def flag_to_dict(flag: Flag) -> dict[str, Any]:
    """``flag`` as its canonical JSON-ready document."""
    document: dict[str, Any] = {
        "apiVersion": FLAG_API_VERSION,
        "kind": FLAG_KIND,
        "key": flag.key,
        "type": flag.flag_type.value,
    }
    if flag.description:
        document["description"] = flag.description
    if flag.salt != flag.key:
        document["salt"] = flag.salt
    document["variants"] = {variant.name: thaw(variant.value) for variant in flag.variants}
    document["off_variant"] = flag.off_variant
    if flag.prerequisites:
        document["prerequisites"] = [
            {"flag": p.flag, "variants": list(p.variants)} for p in flag.prerequisites
        ]
    document["environments"] = {
        name: _environment_to_dict(environment)
        for name, environment in flag.environments.items()
    }
    return document


def _environment_to_dict(environment: Environment) -> dict[str, Any]:
    return {
        "enabled": environment.enabled,
        "killed": environment.killed,
        "rules": [
            {
                "id": rule.rule_id,
                "when": [_condition_to_dict(condition) for condition in rule.conditions],
                "serve": _serve_to_data(rule.serve),
            }
            for rule in environment.rules
        ],
        "default": _serve_to_data(environment.default),
    }


def _condition_to_dict(condition: Condition) -> dict[str, Any]:
    data: dict[str, Any] = {"attribute": condition.attribute, "op": condition.operator.value}
    if condition.operator.takes_list:
        data["values"] = list(condition.values)
    else:
        data["value"] = condition.values[0]
    return data


def _serve_to_data(serve: Serve) -> str | dict[str, Any]:
    if serve.rollout is None:
        return serve.variant or ""
    data: dict[str, Any] = {
        "rollout": [{"variant": w.variant, "weight": w.percent} for w in serve.rollout.weights]
    }
    if serve.rollout.bucket_by != TARGETING_KEY:
        data["bucket_by"] = serve.rollout.bucket_by
    return data


def flag_to_json(flag: Flag, *, indent: int | None = None) -> str:
    """``flag`` as JSON text (the document of :func:`flag_to_dict`)."""
    return json.dumps(flag_to_dict(flag), indent=indent, ensure_ascii=False)


# --------------------------------------------------------------------------- reading


def flag_from_dict(data: Any, source: str, *, key: str | None = None) -> Flag:
    """The flag in ``data`` (decoded JSON), checked; ``source`` names it in messages.

    ``key``, when given, is the key the document must have (or gets, when it has none).

    Raises:
        ConfigError: every problem, each at its field path.
    """
    return flag_from_file(flag_document_from_data(data, source), key=key)


def flag_from_json(text: str, source: str, *, key: str | None = None) -> Flag:
    """The flag in JSON ``text`` (see :func:`flag_from_dict`)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([ConfigProblem(
            SourceLocation(source, exc.lineno, exc.colno), "", f"invalid JSON: {exc.msg}")
        ]) from None
    return flag_from_dict(data, source, key=key)


def flag_from_file(flag_file: FlagFile, *, key: str | None = None) -> Flag:
    """The flag of a structurally valid document, with defaults filled and every problem
    reported at its line (see :func:`flag_from_dict`)."""
    builder = _Builder()
    flag = builder.flag(flag_file.document, key)
    problems = builder.problems if flag is None else builder.problems + all_problems(flag)
    if problems or flag is None:
        raise problems_error(problems, flag_file.source)
    return flag


def problems_error(problems: list[FlagProblem], source: YamlDocument | str,
                   hint: str | None = None) -> ConfigError:
    """A :class:`ConfigError` listing ``problems``, located in ``source`` when it is a file,
    else under the name ``source`` (e.g. ``"flag 'beta'"``)."""
    located = source if isinstance(source, YamlDocument) else YamlDocument(source, None)

    def where(path: PathKey) -> SourceLocation:
        if not located.value_positions and not located.key_positions:
            return SourceLocation(located.source)
        return located.locate(path)

    return ConfigError(
        [ConfigProblem(where(p.path), format_path(p.path), p.message) for p in problems],
        hint=hint,
    )


class _Builder:
    """Turns a :class:`FlagDocument` into a :class:`Flag`, collecting located problems."""

    def __init__(self) -> None:
        self.problems: list[FlagProblem] = []

    def _attempt(self, path: PathKey, build: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return build(*args)
        except ValueError as exc:
            self.problems.append(FlagProblem(path, str(exc)))
            return None

    def flag(self, document: FlagDocument, key: str | None) -> Flag | None:
        flag_key = document.key or key or ""
        if key is not None and document.key is not None and document.key != key:
            self.problems.append(FlagProblem(
                ("key",), f"the file describes flag '{document.key}', not '{key}'"))
        if not flag_key:
            self.problems.append(FlagProblem(("key",), "the flag needs a key"))
        flag_type = FlagType(document.flag_type)
        if document.variants is None:
            if flag_type is not FlagType.BOOLEAN:
                self.problems.append(FlagProblem(
                    ("variants",), f"a {flag_type} flag needs its variants listed"))
                return None
            variants = tuple(Variant(name, value) for name, value in BOOLEAN_VARIANTS)
        else:
            variants = tuple(Variant(name, value) for name, value in document.variants.items())
        off_variant = document.off_variant or default_off_variant(flag_type, variants)
        prerequisites = [
            self._attempt(("prerequisites", index), Prerequisite, model.flag,
                          tuple(model.variants))
            for index, model in enumerate(document.prerequisites)
        ]
        environments: dict[str, Environment] = {}
        for name, env_model in document.environments.items():
            environment = self._environment(("environments", name), env_model, variants,
                                            off_variant)
            if environment is not None:
                environments[name] = environment
        if self.problems:
            return None
        return Flag(
            key=flag_key, flag_type=flag_type, variants=variants, off_variant=off_variant,
            environments=environments,
            prerequisites=tuple(p for p in prerequisites if p is not None),
            description=document.description, salt=document.salt or flag_key,
        )

    def _environment(self, path: PathKey, model: EnvironmentModel,
                     variants: tuple[Variant, ...], off_variant: str) -> Environment | None:
        rules = [self._rule((*path, "rules", index), index, rule)
                 for index, rule in enumerate(model.rules)]
        if model.default is None:
            default: Serve | None = default_serve(variants, off_variant)
        else:
            default = self._serve((*path, "default"), model.default)
        if default is None or any(rule is None for rule in rules):
            return None
        return Environment(default=default, enabled=model.enabled, killed=model.killed,
                           rules=tuple(rule for rule in rules if rule is not None))

    def _rule(self, path: PathKey, index: int, model: RuleModel) -> Rule | None:
        conditions = [
            self._attempt((*path, "when", position), Condition, condition.attribute,
                          condition.op,
                          tuple(condition.values) if condition.values is not None
                          else (condition.value,))
            for position, condition in enumerate(model.when)
        ]
        serve = self._serve((*path, "serve"), model.serve)
        if serve is None or any(condition is None for condition in conditions):
            return None
        rule_id = model.id or f"rule-{index + 1}"
        return self._attempt((*path, "id"), Rule, rule_id,
                             tuple(c for c in conditions if c is not None), serve)

    def _serve(self, path: PathKey, model: ServeModel) -> Serve | None:
        if model.rollout is None:
            return self._attempt(path, Serve, model.variant)
        weights = [
            self._attempt((*path, "rollout", index, "weight"), _weight, weight.variant,
                          weight.weight)
            for index, weight in enumerate(model.rollout)
        ]
        if any(weight is None for weight in weights):
            return None
        fixed = _close_rounding_gap([w for w in weights if w is not None])
        rollout = self._attempt((*path, "rollout"), Rollout, fixed, model.bucket_by)
        return None if rollout is None else Serve(rollout=rollout)


def _weight(variant: str, fraction: float) -> Weight:
    return Weight(variant, weight_of(fraction))


def _close_rounding_gap(weights: list[Weight]) -> tuple[Weight, ...]:
    """Weights whose percentages add up to 100 % but whose rounded bucket counts miss by a
    bucket or two (e.g. three times 33.3333%) get the difference on the last variant."""
    total = sum(w.weight for w in weights)
    gap = BUCKETS - total
    if weights and gap != 0 and abs(gap) <= len(weights):
        last = weights[-1]
        if 0 <= last.weight + gap <= BUCKETS:
            weights = [*weights[:-1], Weight(last.variant, last.weight + gap)]
    return tuple(weights)
