"""The only name -> class tables of safeship.

Adding a gate backend means one new module in ``safeship/gates/`` and one line in :data:`GATES`.
Third-party packages may add gates through the ``safeship.gates`` entry-point group; a built-in
name always wins over a plugin of the same name.

Gate types the guide names whose backends are not in this release are listed in
:data:`UNAVAILABLE_GATES` with their guide defaults. They load (so the guide's template
validates) and always evaluate to ERROR, which never passes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from safeship.errors import GateCannotRun
from safeship.gates.api_call import ApiCallGate
from safeship.gates.api_contract import ApiContractGate
from safeship.gates.compile import CompileGate
from safeship.gates.coverage import CoverageGate
from safeship.gates.cve_check import CveCheckGate
from safeship.gates.dast import DastGate
from safeship.gates.db_migration import DbMigrationGate
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.gates.lint import LintGate
from safeship.gates.sbom import SbomGate
from safeship.gates.secret_scan import SecretScanGate
from safeship.gates.signature import SignatureGate
from safeship.gates.slo_check import SloCheckGate
from safeship.model.enums import FailAction
from safeship.model.results import GateCheck

log = logging.getLogger(__name__)

GATES: dict[str, type[Gate[Any]]] = {
    "lint": LintGate,
    "compile": CompileGate,
    "coverage": CoverageGate,
    "api_call": ApiCallGate,
    "sbom": SbomGate,
    "cve_check": CveCheckGate,
    "signature": SignatureGate,
    "dast": DastGate,
    "secret_scan": SecretScanGate,
    "api_contract": ApiContractGate,
    "db_migration": DbMigrationGate,
    "slo_check": SloCheckGate,
}


@dataclass(frozen=True)
class UnavailableGateInfo:
    """A gate type the guide defines whose backend this release does not ship."""

    default_action: FailAction
    checks: str


UNAVAILABLE_GATES: dict[str, UnavailableGateInfo] = {}


class UnavailableOptions(BaseModel):
    """Options of a gate type without a backend: accepted as written, checked by nothing yet."""

    model_config = ConfigDict(extra="allow", frozen=True)


class UnavailableGate(Gate[Any]):
    """Stands in for a guide gate type whose backend is not in this release: always ERROR."""

    options_model: ClassVar[type[GateOptions]] = GateOptions

    def __init__(self, type_name: str, options: Any) -> None:
        super().__init__(options)
        self.missing_type = type_name
        info = UNAVAILABLE_GATES[type_name]
        self.default_action = info.default_action  # type: ignore[misc]
        self.checks = info.checks  # type: ignore[misc]

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Refuse to pass: the check cannot run in this release."""
        raise GateCannotRun(
            f"gate type '{self.missing_type}' is not available yet in this release of safeship",
            hint="remove it from gates.yaml or set `on_fail: log` if you accept not checking it",
        )


def _plugin_gates() -> dict[str, type[Gate[Any]]]:
    found: dict[str, type[Gate[Any]]] = {}
    for entry in entry_points(group="safeship.gates"):
        try:
            cls = entry.load()
        except Exception:  # a broken plugin must not break built-in gates
            log.warning("could not load gate plugin %s", entry.name, exc_info=True)
            continue
        if isinstance(cls, type) and issubclass(cls, Gate):
            found[entry.name] = cls
    return found


def all_gate_types() -> dict[str, type[Gate[Any]]]:
    """Built-in backends plus plugins (built-ins win on a name clash)."""
    return {**_plugin_gates(), **GATES}


def known_gate_types() -> list[str]:
    """Every gate type name gates.yaml may use."""
    return sorted({*all_gate_types(), *UNAVAILABLE_GATES})


class GateOptionsResolver:
    """Lets the config layer validate gate options without importing the backends."""

    def options_model(self, type_name: str) -> type[BaseModel] | None:
        """The options model for ``type_name``, or None for an unknown type."""
        backend = all_gate_types().get(type_name)
        if backend is not None:
            return backend.options_model
        if type_name in UNAVAILABLE_GATES:
            return UnavailableOptions
        return None

    def known_types(self) -> list[str]:
        """Every gate type name gates.yaml may use."""
        return known_gate_types()


def build_gate(type_name: str, options: BaseModel) -> Gate[Any]:
    """An instance of the backend for ``type_name`` with validated ``options``."""
    backend = all_gate_types().get(type_name)
    if backend is not None:
        return backend(options)
    return UnavailableGate(type_name, options)


def gate_catalogue() -> list[tuple[str, FailAction, str, bool]]:
    """``(type, default action, what it checks, available)`` for every gate type."""
    rows = [(name, cls.default_action, cls.checks, True) for name, cls in all_gate_types().items()]
    rows += [(name, info.default_action, info.checks, False)
             for name, info in UNAVAILABLE_GATES.items() if name not in all_gate_types()]
    return sorted(rows)
