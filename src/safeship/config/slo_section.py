"""The ``slos:`` section of ``service.yaml``: one entry per objective, checked and located.

.. code-block:: yaml

    slos:
      - name: availability              # unique within the service; [A-Za-z0-9._-]
        objective: 99.9%                # or 0.999; strictly between 0 and 100 %
        window: 30d                     # rolling window, default 30d, at least 1h
        description: Requests to the shop succeed
        good: sum(http_requests_total{job="shop",code!~"5.."})   # exactly one of good / bad
        total: sum(http_requests_total{job="shop"})

``good``, ``bad`` and ``total`` are *counter* expressions without ``rate()`` or a range:
safeship wraps every selector in ``rate(...[w])`` / ``increase(...[w])`` itself, for each window
it needs (see :mod:`safeship._internal.sli_counters` for the accepted forms). The events
expression and ``total`` must sum by the same labels.

Pydantic checks each entry's fields (with the file's line and column); :func:`slo_definitions`
then checks what spans fields and entries (good xor bad, matching labels, unique names) and
builds the frozen :class:`~safeship.model.slo.SloDefinition` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from safeship._internal.durations import DurationSyntaxError, format_duration, parse_duration
from safeship._internal.percents import PercentSyntaxError, parse_fraction
from safeship._internal.sli_counters import (
    CounterExpression,
    CounterExpressionError,
    check_counter_expression,
)
from safeship.config.yaml_source import PathKey, YamlDocument, format_path
from safeship.errors import ConfigError, ConfigProblem
from safeship.model.slo import RatioSli, SliKind, SloDefinition

SLO_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""SLO and service names end up in PromQL label values and rule group names: keep them plain."""
DEFAULT_WINDOW_S = 30 * 86400.0
MIN_WINDOW_S = 3600.0
"""The shortest SLO window: the fastest alert of the burn-rate policy looks back one hour."""


def objective_value(value: object) -> float:
    """``99.9%`` or ``0.999`` as a fraction strictly between 0 and 1.

    Raises ValueError with a message a person can act on.
    """
    try:
        # "99.9%" parses to 0.9990000000000001; 12 digits keep every real objective exact.
        fraction = round(parse_fraction(value), 12)
    except PercentSyntaxError as exc:
        raise ValueError(str(exc)) from exc
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the objective must be strictly between 0 and 100% (got {value!r})")
    return fraction


def window_seconds(value: object) -> float:
    """An SLO window (``30d``, ``4w`` is not accepted: write ``28d``) in whole seconds.

    Raises ValueError when it is not a duration, shorter than one hour or not whole seconds.
    """
    try:
        seconds = parse_duration(value)
    except DurationSyntaxError as exc:
        raise ValueError(str(exc)) from exc
    if seconds < MIN_WINDOW_S:
        raise ValueError(
            f"the window must be at least 1h (got {value!r}): the burn-rate alerts look back "
            "one hour at least")
    if seconds != int(seconds):
        raise ValueError(f"the window must be a whole number of seconds (got {value!r})")
    return seconds


def counter_expression(text: str) -> CounterExpression:
    """``text`` checked as a rate-less counter expression; ValueError explains a refusal."""
    try:
        return check_counter_expression(text)
    except CounterExpressionError as exc:
        raise ValueError(str(exc)) from exc


def _checked_expression(text: str | None) -> str | None:
    if text is None:
        return None
    return counter_expression(text).text


class SloEntryModel(BaseModel):
    """One entry of ``slos:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SLO_NAME_PATTERN, max_length=128,
                      description="unique within the service, e.g. availability")
    objective: Annotated[float, BeforeValidator(objective_value),
                         WithJsonSchema({"type": ["string", "number"], "default": "30d"})] = Field(
        description="target share of good events: 99.9% or 0.999")
    window: Annotated[float, BeforeValidator(window_seconds),
                      WithJsonSchema({"type": ["string", "number"]})] = Field(
        DEFAULT_WINDOW_S, description="rolling window the objective is measured over",
        json_schema_extra={"default": "30d"})
    description: str = Field("", max_length=1050, description="what the objective promises")
    good: Annotated[str | None, AfterValidator(_checked_expression)] = Field(
        None, description="counter of good events, without rate(): sum(...)")
    bad: Annotated[str | None, AfterValidator(_checked_expression)] = Field(
        None, description="counter of bad events, without rate(): sum(...)")
    total: Annotated[str, AfterValidator(_checked_expression)] = Field(
        description="counter of all events, without rate(): sum(...)")


def slo_definitions(entries: Sequence[SloEntryModel], doc: YamlDocument, service: str,
                    base: PathKey = ("slos",)) -> tuple[SloDefinition, ...]:
    """The validated entries (found at ``base`` in ``doc``) as definitions of ``service``.

    Raises :class:`ConfigError` listing every problem that spans fields or entries.
    """
    problems: list[ConfigProblem] = []
    seen: dict[str, int] = {}
    definitions: list[SloDefinition] = []
    for index, entry in enumerate(entries):
        at = (*base, index)
        if entry.name in seen:
            problems.append(_problem(doc, (*at, "name"), (
                f"another SLO of this service is already named '{entry.name}' "
                f"({format_path((*base, seen[entry.name]))}); names must be unique")))
        seen.setdefault(entry.name, index)
        sli = _sli(entry, doc, at, problems)
        if sli is None:
            continue
        line = doc.locate(at).line
        definitions.append(SloDefinition(
            name=entry.name, service=service, objective=entry.objective,
            window_s=entry.window, sli=sli, description=entry.description,
            source=f"{doc.source}:{line}" if line is not None else doc.source,
        ))
    if problems:
        raise ConfigError(problems, hint="see docs/slo.md for the slos: syntax")
    return tuple(definitions)


def _sli(entry: SloEntryModel, doc: YamlDocument, at: PathKey,
         problems: list[ConfigProblem]) -> RatioSli | None:
    if (entry.good is None) == (entry.bad is None):
        where = (*at, "bad") if entry.bad is not None else at
        problems.append(_problem(doc, where, (
            "give exactly one of 'good' and 'bad' (with 'total'), not both"
            if entry.good is not None else
            "give the good events ('good') or the bad events ('bad'), with 'total'")))
        return None
    kind, key, events = ((SliKind.GOOD_TOTAL, "good", entry.good) if entry.good is not None
                         else (SliKind.BAD_TOTAL, "bad", entry.bad))
    assert events is not None  # noqa: S101 - narrowed by the xor above
    problem = grouping_mismatch(key, events, entry.total)
    if problem:
        problems.append(_problem(doc, (*at, "total"), problem))
        return None
    return RatioSli(kind, events, entry.total)


def grouping_mismatch(key: str, events: str, total: str) -> str | None:
    """Why ``events`` (named ``key``) and ``total`` cannot be divided, or None if they can."""
    left = check_counter_expression(events).grouping
    right = check_counter_expression(total).grouping
    if left == right:
        return None
    return (f"'{key}' and 'total' must sum by the same labels, or their ratio matches no "
            f"series ({key}: {_labels(left)}, total: {_labels(right)})")


def _labels(labels: frozenset[str]) -> str:
    return f"by ({', '.join(sorted(labels))})" if labels else "no labels"


def _problem(doc: YamlDocument, path: PathKey, message: str) -> ConfigProblem:
    return ConfigProblem(doc.locate(path), format_path(path), message)


def slo_entry(definition: SloDefinition) -> dict[str, str]:
    """``definition`` written back as one ``slos:`` entry (the inverse of the parsing above)."""
    entry = {
        "name": definition.name,
        "objective": f"{definition.objective * 100:.10g}%",
        "window": format_duration(definition.window_s),
    }
    if definition.description:
        entry["description"] = definition.description
    key = "good" if definition.sli.kind is SliKind.GOOD_TOTAL else "bad"
    entry[key] = definition.sli.events
    entry["total"] = definition.sli.total
    return entry
