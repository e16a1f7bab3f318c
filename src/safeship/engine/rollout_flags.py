"""What the rollout controller and ``rollout undo`` need to know about flag rollouts.

* :func:`bind_release`: a router that records *why* it changes something (the
  ``feature_flag`` router writes the release id into the flag's history) is told which release
  it acts for. Routers without that wish are left alone, so the engine keeps talking to the
  :class:`~safeship.routers.interface.Router` interface only.
* :func:`version_changing`: releases of the flag strategies change a flag, not the running
  version, so they never become the service's stable version.
* :class:`NoDeployTarget`: the target of a flag rollout. The code is already in production:
  a flag plan has no deploy, health or retire step, and what a resumed controller re-asserts
  (every version of the release "runs") is true of every variant already, so each call
  ensures nothing and never touches the instances that serve production.
* :func:`switch_off_measured`: ``rollout undo``'s flag toggle, timed from the undo's decision
  until the flag store reports the flag off (every evaluator then serves the off variant as
  soon as the change reaches it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from safeship.engine.clock import Clock
from safeship.routers.interface import RouterUnavailable
from safeship.strategies.feature_flag import is_flag_release
from safeship.targets.interface import Artifact, Instance, InstanceHealth, Target


@runtime_checkable
class ReleaseBound(Protocol):
    """A router that names the release it acts for in what it records."""

    def bind_release(self, release_id: str) -> None:
        """Name ``release_id`` as the reason of every change made from now on."""
        ...


def bind_release(router: object, release_id: str) -> None:
    """Tell ``router`` which release it acts for, when it wants to know."""
    if isinstance(router, ReleaseBound):
        router.bind_release(release_id)


def version_changing(strategy: str) -> bool:
    """False for a release that changed a flag and left the running version as it was."""
    return not is_flag_release(strategy)


class NoDeployTarget(Target):
    """The target of a flag release: every call ensures nothing (see module doc)."""

    type_name: ClassVar[str] = "none"

    def deploy(self, version: str, replicas: int,
               artifact: Artifact | None = None) -> tuple[Instance, ...]:
        """Nothing to start: every instance of the service serves every variant already.

        (A resumed controller re-asserts the versions of its release, variants included.)
        """
        return ()

    def scale(self, version: str, replicas: int) -> tuple[Instance, ...]:
        """Nothing to scale."""
        return ()

    def instances(self, version: str) -> tuple[Instance, ...]:
        """None: this target knows no instance, so no router is told about any."""
        return ()

    def health(self, version: str) -> tuple[InstanceHealth, ...]:
        """No instance to ask."""
        return ()

    def retire(self, version: str) -> None:
        """Nothing to stop: stopping instances would stop production, not a variant."""
        return None


class FlagSwitch(Protocol):
    """A flag that can be switched off and read back (the ``feature_flag`` router)."""

    def switch_off(self, *, actor: str | None = None, reason: str | None = None) -> bool:
        """Serve the off variant in the environment now; True if the flag changed."""
        ...

    def weights(self) -> dict[str, float]:
        """What the flag serves by default, per variant in percent, read back."""
        ...


@dataclass(frozen=True)
class ToggleResult:
    """A flag switched off by ``rollout undo``: whether it changed and how long it took."""

    changed: bool
    seconds: float
    weights: dict[str, float]


def switch_off_measured(switch: FlagSwitch, clock: Clock, *, off_variant: str,
                        started: float, actor: str, reason: str,
                        timeout_s: float = 10.0, poll_s: float = 0.02,
                        tick: Callable[[], None] | None = None) -> ToggleResult:
    """Switch the flag off and wait (bounded) until it reads back off.

    ``started`` is the monotonic time of the decision; the result's ``seconds`` run from it
    to the read-back that shows no variant but ``off_variant`` with a share.

    Raises:
        RouterUnavailable: the flag did not read back off within ``timeout_s``.
    """
    changed = switch.switch_off(actor=actor, reason=reason)
    waited_from = clock.monotonic()
    while True:
        reported = switch.weights()
        if all(share <= 0 for variant, share in reported.items() if variant != off_variant):
            return ToggleResult(changed, clock.monotonic() - started, reported)
        if clock.monotonic() - waited_from >= timeout_s:
            raise RouterUnavailable(f"the flag still reports {reported} {timeout_s:g} s after "
                                    "it was switched off")
        if tick is not None:
            tick()
        clock.sleep(poll_s)
