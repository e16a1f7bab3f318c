"""Frozen dataclasses <-> JSON-ready data, so a rollout can be resumed from the store alone.

A resumed controller must not depend on files that may have changed since the rollout began:
the request, the canary spec, the analysis policy and both plans are stored with the release.
:func:`encode` turns any frozen dataclass (enums, tuples, mappings, nested dataclasses) into
plain data; :func:`decode` rebuilds it from the dataclass's type hints. Steps carry their kind.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from safeship.errors import InternalError
from safeship.strategies.interface import (
    Analyze,
    Deploy,
    HealthGate,
    MarkStable,
    Retire,
    Scale,
    SetWeights,
    SmokeTest,
    Step,
    StepKind,
)

T = TypeVar("T")

STEP_TYPES: dict[StepKind, type[Any]] = {
    StepKind.DEPLOY: Deploy,
    StepKind.SCALE: Scale,
    StepKind.HEALTH_GATE: HealthGate,
    StepKind.SET_WEIGHTS: SetWeights,
    StepKind.SMOKE_TEST: SmokeTest,
    StepKind.ANALYZE: Analyze,
    StepKind.RETIRE: Retire,
    StepKind.MARK_STABLE: MarkStable,
}


def encode(value: Any) -> Any:
    """Plain JSON-ready data for ``value`` (dataclasses become dicts of their fields)."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], data: Any) -> T:
    """Rebuild a ``cls`` from what :func:`encode` produced."""
    return typing.cast(T, _decode(cls, data))


def _decode(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if data is None:
            return None
        if len(options) == 1:
            return _decode(options[0], data)
        for option in options:  # a plain union such as `str | int | float`
            if isinstance(option, type) and isinstance(data, option):
                return data
        return data
    if origin is typing.ClassVar:
        return data
    if origin in (tuple, Sequence, list):
        args = typing.get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:  # fixed length: (str, float)
            return tuple(_decode(arg, value) for arg, value in zip(args, data, strict=True))
        item = args[0] if args else Any
        return tuple(_decode(item, value) for value in data)
    if origin in (dict, Mapping):
        key_type, value_type = typing.get_args(hint)
        return {_decode_key(key_type, key): _decode(value_type, value)
                for key, value in data.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        kwargs = {f.name: _decode(hints[f.name], data[f.name])
                  for f in dataclasses.fields(hint) if f.init and f.name in data}
        return hint(**kwargs)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    if hint is float and isinstance(data, int | float):
        return float(data)
    return data


def _decode_key(hint: Any, key: str) -> Any:
    if hint is float:
        return float(key)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(key)
    return key


def encode_step(step: Step) -> dict[str, Any]:
    """A step as data, with its kind."""
    data = encode(step)
    data["kind"] = step.kind.value
    return typing.cast(dict[str, Any], data)


def decode_step(data: Mapping[str, Any]) -> Step:
    """The step :func:`encode_step` wrote."""
    try:
        cls = STEP_TYPES[StepKind(data["kind"])]
    except (KeyError, ValueError) as exc:
        raise InternalError(f"stored step of unknown kind: {dict(data)!r}") from exc
    fields = {key: value for key, value in data.items() if key != "kind"}
    return typing.cast(Step, decode(cls, fields))


def encode_plan(steps: Sequence[Step]) -> dict[str, Any]:
    """A plan as a JSON object (the store keeps objects)."""
    return {"steps": [encode_step(step) for step in steps]}


def decode_plan(data: Mapping[str, Any] | None) -> tuple[Step, ...]:
    """The plan :func:`encode_plan` wrote (empty for None)."""
    if not data:
        return ()
    return tuple(decode_step(step) for step in data.get("steps", ()))
