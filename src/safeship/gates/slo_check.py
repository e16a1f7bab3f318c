"""The ``slo_check`` gate: error budget above 5% (being built; until then it cannot run)."""

from __future__ import annotations

from typing import ClassVar

from safeship.errors import GateCannotRun
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction
from safeship.model.results import GateCheck


class SloCheckOptions(GateOptions):
    """Options of ``type: slo_check``."""


class SloCheckGate(Gate[SloCheckOptions]):
    """error budget above 5%."""

    type_name: ClassVar[str] = "slo_check"
    default_action: ClassVar[FailAction] = FailAction.BLOCK_DEPLOY
    checks: ClassVar[str] = "error budget above 5%"
    options_model: ClassVar[type[GateOptions]] = SloCheckOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Refuse to pass until the backend is complete."""
        raise GateCannotRun("gate type 'slo_check' is not available yet")
