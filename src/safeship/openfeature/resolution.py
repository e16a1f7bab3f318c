"""From a safeship :class:`~safeship.flags.Evaluation` to OpenFeature's resolution details.

Reasons and error codes have the same names on both sides. OpenFeature's rule for errors is
that the caller gets its own default value: any ``ERROR`` evaluation (a split without a
targeting key, a type mismatch, a missing prerequisite...) resolves to ``default_value``
with the error code, even where safeship's evaluator had picked the off variant.

Types: ``boolean`` flags answer boolean requests, ``string`` string ones, ``number`` integer
and float ones (an integer request gets ``TYPE_MISMATCH`` for a fractional value), ``json``
object ones (and only when the value is an object or an array).
"""

from __future__ import annotations

from typing import Any

from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason

from safeship.flags import Evaluation, FlagType


class ValueKind:
    """What an OpenFeature ``resolve_*_details`` call asks for."""

    BOOLEAN = "boolean"
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    OBJECT = "object"


#: The flag type each kind of request needs.
FLAG_TYPE_OF: dict[str, FlagType] = {
    ValueKind.BOOLEAN: FlagType.BOOLEAN,
    ValueKind.STRING: FlagType.STRING,
    ValueKind.INTEGER: FlagType.NUMBER,
    ValueKind.FLOAT: FlagType.NUMBER,
    ValueKind.OBJECT: FlagType.JSON,
}

_ERROR_CODES = {code.value: code for code in ErrorCode}


def failure(default: Any, code: ErrorCode, message: str) -> FlagResolutionDetails[Any]:
    """The caller's default, with an error code and message."""
    return FlagResolutionDetails(value=default, error_code=code, error_message=message,
                                 reason=Reason.ERROR)


def resolution(result: Evaluation, kind: str, default: Any,
               metadata: dict[str, bool | int | float | str],
               stale: bool) -> tuple[FlagResolutionDetails[Any], str | None]:
    """The OpenFeature answer for ``result`` and the variant the caller got (None: its
    default). ``stale`` answers with reason ``STALE`` (the original reason is in the
    metadata under ``reason``)."""
    if result.error_code is not None or result.variant is None:
        code = _ERROR_CODES.get(result.error_code.value if result.error_code else "",
                                ErrorCode.GENERAL)
        return failure(default, code, result.error_message or "evaluation failed"), None
    value = coerce(result.value, kind)
    if value is MISMATCH:
        return failure(default, ErrorCode.TYPE_MISMATCH,
                       f"flag '{result.flag_key}' serves {result.value!r}, which is not "
                       f"{'an' if kind in (ValueKind.INTEGER, ValueKind.OBJECT) else 'a'} "
                       f"{kind}"), None
    if result.rule_id is not None:
        metadata["rule_id"] = result.rule_id
    if result.prerequisite is not None:
        metadata["prerequisite"] = result.prerequisite
    reason: str = result.reason.value
    if stale:
        metadata["reason"] = reason
        reason = Reason.STALE
    return FlagResolutionDetails(value=value, reason=reason, variant=result.variant,
                                 flag_metadata=metadata), result.variant


#: What :func:`coerce` returns for a value that is not of the kind asked for.
MISMATCH = object()


def coerce(value: Any, kind: str) -> Any:
    """``value`` as the kind asked for, or the mismatch marker."""
    if kind == ValueKind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return MISMATCH
        if isinstance(value, float):
            return int(value) if value.is_integer() else MISMATCH
        return value
    if kind == ValueKind.FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return MISMATCH
        return float(value)
    if kind == ValueKind.OBJECT:
        return value if isinstance(value, dict | list) else MISMATCH
    return value
