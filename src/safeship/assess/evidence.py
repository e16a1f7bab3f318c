"""What ``safeship assess`` found in a repository, as frozen facts (no judgement in here).

The collectors (one module per concern) fill these in; :mod:`safeship.assess.levels` turns them
into criteria met or missing. Paths are shown relative to the assessed folder, in POSIX form,
so the same repository gives the same report wherever it is checked out.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from enum import StrEnum

from safeship.model.enums import FailAction, RiskLevel


class FileState(StrEnum):
    """Where a file stands with respect to version control."""

    COMMITTED = "committed"
    MODIFIED = "modified"
    """Committed, with uncommitted changes on top: the committed version is what CI sees."""
    ADDED = "added"
    """Staged but never committed: no clone has it yet."""
    UNTRACKED = "untracked"
    IGNORED = "ignored"
    MISSING = "missing"
    OUTSIDE = "outside"
    """Not inside a git work tree (or inside another one than the assessed folder's)."""

    @property
    def in_history(self) -> bool:
        """True when a clone of the repository contains the file."""
        return self in (FileState.COMMITTED, FileState.MODIFIED)


@dataclass(frozen=True)
class FileFact:
    """One file and its version-control state."""

    path: str
    state: FileState


@dataclass(frozen=True)
class VersionControl:
    """Whether the folder is a git work tree, and the state of every file that matters."""

    work_tree: str | None
    files: tuple[FileFact, ...] = ()

    def state_of(self, path: str) -> FileState:
        """The state of ``path`` (as shown in reports); MISSING when it was not looked at."""
        for fact in self.files:
            if fact.path == path:
                return fact.state
        return FileState.MISSING


@dataclass(frozen=True)
class ServiceFacts:
    """What ``service.yaml`` says (or, without one, the defaults safeship would use)."""

    path: str
    present: bool
    name: str
    risk: RiskLevel = RiskLevel.MEDIUM
    risk_explicit: bool = False
    target: str | None = None
    router: str | None = None
    metrics: str | None = None
    strategy: str | None = None
    """The effective rollout strategy type; None without a service file."""
    strategy_explicit: bool = False
    judge_override: str | None = None
    on_insufficient_data: str = "rollback"
    slos: tuple[str, ...] = ()
    """Names of the SLOs the service defines."""


@dataclass(frozen=True)
class ConfiguredGate:
    """One gate of ``gates.yaml`` with the fail action it runs with at the service's risk."""

    stage: str
    gate_id: str
    type: str
    action: FailAction
    available: bool = True
    """False for a guide gate type whose backend this release lacks: it always errors."""

    @property
    def blocks(self) -> bool:
        """True when a failure of this gate stops the change without a person."""
        return self.available and self.action.blocks


@dataclass(frozen=True)
class GatesFacts:
    """The gates file: where it is and what it configures."""

    path: str
    present: bool
    gates: tuple[ConfiguredGate, ...] = ()

    def types(self) -> set[str]:
        """Every gate type that can run (unavailable backends do not count)."""
        return {gate.type for gate in self.gates if gate.available}

    def blocking(self, *types: str) -> tuple[ConfiguredGate, ...]:
        """The gates of any of ``types`` whose failure blocks the change."""
        return tuple(gate for gate in self.gates if gate.type in types and gate.blocks)

    def of_type(self, *types: str) -> tuple[ConfiguredGate, ...]:
        """The available gates of any of ``types``, in file order."""
        return tuple(gate for gate in self.gates if gate.type in types and gate.available)


@dataclass(frozen=True)
class CanaryFacts:
    """The canary-analysis file."""

    path: str
    present: bool
    name: str = ""
    steps: int = 0
    total_duration_s: float = 0.0
    metrics_with_threshold: tuple[str, ...] = ()
    metrics_without_threshold: tuple[str, ...] = ()
    judge: str = "sequential"
    rollback_on_failure: bool = False

    @property
    def metric_count(self) -> int:
        """How many metrics the analysis compares."""
        return len(self.metrics_with_threshold) + len(self.metrics_without_threshold)


@dataclass(frozen=True)
class CiFile:
    """A CI definition and whether (and how) it runs safeship's gates."""

    path: str
    runs_safeship: bool
    how: str
    """A sentence naming the line that runs the gates (or saying that none does)."""
    via: tuple[str, ...] = ()
    """Other files the chain goes through (a Makefile), which must be versioned too."""


@dataclass(frozen=True)
class HistoryFacts:
    """The service's rollouts in the state store, newest first, counted by how they ended.

    *Zero-touch* means a finished release that no person commanded (no pause, resume, promote
    or abort was sent to it): the analysis alone promoted it or rolled it back, or the SLO check
    refused it. An undo (``safeship rollout undo``) is a person's decision by nature.
    """

    available: bool
    source: str
    note: str
    service: str
    window: int = 0
    releases: int = 0
    active: int = 0
    finished: int = 0
    promotions: int = 0
    zero_touch_promotions: int = 0
    automatic_rollbacks: int = 0
    analysis_rollbacks: int = 0
    aborted: int = 0
    """Aborted by a person."""
    slo_refusals: int = 0
    """Refused before step 1 by the controller's pre-deploy SLO check (no person involved)."""
    slo_checked: int = 0
    """Started after the controller's pre-deploy SLO check found error budget left."""
    manual_undos: int = 0
    human_touched: int = 0
    zero_touch: int = 0
    rollback_seconds: tuple[float, ...] = ()
    """The measured ``rollback_seconds`` of the releases that rolled back."""

    @property
    def median_rollback_seconds(self) -> float | None:
        """The median measured rollback time; None when no rollback was measured."""
        return statistics.median(self.rollback_seconds) if self.rollback_seconds else None

    @property
    def zero_touch_share(self) -> float | None:
        """Zero-touch releases over finished ones; None with nothing finished."""
        return self.zero_touch / self.finished if self.finished else None


@dataclass(frozen=True)
class Evidence:
    """Everything the assessment looks at."""

    root: str
    service: ServiceFacts
    gates: GatesFacts
    canary: CanaryFacts
    vcs: VersionControl
    ci: tuple[CiFile, ...]
    deploy_scripts: tuple[str, ...]
    history: HistoryFacts
