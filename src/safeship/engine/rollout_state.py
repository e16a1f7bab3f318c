r"""The rollout state machine's vocabulary: statuses, phases, events, commands and policies.

::

               start
                 |
                 v
    +------> RUNNING ----------- plan done ---------------------> SUCCEEDED
    |         |   ^  \
    | pause   |   |   \ ROLLBACK verdict, failed step,
    |         v   |    \ interrupted analysis, abort
    |       PAUSED | resume          \
    |         |                       v
    |         +--- ROLLBACK / abort -> ROLLING_BACK --- rollback plan done --> ROLLED_BACK
    |                                                                     \--> ABORTED (abort)
    +-- (a paused rollout still rolls back on a ROLLBACK verdict: safety never pauses)

A rollout refused before step 1 (the pre-deploy SLO check, see
:mod:`safeship.engine.rollout_slo_guard`) is recorded directly as ``ABORTED``, never running.

Every arrow is written to the store (a transition with time, reason, step index and the desired
weights) *before* the controller touches a router or a target. ``SUCCEEDED``, ``ROLLED_BACK``
and ``ABORTED`` are terminal. A release's ``phase`` says which plan its ``step_index`` points
into: the strategy's forward plan, or the rollback plan computed when the rollback began.
"""

from __future__ import annotations

from enum import StrEnum

from safeship.errors import InternalError


class RolloutStatus(StrEnum):
    """Where a release is."""

    RUNNING = "running"
    PAUSED = "paused"
    ROLLING_BACK = "rolling_back"
    SUCCEEDED = "succeeded"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"

    @property
    def terminal(self) -> bool:
        """True once nothing more happens to the release."""
        return self in _TERMINAL


_TERMINAL = frozenset({RolloutStatus.SUCCEEDED, RolloutStatus.ROLLED_BACK,
                       RolloutStatus.ABORTED})

ALLOWED: dict[RolloutStatus, frozenset[RolloutStatus]] = {
    RolloutStatus.RUNNING: frozenset({RolloutStatus.RUNNING, RolloutStatus.PAUSED,
                                      RolloutStatus.ROLLING_BACK, RolloutStatus.SUCCEEDED}),
    RolloutStatus.PAUSED: frozenset({RolloutStatus.PAUSED, RolloutStatus.RUNNING,
                                     RolloutStatus.ROLLING_BACK}),
    RolloutStatus.ROLLING_BACK: frozenset({RolloutStatus.ROLLING_BACK,
                                           RolloutStatus.ROLLED_BACK, RolloutStatus.ABORTED}),
    RolloutStatus.SUCCEEDED: frozenset(),
    RolloutStatus.ROLLED_BACK: frozenset(),
    RolloutStatus.ABORTED: frozenset(),
}
"""The legal moves of the state machine (staying put is a legal move while active)."""


def check_transition(before: RolloutStatus, after: RolloutStatus) -> None:
    """Refuse an illegal move: it would be a bug in the controller."""
    if after not in ALLOWED[before]:
        raise InternalError(f"illegal rollout transition {before} -> {after}")


class Phase(StrEnum):
    """Which plan ``step_index`` points into."""

    FORWARD = "forward"
    ROLLBACK = "rollback"


class Decision(StrEnum):
    """How a release ended."""

    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


class Event(StrEnum):
    """What a transition records."""

    CREATED = "created"
    STEP_STARTED = "step_started"
    STEP_RESUMED = "step_resumed"
    STEP_COMPLETED = "step_completed"
    STEP_SKIPPED = "step_skipped"
    VERDICT = "verdict"
    EXTENDED = "extended"
    HELD = "held"
    DRIFT = "drift_corrected"
    PAUSED = "paused"
    RESUMED = "resumed"
    PROMOTE = "promote"
    ABORT = "abort"
    ROLLBACK_STARTED = "rollback_started"
    ROLLBACK_MEASURED = "rollback_measured"
    DOWNTIME = "downtime"
    TAKEN_OVER = "taken_over"
    INTERRUPTED = "interrupted"
    ACTION_RETRY = "action_retry"
    FINISHED = "finished"
    SLO_CHECKED = "slo_checked"
    """The error budgets were checked before step 1 and let the rollout start."""
    REFUSED = "refused"
    """The rollout never started: the pre-deploy SLO check refused it (the release is recorded
    as aborted, with nothing deployed)."""


class Command(StrEnum):
    """What a person asks of a running release (through the store)."""

    PAUSE = "pause"
    RESUME = "resume"
    PROMOTE = "promote"
    PROMOTE_FULL = "promote_full"
    ABORT = "abort"


class InsufficientDataPolicy(StrEnum):
    """What happens when a step's time runs out while the judge still lacks data.

    ``rollback`` (default, fail closed), ``extend`` (run the step once more for its duration,
    then roll back), ``hold`` (pause and wait for a person to promote or abort).
    """

    ROLLBACK = "rollback"
    EXTEND = "extend"
    HOLD = "hold"


class ReleaseKind(StrEnum):
    """A rollout of a new version, or an undo back to a known-good one."""

    ROLLOUT = "rollout"
    UNDO = "undo"
