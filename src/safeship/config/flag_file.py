"""Feature-flag documents (YAML or JSON): their shape, checked with line and column.

This is the edge model of one flag as people write it and as ``safeship flags show --format
json`` prints it. It checks structure only (keys, types, percentages); what the values mean
(variants that exist, valid regular expressions and versions, splits adding up to 100 %) is
checked by :mod:`safeship.flags.codec`, which turns a document into a flag and reports at the
same places.

.. code-block:: yaml

    apiVersion: safeship/v1        # optional; the only version so far
    kind: Flag                     # optional
    key: new-checkout              # optional in a file given for a named flag
    type: boolean                  # boolean (default) | string | number | json
    description: the one-page checkout
    variants: {on: true, off: false}   # optional for boolean flags
    off_variant: off               # served while off or killed (default: false / the first)
    prerequisites:
      - {flag: new-payments, variants: [on]}
    environments:
      production:
        enabled: true
        killed: false
        rules:                     # first match wins
          - id: staff
            when:                  # all must hold
              - {attribute: email, op: regex, value: '@example\\.com$'}
              - {attribute: app_version, op: semver_gte, value: 2.1.0}
            serve: on
        default:                   # when no rule matches
          rollout:
            - {variant: on, weight: 5%}
            - {variant: off, weight: 95%}
          bucket_by: targetingKey  # the default
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from safeship._internal.percents import PercentSyntaxError, parse_fraction
from safeship.config.validation import validate_model
from safeship.config.yaml_source import YamlDocument, read_yaml
from safeship.errors import ConfigError, SourceLocation

FLAG_API_VERSION: Literal["safeship/v1"] = "safeship/v1"
FLAG_KIND: Literal["Flag"] = "Flag"

FlagTypeName = Literal["boolean", "string", "number", "json"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ConditionModel(_Strict):
    """``attribute op value``; ``in``/``not_in`` take ``values`` (a list) instead."""

    attribute: str = Field(min_length=1, description="context attribute, or targetingKey")
    op: str = Field(min_length=1, description="equals, in, semver_gte, regex, not_in, ...")
    value: Any = None
    values: list[Any] | None = None

    @field_validator("value")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        return _check_scalar(value)

    @field_validator("values")
    @classmethod
    def _scalars(cls, values: list[Any] | None) -> list[Any] | None:
        return None if values is None else [_check_scalar(value) for value in values]

    @model_validator(mode="after")
    def _one_operand_form(self) -> ConditionModel:
        if (self.value is None) == (self.values is None):
            raise ValueError("give exactly one of `value` or `values` (a list)")
        return self


def _check_scalar(value: Any) -> Any:
    # One readable message instead of one per member of a str | bool | int | float union.
    if value is not None and not isinstance(value, str | bool | int | float):
        raise ValueError(f"expected a string, number or boolean, got {value!r}")
    return value


class WeightModel(_Strict):
    """One variant's share of a split."""

    variant: str = Field(min_length=1)
    weight: float = Field(description="a percentage such as 5% (or a ratio such as 0.05)")

    @field_validator("weight", mode="before")
    @classmethod
    def _percentage(cls, value: Any) -> float:
        try:
            return parse_fraction(value)
        except PercentSyntaxError as exc:
            raise ValueError(str(exc)) from None


class ServeModel(_Strict):
    """What to serve: a variant name (written as a bare string), or a percentage split whose
    weights are given in bucket order and add up to 100 %."""

    variant: str | None = Field(None, min_length=1)
    rollout: list[WeightModel] | None = Field(None, min_length=1)
    bucket_by: str = Field("targetingKey", min_length=1,
                           description="the attribute whose value is hashed")

    @model_validator(mode="before")
    @classmethod
    def _bare_variant(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"variant": data}
        if not isinstance(data, dict):
            raise ValueError(
                f"expected a variant name or a mapping with `rollout:`, got {data!r}")
        return data

    @model_validator(mode="after")
    def _one_form(self) -> ServeModel:
        if (self.variant is None) == (self.rollout is None):
            raise ValueError("serve either a variant name or a `rollout:` split")
        return self


class RuleModel(_Strict):
    """Serve ``serve`` when every condition in ``when`` holds (an empty list always holds)."""

    id: str | None = Field(None, description="stable id reported with the result")
    when: list[ConditionModel] = Field(default_factory=list)
    serve: ServeModel


class EnvironmentModel(_Strict):
    """The flag's state in one environment."""

    enabled: bool = False
    killed: bool = False
    rules: list[RuleModel] = Field(default_factory=list)
    default: ServeModel | None = None


class PrerequisiteModel(_Strict):
    """This flag is on only while ``flag`` evaluates to one of ``variants``."""

    flag: str = Field(min_length=1)
    variants: list[str] = Field(min_length=1)


class FlagDocument(_Strict):
    """One flag definition."""

    api_version: Literal["safeship/v1"] = Field(FLAG_API_VERSION, alias="apiVersion")
    kind: Literal["Flag"] = FLAG_KIND
    key: str | None = None
    flag_type: FlagTypeName = Field("boolean", alias="type")
    description: str = ""
    salt: str | None = None
    variants: dict[str, Any] | None = None
    off_variant: str | None = None
    prerequisites: list[PrerequisiteModel] = Field(default_factory=list)
    environments: dict[str, EnvironmentModel] = Field(default_factory=dict)


@dataclass(frozen=True)
class FlagFile:
    """A validated flag document and the located source it came from."""

    source: YamlDocument
    document: FlagDocument


def read_flag_file(path: Path) -> FlagFile:
    """Read and structurally validate the flag document in ``path`` (YAML or JSON).

    Raises:
        NotFound: there is no such file.
        ConfigError: the file does not parse or has the wrong shape (file:line:col, field).
    """
    source = read_yaml(path)
    return FlagFile(source, validate_model(FlagDocument, source, source.data))


def flag_document_from_data(data: Any, source: str) -> FlagFile:
    """Validate plain data (decoded JSON, e.g. from the store) named ``source`` in messages."""
    located = YamlDocument(source, data)
    try:
        return FlagFile(located, validate_model(FlagDocument, located, data))
    except ConfigError as exc:
        # Plain data has no lines: name the source alone rather than a made-up "1:1".
        raise ConfigError(
            [replace(problem, location=SourceLocation(source)) for problem in exc.problems],
            hint=exc.hint) from exc
