"""The automated gates of ``gates.yaml``, each with the fail action it runs with at the risk level.

The file is loaded with the same loader and options resolver as ``safeship gates run``, so a file
the pipeline would refuse is refused here too (a located :class:`~safeship.errors.ConfigError`).
A gate's action is the engine's own answer (:func:`safeship.engine.risk_policy.effective_action`):
``on_fail: log`` cannot weaken a mandatory gate, and a gate that only logs or warns stops nothing.
"""

from __future__ import annotations

from pathlib import Path

from safeship.assess.evidence import ConfiguredGate, GatesFacts
from safeship.assess.version_control import display_path
from safeship.config.gates_file import PipelineSpec
from safeship.engine.risk_policy import effective_action
from safeship.model.enums import FailAction, RiskLevel
from safeship.registry import UNAVAILABLE_GATES, all_gate_types


def gates_facts(root: Path, path: Path, spec: PipelineSpec | None,
                risk: RiskLevel) -> GatesFacts:
    """The facts of the gates file at ``path`` (``spec`` None when it does not exist)."""
    shown = display_path(root, path)
    if spec is None:
        return GatesFacts(shown, False)
    backends = all_gate_types()
    gates = []
    for stage in spec.stages:
        for gate in stage.gates:
            backend = backends.get(gate.type)
            if backend is not None:
                default, available = backend.default_action, True
            else:  # a guide gate type this release lacks: it always errors, never passes
                info = UNAVAILABLE_GATES.get(gate.type)
                default = info.default_action if info else FailAction.FAIL
                available = False
            action = effective_action(gate.type, default, gate.on_fail, risk)
            gates.append(ConfiguredGate(stage.name, gate.gate_id, gate.type, action, available))
    return GatesFacts(shown, True, tuple(gates))
