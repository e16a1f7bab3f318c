"""``type: feature_flag``: a "router" whose traffic split is a feature flag's percentage.

A flag rollout (:mod:`safeship.strategies.feature_flag`) is a canary whose cohorts are chosen
by the flag, not by a proxy: the versions of a split are the flag's **variants**, and the
stable version is the flag's **off variant**. :meth:`FeatureFlagRouter.set_weights` writes the
split into the flag's default in one environment through the flag store's compare-and-swap
update (:func:`safeship.routers.feature_flag_split.apply_split`), recorded in the flag's
history and audit trail with actor ``safeship-rollout`` and the release as the reason;
:meth:`FeatureFlagRouter.weights` reads the flag back from the store. Every connected evaluator
(the flag service, OpenFeature providers streaming from it) then serves the new split.

A split with no share for any other variant than the off one switches the flag **off**: the
environment is disabled (or, with ``on_rollback: kill``, the flag's kill switch is thrown), so
every evaluator returns the off variant, rules included. That is what a rollback, an abort and
``rollout undo`` ask for. A split never lifts a kill switch and never turns back on a flag that
a person switched off mid-rollout (:class:`~safeship.routers.interface.RouterRejected`; the
controller then rolls back).

Where this router departs from the family's contract (``tests/contract``), and why:

* Endpoints mean nothing here: every instance of the service serves every variant. So
  :meth:`set_backends` only checks that the versions are variants, and any variant of the flag
  may be given a share whether or not it was "declared".
* :meth:`weights` reports the flag as stored, never ``{}``: a flag that exists always serves
  something (its off variant at least), and :meth:`reset` switches the flag off rather than
  forgetting it.
* :meth:`pin_headers` is the family's default header, which no application honours for flags:
  flag plans have no smoke tests.

Store failures surface as :class:`~safeship.routers.interface.RouterUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Literal, Protocol

from pydantic import Field

from safeship.errors import ConfigError, DependencyUnavailable, NotFound, UsageError
from safeship.flags.changes import FlagAction
from safeship.flags.model import DEFAULT_ENVIRONMENT, Flag
from safeship.model.endpoints import Endpoint
from safeship.routers.feature_flag_split import (
    SplitRefused,
    apply_split,
    split_of,
    unknown_versions,
)
from safeship.routers.interface import (
    Router,
    RouterOptions,
    RouterRejected,
    RouterUnavailable,
    validate_weights,
)

ROLLOUT_ACTOR = "safeship-rollout"
"""Who the flag's history names for the changes a rollout makes."""

_FLAG_KEY = r"^[A-Za-z0-9_.-]{1,128}$"


class StoredFlagView(Protocol):
    """A flag as a repository returns it."""

    @property
    def flag(self) -> Flag:
        """The definition."""
        ...

    @property
    def version(self) -> int:
        """Its version, raised by every change."""
        ...


class FlagRepository(Protocol):
    """What the router needs of the flag store (:class:`safeship.store.flags.FlagStore`),
    handed in by the caller: a router never imports another family."""

    def get(self, key: str) -> StoredFlagView:
        """The flag ``key``; NotFound when there is none."""
        ...

    def update(self, key: str, change: Callable[[Flag], Flag], *, action: FlagAction | str,
               actor: str, reason: str, at: datetime) -> object:
        """Apply ``change`` to the latest definition and record it in the history."""
        ...

    def close(self) -> None:
        """Release the repository's connections."""
        ...


class _ChangedMeanwhile(Exception):
    """The flag changed between planning a split and writing it: plan again."""


class FeatureFlagOptions(RouterOptions):
    """Options of ``type: feature_flag`` (from service.yaml's ``strategy:`` section)."""

    flag: str = Field(pattern=_FLAG_KEY, description="the key of the flag to ramp")
    environment: str = Field(DEFAULT_ENVIRONMENT, min_length=1,
                             description="the flag environment the rollout changes")
    on_rollback: Literal["disable", "kill"] = Field(
        "disable", description="disable: the environment off; kill: the flag's kill switch "
                               "(off in every environment)")
    actor: str = Field(ROLLOUT_ACTOR, min_length=1,
                       description="who the flag's history names for these changes")


@dataclass(frozen=True)
class FlagState:
    """The flag as the router last read it: its version and what it serves by default."""

    version: int
    split: dict[str, float]
    off_variant: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FeatureFlagRouter(Router):
    """Ramps a flag through the flag store (see the module docstring)."""

    type_name: ClassVar[str] = "feature_flag"
    options_model: ClassVar[type[RouterOptions]] = FeatureFlagOptions

    def __init__(self, options: FeatureFlagOptions, *, flags: FlagRepository,
                 now: Callable[[], datetime] = _utc_now, owns_store: bool = False) -> None:
        """Drive flag ``options.flag`` in ``flags``; ``now`` stamps the flag's history.

        With ``owns_store``, :meth:`close` closes ``flags`` too.
        """
        self.options = options
        self._flags = flags
        self._now = now
        self._owns_store = owns_store
        self._closed = False
        self._release: str | None = None

    # what the flag is ---------------------------------------------------------------------

    @property
    def flag_key(self) -> str:
        """The key of the flag this router ramps."""
        return self.options.flag

    @property
    def environment(self) -> str:
        """The flag environment this router changes."""
        return self.options.environment

    def flag(self) -> Flag:
        """The flag as stored now.

        Raises:
            RouterUnavailable: the store cannot be read, or the flag does not exist.
        """
        self._check_open()
        return self._stored().flag

    def state(self) -> FlagState:
        """The flag's version and default split, read from the store."""
        self._check_open()
        stored = self._stored()
        flag = stored.flag
        return FlagState(stored.version, split_of(flag, self.environment), flag.off_variant)

    def bind_release(self, release_id: str) -> None:
        """Name ``release_id`` as the reason of the flag changes made from now on."""
        self._release = release_id

    # the Router interface -----------------------------------------------------------------

    def set_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> None:
        """Check that every version is a variant of the flag; endpoints are not used."""
        if not backends:
            self._check_open()
            return
        unknown = unknown_versions(self.flag(), list(backends))
        if unknown:
            raise RouterRejected(f"flag '{self.flag_key}' has no variant "
                                 f"{', '.join(map(repr, unknown))}")

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Serve ``weights`` (variant -> percent) by default; no share besides the off
        variant switches the flag off (see the module docstring)."""
        split = validate_weights(weights)
        self._apply(split, actor=self.options.actor, reason=None)

    def weights(self) -> dict[str, float]:
        """What the flag serves by default in the environment, read from the store."""
        return self.state().split

    def reset(self) -> None:
        """Switch the flag off in the environment (it cannot be forgotten: it exists)."""
        self.switch_off(reason=self._reason("reset: switched off"))

    def close(self) -> None:
        """Stop using the store (closing it when this router opened it); idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owns_store:
            self._flags.close()

    # beyond the interface -----------------------------------------------------------------

    def switch_off(self, *, actor: str | None = None, reason: str | None = None) -> bool:
        """The flag off in the environment now (the rollback action); True if it changed."""
        off = self.flag().off_variant
        return self._apply({off: 100.0}, actor=actor or self.options.actor, reason=reason)

    def _apply(self, split: Mapping[str, float], *, actor: str, reason: str | None) -> bool:
        """Apply ``split`` to the flag it was planned on (planned again if the flag changed
        meanwhile), so the recorded action (rollout, disable, kill) is the one that took
        effect."""
        self._check_open()
        kill = self.options.on_rollback == "kill"
        for _ in range(_ATTEMPTS):
            stored = self._stored()
            try:
                applied = apply_split(stored.flag, self.environment, split, kill=kill)
            except SplitRefused as exc:
                raise RouterRejected(f"feature_flag router: {exc}", hint=(
                    f"see `safeship flags history {self.flag_key}`; to roll it out again, set "
                    f"it to 0% first (`safeship flags rollout {self.flag_key} --to 0% --env "
                    f"{self.environment} --reason ...`)")) from None
            if applied.flag == stored.flag:
                return False
            text = _describe(applied.action, split, stored.flag.off_variant)
            try:
                self._flags.update(
                    self.flag_key, _becomes(stored.flag, applied.flag),
                    action=_ACTIONS[applied.action], actor=actor,
                    reason=reason or self._reason(text), at=self._now())
            except _ChangedMeanwhile:
                continue  # plan again against the newer flag
            except NotFound as exc:
                raise RouterUnavailable(f"feature_flag router: {exc.message}") from None
            except DependencyUnavailable as exc:
                raise RouterUnavailable(f"feature_flag router: the flag store: {exc.message}",
                                        hint=exc.hint) from exc
            except (UsageError, ConfigError) as exc:
                raise RouterRejected(f"feature_flag router: flag '{self.flag_key}': "
                                     f"{exc.message}") from exc
            return True
        raise RouterUnavailable(
            f"feature_flag router: flag '{self.flag_key}' kept changing under the rollout "
            f"({_ATTEMPTS} attempts)")

    def _stored(self) -> StoredFlagView:
        try:
            return self._flags.get(self.flag_key)
        except NotFound as exc:
            raise RouterUnavailable(
                f"feature_flag router: {exc.message}",
                hint=f"create it first: `safeship flags create {self.flag_key} --reason ...`",
            ) from None
        except DependencyUnavailable as exc:
            raise RouterUnavailable(f"feature_flag router: the flag store: {exc.message}",
                                    hint=exc.hint) from exc

    def _reason(self, text: str) -> str:
        if self._release is None:
            return f"rollout: {text}"
        return f"release {self._release}: {text}"

    def _check_open(self) -> None:
        if self._closed:
            raise RouterUnavailable(f"feature_flag router for flag '{self.flag_key}' is closed")


_ATTEMPTS = 5
_ACTIONS = {"rollout": FlagAction.ROLLOUT, "disable": FlagAction.DISABLE,
            "kill": FlagAction.KILL}


def _becomes(planned_on: Flag, new: Flag) -> Callable[[Flag], Flag]:
    """The change to ``new``, refused (to be planned again) when the flag the store holds is
    no longer the one ``new`` was planned on: the recorded action must be the one that took
    effect."""
    def change(current: Flag) -> Flag:
        if current != planned_on:
            raise _ChangedMeanwhile
        return new
    return change


def _describe(action: str, split: Mapping[str, float], off: str) -> str:
    if action == "rollout":
        shares = ", ".join(f"'{variant}' {share:g}%" for variant, share in split.items()
                           if variant != off)
        return f"{shares} of the contexts no rule matches"
    if action == "kill":
        return "switched off: kill switch"
    return "switched off: disabled"
