"""The one-line syntax of flag command options (variants, attributes, prerequisites, rules),
read and written: the CLI shows rules the way it takes them.

- Variant ``NAME=VALUE``: the value is read by the flag's type: ``true``/``false`` for boolean
  flags, a number for number flags, the text as is for string flags, JSON for json flags.
- Attribute ``NAME=VALUE``: the value is kept as text (rules compare numbers and booleans by
  their text form, and versions are text anyway).
- Prerequisite ``FLAG=VARIANT[,VARIANT...]``.
- Rule ``[ID:] CONDITION [and CONDITION]... -> VARIANT``, a condition being
  ``ATTRIBUTE OPERATOR VALUE``. ``in``/``not_in`` take ``A,B,C`` or a JSON list; a value that
  starts with ``"`` or ``[`` is read as JSON (so ``name equals "a and b"`` works); otherwise it
  is the text up to the next `` and `` (a regular expression containing `` and `` needs a
  definition file). ``-> VARIANT`` alone is a rule that always matches. Example::

      staff: email regex @example\\.com$ and app_version semver_gte 2.1.0 -> on
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from safeship.errors import UsageError
from safeship.flags.context import TARGETING_KEY
from safeship.flags.model import Environment, FlagType, Prerequisite, Rule, Serve
from safeship.flags.rules import Condition, Operator, Scalar

_RULE_ID = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.-]*):\s+")
_CONDITION = re.compile(r"^\s*(\S+)\s+(\S+)\s+(.+?)\s*$")
_AND = re.compile(r"\s+and\s+")
_JSON_START = ('"', "[")
_RULE_SYNTAX = "ID: ATTRIBUTE OPERATOR VALUE [and ...] -> VARIANT"


def _pair(text: str, what: str, example: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"{what} '{text}' is not NAME=VALUE", hint=f"e.g. {example}")
    return name.strip(), value


def parse_variant(text: str, flag_type: FlagType) -> tuple[str, Any]:
    """``NAME=VALUE`` as a variant of a ``flag_type`` flag."""
    name, raw = _pair(text, "variant", "--variant on=true")
    if flag_type is FlagType.BOOLEAN:
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise UsageError(f"variant '{name}': a boolean flag's values are true or false, "
                             f"not '{raw}'")
        return name, lowered == "true"
    if flag_type is FlagType.NUMBER:
        return name, _number(name, raw)
    if flag_type is FlagType.JSON:
        try:
            return name, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UsageError(f"variant '{name}': the value is not JSON: {exc.msg}",
                             hint="quote it for the shell, e.g. --variant 'v1={\"limit\": 5}'"
                             ) from None
    return name, raw


def _number(name: str, raw: str) -> int | float:
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise UsageError(f"variant '{name}': a number flag's values are numbers, not '{raw}'")
    return number


def parse_attribute(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` as a context attribute (the value stays text)."""
    return _pair(text, "attribute", "--attr country=DE")


def parse_prerequisite(text: str) -> Prerequisite:
    """``FLAG=VARIANT[,VARIANT...]`` as a prerequisite."""
    flag, raw = _pair(text, "prerequisite", "--prerequisite new-payments=on")
    variants = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not variants:
        raise UsageError(f"prerequisite '{text}' names no variant",
                         hint="e.g. --prerequisite new-payments=on")
    return Prerequisite(flag, variants)


def parse_rule(text: str, position: int) -> Rule:
    """One rule in the compact syntax; ``position`` (1-based) names it ``rule-N`` when it has
    no id."""
    head, arrow, variant = text.rpartition("->")
    if not arrow or not variant.strip():
        raise UsageError(f"rule '{text}' has no '-> VARIANT'", hint=f"write {_RULE_SYNTAX}")
    rule_id = f"rule-{position}"
    match = _RULE_ID.match(head)
    if match is not None:
        rule_id = match.group(1)
        head = head[match.end():]
    conditions = tuple(_condition(part, text) for part in _split_conditions(head.strip()))
    return Rule(rule_id, conditions, Serve(variant=variant.strip()))


def _split_conditions(text: str) -> list[str]:
    """``text`` cut at each `` and `` that is not inside a JSON string or list."""
    parts: list[str] = []
    start = depth = 0
    quoted = escaped = False
    index = 0
    while index < len(text):
        char = text[index]
        if quoted:
            escaped = char == "\\" and not escaped
            quoted = not (char == '"' and not escaped)
        elif char == '"':
            quoted = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif depth == 0 and char.isspace():
            match = _AND.match(text, index)
            if match is not None:
                parts.append(text[start:index])
                start = index = match.end()
                continue
        index += 1
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def _condition(part: str, rule: str) -> Condition:
    match = _CONDITION.match(part)
    if match is None:
        raise UsageError(f"rule '{rule}': '{part}' is not ATTRIBUTE OPERATOR VALUE",
                         hint=f"write {_RULE_SYNTAX}")
    attribute, operator, raw = match.groups()
    try:
        op = Operator(operator)
    except ValueError:
        raise UsageError(
            f"rule '{rule}': unknown operator '{operator}'",
            hint="operators: " + ", ".join(o.value for o in Operator)) from None
    try:
        return Condition(attribute, op, _operands(op, raw))
    except ValueError as exc:
        raise UsageError(f"rule '{rule}': {exc}") from None


def _operands(op: Operator, raw: str) -> tuple[Scalar, ...]:
    if raw.startswith(_JSON_START) and op not in (Operator.REGEX, Operator.NOT_REGEX):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"'{raw}' is not valid JSON: {exc.msg}") from None
        items = data if isinstance(data, list) else [data]
        return tuple(items)
    if op.takes_list:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return (raw,)


# --------------------------------------------------------------------------- rendering


def condition_text(condition: Condition) -> str:
    """``condition`` in the compact syntax, e.g. ``country in DE,AT``; operands that would not
    read back as they are (commas, `` and ``, a leading quote or bracket) are written as JSON."""
    texts = [str(value) for value in condition.values]
    if condition.operator in (Operator.REGEX, Operator.NOT_REGEX):
        operand = texts[0]
    elif all(_plain_operand(text, condition.operator.takes_list) for text in texts):
        operand = ",".join(texts)
    elif condition.operator.takes_list:
        operand = json.dumps(list(condition.values), ensure_ascii=False)
    else:
        operand = json.dumps(condition.values[0], ensure_ascii=False)
    return f"{condition.attribute} {condition.operator.value} {operand}"


def _plain_operand(text: str, in_list: bool) -> bool:
    return (bool(text) and text == text.strip() and not text.startswith(_JSON_START)
            and _AND.search(text) is None and not (in_list and "," in text))


def serve_text(serve: Serve) -> str:
    """``on``, or a split as ``on 5% / off 95%`` (with `` by ATTRIBUTE`` when not the
    targeting key)."""
    if serve.rollout is None:
        return serve.variant or ""
    text = " / ".join(f"{w.variant} {w.percent}" for w in serve.rollout.weights)
    if serve.rollout.bucket_by != TARGETING_KEY:
        text += f" by {serve.rollout.bucket_by}"
    return text


def rule_text(rule: Rule) -> str:
    """``rule`` in the compact syntax :func:`parse_rule` reads (when its values allow)."""
    conditions = " and ".join(condition_text(c) for c in rule.conditions)
    head = f"{rule.rule_id}: {conditions}" if conditions else f"{rule.rule_id}:"
    return f"{head} -> {serve_text(rule.serve)}"


def environment_state(environment: Environment | None) -> str:
    """One word for an environment's state: ``killed``, ``on``, ``off`` (or ``-`` when the
    flag has no such environment)."""
    if environment is None:
        return "-"
    if environment.killed:
        return "killed"
    return "on" if environment.enabled else "off"
