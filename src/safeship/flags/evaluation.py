"""Evaluating a flag for one context in one environment: which variant, and why.

``evaluate(flag, context, environment)`` never raises for a flag and a context; a problem is an
:class:`Evaluation` with reason ``ERROR`` and an :class:`ErrorCode`. Reasons and error codes
use OpenFeature's words, so an OpenFeature provider maps them one to one.

The order of decisions (the first that applies wins):

1. ``expected_type`` given and different from the flag's type: ``ERROR``/``TYPE_MISMATCH``
   (no variant: the caller's own default is the only value of the right type).
2. The environment is missing, disabled or killed: the off variant, ``DISABLED``.
3. A prerequisite flag does not evaluate (in the same environment) to one of the variants it
   must: the off variant, ``DISABLED``, with ``prerequisite`` naming it. A prerequisite that
   is missing, cyclic or in error gives the off variant with ``ERROR``.
4. The first rule whose conditions all hold: its variant (``TARGETING_MATCH``), or its split's
   pick (``SPLIT``); ``rule_id`` names the rule.
5. Otherwise the environment's default: ``STATIC`` when the environment has no rules and no
   prerequisites and serves a fixed variant (nothing about the context mattered), ``DEFAULT``
   when rules exist but none matched, ``SPLIT`` when the default is a split.

A split needs the bucketing attribute (the targeting key unless ``bucket_by`` says otherwise);
without it the result is the off variant with ``ERROR``/``TARGETING_KEY_MISSING``. Every
``ERROR`` that has a variant serves the off variant: failures fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from safeship.flags.bucketing import bucket, pick
from safeship.flags.context import EvaluationContext
from safeship.flags.model import DEFAULT_ENVIRONMENT, Flag, FlagType, Serve, thaw
from safeship.flags.rules import canonical_text

#: How deep prerequisites may nest before evaluation gives up (cycles are refused on write,
#: this guards flags built by hand).
MAX_PREREQUISITE_DEPTH = 32


class Reason(StrEnum):
    """Why a variant was served (OpenFeature's resolution reasons)."""

    STATIC = "STATIC"
    DEFAULT = "DEFAULT"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    ERROR = "ERROR"


class ErrorCode(StrEnum):
    """What went wrong when the reason is ``ERROR`` (OpenFeature's error codes)."""

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
    PARSE_ERROR = "PARSE_ERROR"
    GENERAL = "GENERAL"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of one evaluation.

    ``value`` is plain data (a ``json`` flag's objects are fresh dicts the caller may change).
    ``variant`` and ``value`` are None only for errors without a usable variant
    (``FLAG_NOT_FOUND``, ``TYPE_MISMATCH``, ``PARSE_ERROR``); an OpenFeature provider returns
    the caller's default value whenever ``reason`` is ``ERROR``.
    """

    flag_key: str
    variant: str | None
    value: Any
    reason: Reason
    rule_id: str | None = None
    error_code: ErrorCode | None = None
    error_message: str | None = None
    prerequisite: str | None = None

    @property
    def is_error(self) -> bool:
        """True when the reason is ``ERROR``."""
        return self.reason is Reason.ERROR


def failed(flag_key: str, code: ErrorCode, message: str) -> Evaluation:
    """An ``ERROR`` evaluation without a variant, e.g. for a flag that does not exist or whose
    stored definition cannot be read (``PARSE_ERROR``)."""
    return Evaluation(flag_key, None, None, Reason.ERROR, error_code=code, error_message=message)


def evaluate(
    flag: Flag,
    context: EvaluationContext,
    environment: str = DEFAULT_ENVIRONMENT,
    *,
    flags: Mapping[str, Flag] | None = None,
    expected_type: FlagType | None = None,
) -> Evaluation:
    """Evaluate ``flag`` for ``context`` in ``environment`` (see the module docstring).

    ``flags`` holds the other flags by key; prerequisites are looked up there.
    """
    if expected_type is not None and flag.flag_type is not expected_type:
        return failed(flag.key, ErrorCode.TYPE_MISMATCH,
                      f"flag '{flag.key}' is a {flag.flag_type} flag, not {expected_type}")
    return _evaluate(flag, context, environment, flags or {}, (flag.key,))


def _evaluate(flag: Flag, context: EvaluationContext, environment: str,
              flags: Mapping[str, Flag], chain: tuple[str, ...]) -> Evaluation:
    env = flag.environments.get(environment)
    if env is None or not env.enabled or env.killed:
        return _off(flag, Reason.DISABLED)
    for prerequisite in flag.prerequisites:
        if prerequisite.flag in chain or len(chain) > MAX_PREREQUISITE_DEPTH:
            return _off(flag, Reason.ERROR, ErrorCode.GENERAL,
                        "prerequisites form a cycle: " + " -> ".join((*chain, prerequisite.flag)))
        other = flags.get(prerequisite.flag)
        if other is None:
            return _off(flag, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND,
                        f"prerequisite flag '{prerequisite.flag}' does not exist",
                        prerequisite=prerequisite.flag)
        result = _evaluate(other, context, environment, flags, (*chain, other.key))
        if result.reason is Reason.ERROR:
            return _off(flag, Reason.ERROR, result.error_code or ErrorCode.GENERAL,
                        f"prerequisite '{other.key}': {result.error_message}",
                        prerequisite=other.key)
        if result.variant not in prerequisite.variants:
            return _off(flag, Reason.DISABLED, prerequisite=other.key)
    for rule in env.rules:
        for condition in rule.conditions:
            if not condition.matches(context):
                break
        else:
            return _serve(flag, rule.serve, context, Reason.TARGETING_MATCH, rule.rule_id)
    if env.rules or flag.prerequisites:
        return _serve(flag, env.default, context, Reason.DEFAULT, None)
    return _serve(flag, env.default, context, Reason.STATIC, None)


def _serve(flag: Flag, serve: Serve, context: EvaluationContext, reason: Reason,
           rule_id: str | None) -> Evaluation:
    rollout = serve.rollout
    if rollout is None:
        return _variant(flag, serve.variant or "", reason, rule_id)
    key = canonical_text(context.get(rollout.bucket_by))
    if not key:
        return _off(flag, Reason.ERROR, ErrorCode.TARGETING_KEY_MISSING,
                    f"the split of flag '{flag.key}' buckets by '{rollout.bucket_by}', which "
                    "the context does not have")
    chosen = rollout.weights[pick(rollout.bounds, bucket(flag.salt, key))].variant
    return _variant(flag, chosen, Reason.SPLIT, rule_id)


def _variant(flag: Flag, name: str, reason: Reason, rule_id: str | None) -> Evaluation:
    if not flag.has_variant(name):
        # Only a flag that skipped validation gets here; serve off rather than guess.
        return _off(flag, Reason.ERROR, ErrorCode.GENERAL,
                    f"flag '{flag.key}' serves unknown variant '{name}'")
    value = flag.value_of(name)
    if flag.flag_type is FlagType.JSON:
        value = thaw(value)
    return Evaluation(flag.key, name, value, reason, rule_id)


def _off(flag: Flag, reason: Reason, code: ErrorCode | None = None, message: str | None = None,
         *, prerequisite: str | None = None) -> Evaluation:
    name = flag.off_variant
    if not flag.has_variant(name):
        return Evaluation(flag.key, None, None, Reason.ERROR, None, ErrorCode.GENERAL,
                          f"flag '{flag.key}' has no off variant '{name}'", prerequisite)
    value = flag.value_of(name)
    if flag.flag_type is FlagType.JSON:
        value = thaw(value)
    return Evaluation(flag.key, name, value, reason, None, code, message, prerequisite)
