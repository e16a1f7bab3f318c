"""The small vocabularies of safeship: gate verdicts, fail actions, outcomes and risk levels."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """What a gate found, before policy is applied.

    ERROR means the gate could not run; like FAILED it never lets a change through.
    """

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class FailAction(StrEnum):
    """What happens when a gate fails: the guide's section 2.1 "Fail Action" column."""

    BLOCK = "block"  # block commit
    FAIL = "fail"  # fail build
    WARN = "warn"
    LOG = "log"  # log only
    REQUIRE_APPROVAL = "require_approval"
    FAIL_CANARY = "fail_canary"
    BLOCK_DEPLOY = "block_deploy"

    @property
    def blocks(self) -> bool:
        """True when a failure under this action stops the pipeline."""
        return self in _BLOCKING


_BLOCKING = frozenset(
    {FailAction.BLOCK, FailAction.FAIL, FailAction.FAIL_CANARY, FailAction.BLOCK_DEPLOY}
)


class Outcome(StrEnum):
    """A gate's verdict after its fail action is applied; this is what decides the run."""

    PASSED = "passed"
    BLOCKED = "blocked"
    WARNED = "warned"
    LOGGED = "logged"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    ERROR = "error"
    SKIPPED = "skipped"
    NOT_RUN = "not_run"

    @property
    def lets_through(self) -> bool:
        """True when this outcome does not hold the change back."""
        return self in _LETS_THROUGH


_LETS_THROUGH = frozenset(
    {Outcome.PASSED, Outcome.WARNED, Outcome.LOGGED, Outcome.APPROVED, Outcome.SKIPPED}
)


class RunStatus(StrEnum):
    """The result of a whole pipeline run."""

    RUNNING = "running"
    PASSED = "passed"
    BLOCKED = "blocked"
    ERROR = "error"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    INTERRUPTED = "interrupted"


class RiskLevel(StrEnum):
    """The guide's section 2.3 risk levels, in increasing strictness."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return list(RiskLevel).index(self)


class Severity(StrEnum):
    """How serious one finding is; maps onto SARIF levels and annotation kinds."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class ApprovalStatus(StrEnum):
    """State of a request for a human decision."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
