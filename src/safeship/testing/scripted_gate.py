"""A gate whose result is scripted by the test, for exercising the pipeline engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction
from safeship.model.results import GateCheck


class ScriptedOptions(GateOptions):
    """No options: the behaviour comes from the callable given to the gate."""


class ScriptedGate(Gate[ScriptedOptions]):
    """Returns (or raises) whatever ``behaviour`` does when evaluated."""

    type_name: ClassVar[str] = "scripted"
    default_action: ClassVar[FailAction] = FailAction.FAIL
    checks: ClassVar[str] = "whatever the test says"
    options_model: ClassVar[type[GateOptions]] = ScriptedOptions

    def __init__(self, behaviour: Callable[[GateContext], GateCheck],
                 default_action: FailAction = FailAction.FAIL) -> None:
        super().__init__(ScriptedOptions())
        self.behaviour = behaviour
        self.default_action = default_action  # type: ignore[misc]
        self.calls = 0

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Run the scripted behaviour."""
        self.calls += 1
        return self.behaviour(ctx)
