"""``gates.yaml`` (the guide's ``version: 2`` gate file) -> :class:`PipelineSpec`.

The file is read exactly as the guide writes it, quirks included:

* a stage normally lists ``gates:``; a stage without ``gates:`` but with ``type:`` is itself a
  gate (the guide's ``pre_deploy_slo`` stage, ``type: api_call``);
* each gate has ``type:`` plus the options its backend declares; ``name:``, ``on_fail:`` and
  ``timeout:`` are common to every gate.

Gate options are validated by the backend's own options model, which the caller supplies through
an :data:`OptionsResolver` so this layer never imports the backends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from safeship._internal.durations import DurationSyntaxError, parse_duration
from safeship.config.validation import problems_from, suggest
from safeship.config.yaml_source import PathKey, YamlDocument, format_path, read_yaml
from safeship.errors import ConfigError, ConfigProblem
from safeship.model.enums import FailAction


class OptionsResolver(Protocol):
    """Finds the options model of a gate type; implemented by the registry."""

    def options_model(self, type_name: str) -> type[BaseModel] | None:
        """The options model for ``type_name``, or None when no backend has that type."""
        ...

    def known_types(self) -> list[str]:
        """Every gate type name, for "did you mean" suggestions."""
        ...

TOP_LEVEL_KEYS = ("version", "stages")
STAGE_KEYS = ("name", "gates")
COMMON_GATE_KEYS = ("type", "name", "on_fail", "timeout")
SUPPORTED_VERSION = 2


@dataclass(frozen=True)
class GateSpec:
    """One gate as configured: its type, id, policy overrides and validated options."""

    stage: str
    gate_id: str
    type: str
    options: BaseModel
    on_fail: FailAction | None
    timeout_s: float | None
    path: PathKey


@dataclass(frozen=True)
class StageSpec:
    """One stage of the pipeline and its gates, in file order."""

    name: str
    gates: tuple[GateSpec, ...]
    inline: bool = False


@dataclass(frozen=True)
class PipelineSpec:
    """A validated gates file."""

    source: str
    version: int
    stages: tuple[StageSpec, ...]

    def stage_names(self) -> list[str]:
        """Stage names in file order."""
        return [stage.name for stage in self.stages]

    def gate_types(self) -> set[str]:
        """Every gate type the file configures."""
        return {gate.type for stage in self.stages for gate in stage.gates}


class _Collector:
    """Gathers problems so one run of ``validate`` reports all of them, not just the first."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[ConfigProblem] = []

    def add(self, path: PathKey, message: str, *, key: bool = False,
            suggestion: str | None = None) -> None:
        self.problems.append(
            ConfigProblem(self.doc.locate(path, key=key), format_path(path), message, suggestion)
        )

    def unknown_keys(self, mapping: Mapping[str, Any], path: PathKey,
                     allowed: tuple[str, ...] | list[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.add((*path, key), f"unknown key in {what}", key=True,
                         suggestion=suggest(key, allowed))


def load_gates_file(path: Path, resolve: OptionsResolver) -> PipelineSpec:
    """Read and validate the gates file at ``path``."""
    return parse_gates_document(read_yaml(path), resolve)


def parse_gates_document(doc: YamlDocument, resolve: OptionsResolver) -> PipelineSpec:
    """Validate an already parsed gates document; raise ``ConfigError`` listing every problem."""
    found = _Collector(doc)
    data = doc.data
    if not isinstance(data, dict):
        found.add((), "a gates file is a mapping with `version: 2` and `stages:`")
        raise ConfigError(found.problems)
    found.unknown_keys(data, (), TOP_LEVEL_KEYS, "the gates file")
    version = data.get("version")
    if "version" not in data:
        found.add((), "`version: 2` is missing", key=True)
    elif version != SUPPORTED_VERSION or isinstance(version, bool):
        found.add(("version",), f"unsupported version {version!r}; safeship reads version 2")
    stages_raw = data.get("stages")
    stages: list[StageSpec] = []
    if "stages" not in data:
        found.add((), "`stages:` is missing", key=True)
    elif not isinstance(stages_raw, list) or not stages_raw:
        found.add(("stages",), "expected a non-empty list of stages")
    else:
        seen: set[str] = set()
        for index, raw in enumerate(stages_raw):
            stage = _parse_stage(found, raw, ("stages", index), resolve)
            if stage is None:
                continue
            if stage.name in seen:
                found.add(("stages", index, "name"), f"duplicate stage name '{stage.name}'")
            seen.add(stage.name)
            stages.append(stage)
    if found.problems:
        raise ConfigError(found.problems)
    return PipelineSpec(doc.source, SUPPORTED_VERSION, tuple(stages))


def _parse_stage(found: _Collector, raw: Any, path: PathKey,
                 resolve: OptionsResolver) -> StageSpec | None:
    if not isinstance(raw, dict):
        found.add(path, "a stage is a mapping with `name:` and `gates:`")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        if "name" in raw:
            found.add((*path, "name"), "expected a non-empty string")
        else:
            found.add(path, "this stage has no `name:`", key=True)
        name = f"stage{path[-1]}"
    if "gates" in raw:
        found.unknown_keys(raw, path, STAGE_KEYS, f"stage '{name}'")
        gates_raw = raw["gates"]
        if not isinstance(gates_raw, list) or not gates_raw:
            found.add((*path, "gates"), "expected a non-empty list of gates")
            return None
        gates: list[GateSpec] = []
        ids: dict[str, int] = {}
        for index, gate_raw in enumerate(gates_raw):
            gate = _parse_gate(found, gate_raw, (*path, "gates", index), name, resolve, ids)
            if gate is not None:
                gates.append(gate)
        return StageSpec(name, tuple(gates))
    if "type" in raw:
        # The guide's stage-as-gate form: the stage's own keys are the gate's.
        gate_raw = {key: value for key, value in raw.items() if key != "name"}
        gate = _parse_gate(found, gate_raw, path, name, resolve, {}, default_id=name)
        return StageSpec(name, (gate,) if gate else (), inline=True)
    found.add(path, f"stage '{name}' has neither `gates:` nor `type:`", key=True)
    return None


def _parse_gate(found: _Collector, raw: Any, path: PathKey, stage: str,
                resolve: OptionsResolver, ids: dict[str, int],
                default_id: str | None = None) -> GateSpec | None:
    if not isinstance(raw, dict):
        found.add(path, "a gate is a mapping with at least `type:`")
        return None
    gate_type = raw.get("type")
    if not isinstance(gate_type, str):
        if "type" in raw:
            found.add((*path, "type"), "expected a gate type name")
        else:
            found.add(path, "this gate has no `type:`", key=True)
        return None
    problems_before = len(found.problems)
    options_model = resolve.options_model(gate_type)
    on_fail = _parse_on_fail(found, raw, path)
    timeout_s = _parse_timeout(found, raw, path)
    gate_id = raw.get("name", default_id or gate_type)
    if not isinstance(gate_id, str) or not gate_id:
        found.add((*path, "name"), "expected a non-empty string")
        gate_id = gate_type
    if options_model is None:
        found.add((*path, "type"), f"unknown gate type '{gate_type}'",
                  suggestion=suggest(gate_type, resolve.known_types()))
        return None
    options_raw = {k: v for k, v in raw.items() if k not in COMMON_GATE_KEYS}
    try:
        options = options_model.model_validate(options_raw)
    except ValidationError as exc:
        found.problems.extend(problems_from(exc, found.doc, options_model, path))
        return None
    if len(found.problems) > problems_before:
        return None
    count = ids.get(gate_id, 0) + 1
    ids[gate_id] = count
    unique_id = gate_id if count == 1 else f"{gate_id}#{count}"
    return GateSpec(stage, unique_id, gate_type, options, on_fail, timeout_s, path)


def _parse_on_fail(found: _Collector, raw: dict[str, Any], path: PathKey) -> FailAction | None:
    if "on_fail" not in raw:
        return None
    value = raw["on_fail"]
    try:
        return FailAction(value)
    except ValueError:
        choices = [action.value for action in FailAction]
        found.add((*path, "on_fail"), f"must be one of {', '.join(choices)}; got {value!r}",
                  suggestion=suggest(str(value), choices))
        return None


def _parse_timeout(found: _Collector, raw: dict[str, Any], path: PathKey) -> float | None:
    if "timeout" not in raw:
        return None
    try:
        seconds = parse_duration(raw["timeout"])
    except DurationSyntaxError as exc:
        found.add((*path, "timeout"), str(exc))
        return None
    if seconds <= 0:
        found.add((*path, "timeout"), "must be longer than zero")
        return None
    return seconds
