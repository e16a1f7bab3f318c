"""JSON Schemas of safeship's files, so editors can validate them as people type."""

from __future__ import annotations

from typing import Any

from safeship.config.canary_file import CanaryFileModel
from safeship.config.gates_file import COMMON_GATE_KEYS, OptionsResolver
from safeship.config.kinds import FileKind
from safeship.config.service_file import ServiceFileModel
from safeship.model.enums import FailAction

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _common_gate_properties() -> dict[str, Any]:
    return {
        "name": {"type": "string", "minLength": 1, "description": "id of the gate in reports"},
        "on_fail": {"enum": [a.value for a in FailAction],
                    "description": "what a failure does (default: the guide's action)"},
        "timeout": {"type": ["string", "number"], "description": "e.g. 30s, 5m"},
    }


def gates_schema(resolve: OptionsResolver) -> dict[str, Any]:
    """The schema of a version 2 gates file, one branch per gate type."""
    defs: dict[str, Any] = {}
    branches = []
    for type_name in resolve.known_types():
        model = resolve.options_model(type_name)
        if model is None:
            continue
        options = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(options.pop("$defs", {}))
        properties = {"type": {"const": type_name}, **_common_gate_properties(),
                      **options.get("properties", {})}
        branch: dict[str, Any] = {"type": "object", "properties": properties,
                                  "required": ["type", *options.get("required", [])]}
        if options.get("additionalProperties") is False:
            branch["additionalProperties"] = False
        defs[f"gate_{type_name}"] = branch
        branches.append({"$ref": f"#/$defs/gate_{type_name}"})
    defs["gate"] = {"oneOf": branches}
    inline = {"allOf": [{"$ref": "#/$defs/gate"}]}
    stage_with_gates = {
        "type": "object",
        "required": ["name", "gates"],
        "additionalProperties": False,
        "properties": {"name": {"type": "string"},
                       "gates": {"type": "array", "minItems": 1,
                                 "items": {"$ref": "#/$defs/gate"}}},
    }
    # The stage-as-gate form: the stage's keys are a gate's keys plus `name`.
    stage_as_gate = {"type": "object", "required": ["name", "type"], **inline}
    return {
        "$schema": DRAFT,
        "title": "safeship gates.yaml (version 2)",
        "type": "object",
        "required": ["version", "stages"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 2},
            "stages": {"type": "array", "minItems": 1,
                       "items": {"oneOf": [stage_with_gates, stage_as_gate]}},
        },
        "$defs": defs,
        "x-common-gate-keys": list(COMMON_GATE_KEYS),
    }


def file_schema(kind: FileKind, resolve: OptionsResolver) -> dict[str, Any]:
    """The JSON Schema of one kind of file."""
    if kind is FileKind.GATES:
        return gates_schema(resolve)
    model = CanaryFileModel if kind is FileKind.CANARY else ServiceFileModel
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = DRAFT
    return schema
