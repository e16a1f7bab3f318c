"""The ``api_contract`` gate: no breaking API changes (being built; until then it cannot run)."""

from __future__ import annotations

from typing import ClassVar

from safeship.errors import GateCannotRun
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction
from safeship.model.results import GateCheck


class ApiContractOptions(GateOptions):
    """Options of ``type: api_contract``."""


class ApiContractGate(Gate[ApiContractOptions]):
    """no breaking API changes."""

    type_name: ClassVar[str] = "api_contract"
    default_action: ClassVar[FailAction] = FailAction.FAIL
    checks: ClassVar[str] = "no breaking API changes"
    options_model: ClassVar[type[GateOptions]] = ApiContractOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Refuse to pass until the backend is complete."""
        raise GateCannotRun("gate type 'api_contract' is not available yet")
