"""The ``db_migration`` gate: every migration has a rollback (being built)."""

from __future__ import annotations

from typing import ClassVar

from safeship.errors import GateCannotRun
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction
from safeship.model.results import GateCheck


class DbMigrationOptions(GateOptions):
    """Options of ``type: db_migration``."""


class DbMigrationGate(Gate[DbMigrationOptions]):
    """every migration has a rollback."""

    type_name: ClassVar[str] = "db_migration"
    default_action: ClassVar[FailAction] = FailAction.REQUIRE_APPROVAL
    checks: ClassVar[str] = "every migration has a rollback"
    options_model: ClassVar[type[GateOptions]] = DbMigrationOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Refuse to pass until the backend is complete."""
        raise GateCannotRun("gate type 'db_migration' is not available yet")
