"""Live progress of a gate run: a spinner per stage on a terminal, plain lines elsewhere."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.status import Status

from safeship.engine.pipeline import PlannedStage
from safeship.model.enums import Outcome
from safeship.model.results import GateResult, StageResult

_MARKS = {
    Outcome.PASSED: ("✓", "green"),
    Outcome.BLOCKED: ("✗", "red"),
    Outcome.ERROR: ("!", "red"),
    Outcome.WARNED: ("~", "yellow"),
    Outcome.LOGGED: ("·", "blue"),
    Outcome.PENDING_APPROVAL: ("?", "magenta"),
    Outcome.APPROVED: ("✓", "green"),
    Outcome.SKIPPED: ("-", "dim"),
    Outcome.NOT_RUN: ("-", "dim"),
}


class ConsoleProgress:
    """A :class:`safeship.engine.pipeline.PipelineObserver` that draws on a Rich console."""

    def __init__(self, console: Console, *, live: bool) -> None:
        self.console = console
        self.live = live
        self._status: Status | None = None

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def stage_started(self, stage: PlannedStage) -> None:
        """Show which stage runs and how many gates it has."""
        text = f"stage {stage.name}: running {len(stage.gates)} gate(s)"
        if self.live:
            self._stop()
            self._status = self.console.status(text)
            self._status.start()
        else:
            self.console.print(text, markup=False)

    def gate_finished(self, result: GateResult) -> None:
        """One line per gate as soon as it has a result."""
        mark, colour = _MARKS[result.outcome]
        line = (f"  {mark} {result.stage}/{result.gate_id} {result.outcome.value} "
                f"({result.duration_s:.2f}s) {result.summary}")
        if self.live:
            self.console.print(line, style=colour, markup=False, highlight=False)
        else:
            self.console.print(line, markup=False, highlight=False)

    def stage_finished(self, result: StageResult) -> None:
        """Stop the spinner; say so when the stage was skipped."""
        self._stop()
        if result.skipped:
            self.console.print(f"stage {result.name}: not run", markup=False)
