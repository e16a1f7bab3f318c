"""The flag side of ``safeship rollout``: ramp a flag, and prefer the flag toggle on undo.

``rollout start`` with ``strategy: {type: feature_flag, flag: KEY, environment: ENV}`` ramps
the flag through the ``feature_flag`` router (:mod:`safeship.routers.feature_flag`); nothing is
deployed (:class:`~safeship.engine.rollout_flags.NoDeployTarget`). The flag-on cohort is the
canary and the flag-off cohort the baseline: with ``metrics: {type: builtin}`` their counters
come from the apps' OpenFeature providers (``strategy.counters_from``), with Prometheus from
series labelled by variant (scope ``{label: variant}`` in canary-analysis.yaml).

``rollout undo`` switches a flag off first when what it undoes is behind one (the guide's
section 5.1: a flag toggle takes seconds, a traffic shift seconds, an image minutes):

* a rollout in progress that ramps a flag, or of a service whose ``strategy.flag`` guards its
  releases: the flag is switched off here and now (the controller of that rollout is in another
  process and may be mid-scrape), measured, then the rollout is aborted with the measurement in
  the abort's reason;
* a finished flag rollout (the latest successful release): a recorded ``feature_flag_undo``
  release switches it off, its ``rollback_seconds`` measured by the controller;
* a finished version release whose service declares a guarding flag: the same recorded flag
  undo first, then the version undo (unless ``--flag-only``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from safeship import api
from safeship.config.service_file import ServiceSpec
from safeship.engine.clock import Clock
from safeship.engine.rollout_flags import ToggleResult, switch_off_measured
from safeship.errors import ConfigError, ConfigProblem, NotFound, SourceLocation, UsageError
from safeship.flags.changes import rollout_variant
from safeship.flags.model import Flag
from safeship.metrics.builtin import BuiltinOptions, BuiltinProvider
from safeship.metrics.interface import MetricsProvider
from safeship.model.canary import CanaryStep, JudgeName, Scope
from safeship.routers.feature_flag import FeatureFlagOptions, FeatureFlagRouter
from safeship.routers.feature_flag_counters import ScrapedFlagCounters
from safeship.store.flags import FlagStore
from safeship.store.rollouts import ReleaseRecord, RolloutStore
from safeship.strategies.feature_flag import (
    flag_reference,
    is_flag_release,
    parse_flag_reference,
)
from safeship.strategies.interface import ArtifactRef, RolloutRequest, StableVersion


@dataclass(frozen=True)
class FlagTarget:
    """Which flag a flag release changes (or a service's releases are guarded by), and where."""

    flag: str
    environment: str

    @property
    def reference(self) -> str:
        """The release's artifact reference for this flag."""
        return flag_reference(self.flag, self.environment)


def open_flags(root: Path) -> FlagStore:
    """The flag store beside the rollout store (``$SAFESHIP_DATABASE_URL`` or SQLite)."""
    return FlagStore.open(os.environ.get(api.DATABASE_URL_ENV) or None, root)


def configured_flag(spec: ServiceSpec) -> FlagTarget | None:
    """The flag service.yaml names (the one to ramp, or the one guarding releases)."""
    if spec.strategy.flag is None:
        return None
    return FlagTarget(spec.strategy.flag, spec.strategy.environment)


def release_flag(spec: ServiceSpec, release: ReleaseRecord) -> FlagTarget | None:
    """The flag a flag release changed (from its record), else None."""
    if not is_flag_release(release.strategy):
        return None
    parsed = parse_flag_reference(release.artifact_reference)
    if parsed is not None:
        return FlagTarget(*parsed)
    return configured_flag(spec)


def build_flag_router(spec: ServiceSpec, root: Path, target: FlagTarget) -> FeatureFlagRouter:
    """The ``feature_flag`` router over the project's flag store (it closes the store)."""
    options = FeatureFlagOptions(flag=target.flag, environment=target.environment,
                                 on_rollback=spec.strategy.on_rollback)
    return FeatureFlagRouter(options, flags=open_flags(root), owns_store=True)


def flag_request(spec: ServiceSpec, flag: Flag, target: FlagTarget, *, variant: str | None,
                 canary_steps: tuple[CanaryStep, ...], judge: JudgeName | None
                 ) -> RolloutRequest:
    """The request of a flag rollout: ``variant`` (else service.yaml's, else the flag's own
    rollout variant) ramped from the flag's off variant along ``canary_steps``."""
    try:
        chosen = rollout_variant(flag, variant or spec.strategy.variant)
    except UsageError as exc:
        raise UsageError(exc.message, hint="choose it with --version VARIANT or "
                                           "strategy.variant in service.yaml") from None
    request = RolloutRequest(
        service=spec.name, version=chosen, replicas=1,
        artifact=ArtifactRef(target.reference), stable=StableVersion(flag.off_variant),
        risk=spec.risk, canary_steps=canary_steps,
        health_timeout_s=spec.strategy.health_timeout_s)
    return request if judge is None else replace(request, judge=judge)


def read_flag(root: Path, target: FlagTarget) -> Flag:
    """The flag as stored, with a hint when it does not exist.

    Raises:
        NotFound: there is no such flag.
    """
    with open_flags(root) as flags:
        try:
            return flags.get(target.flag).flag
        except NotFound as exc:
            raise NotFound(exc.message, hint=f"create it (off) first: `safeship flags create "
                                             f"{target.flag} --reason ...`") from None


def flag_undo_request(spec: ServiceSpec, root: Path, target: FlagTarget,
                      on_variant: str | None) -> RolloutRequest:
    """The request of a ``feature_flag_undo``: back to the off variant from ``on_variant``
    (default: the flag's rollout variant)."""
    flag = read_flag(root, target)
    leaving = on_variant if on_variant and on_variant != flag.off_variant else None
    if leaving is None:
        try:
            leaving = rollout_variant(flag, spec.strategy.variant)
        except UsageError:
            leaving = next((name for name in flag.variant_names
                            if name != flag.off_variant), None)
    if leaving is None:
        raise UsageError(f"flag '{flag.key}' has no variant besides its off variant "
                         f"'{flag.off_variant}': it is off already")
    return RolloutRequest(service=spec.name, version=flag.off_variant, replicas=1,
                          artifact=ArtifactRef(target.reference),
                          stable=StableVersion(leaving))


def latest_success(store: RolloutStore, service: str) -> ReleaseRecord | None:
    """The service's release that succeeded last, flag releases included."""
    done = store.list_releases(service, limit=50, status="succeeded")
    ordered = sorted(done, key=lambda rec: (rec.finished_at or rec.started_at, rec.started_at),
                     reverse=True)
    return ordered[0] if ordered else None


def toggle_now(spec: ServiceSpec, root: Path, target: FlagTarget, clock: Clock, *,
               started: float, actor: str, reason: str) -> ToggleResult:
    """Switch ``target`` off here and now, measured from ``started`` (monotonic)."""
    router = build_flag_router(spec, root, target)
    try:
        off = router.flag().off_variant
        return switch_off_measured(router, clock, off_variant=off, started=started,
                                   actor=actor, reason=reason)
    finally:
        router.close()


def toggle_line(target: FlagTarget, toggle: ToggleResult) -> str:
    """What ``rollout undo`` says after switching a flag off itself."""
    what = "switched off" if toggle.changed else "was already off"
    return (f"flag toggle: '{target.flag}' {what} in {target.environment}; it reads back off "
            f"{toggle.seconds:.3f} s after the undo began")


def rollback_line(rec: ReleaseRecord) -> str:
    """How long a release's rollback (or undo) took, in words that fit how it was done."""
    seconds = rec.rollback_seconds or 0.0
    flag = is_flag_release(rec.strategy)
    if rec.kind == "undo" and flag:
        return (f"flag toggle: the flag reads back off {seconds:.3f} s after the undo began "
                "(connected evaluators follow as the change reaches them)")
    if rec.kind == "undo":
        return (f"undo took {seconds:.3f} s from its start to the router reporting 0 % on "
                f"'{rec.stable_version}'")
    if flag:
        return (f"rollback took {seconds:.3f} s from the decision to the flag reading back off "
                f"(0 % on '{rec.version}')")
    return (f"rollback took {seconds:.3f} s from the decision to the router reporting 0 % on "
            "the canary")


def flag_metrics(spec: ServiceSpec, target: FlagTarget, scope: Scope,
                 other: Callable[[], MetricsProvider | None]) -> MetricsProvider | None:
    """The metrics of a flag release: the ``builtin`` provider over the apps' per-variant
    counters (``strategy.counters_from``; None without them), or ``other()`` for any other
    provider type (Prometheus and file providers need nothing from the flag)."""
    if spec.metrics is None or spec.metrics.type != "builtin":
        return other()
    urls = spec.strategy.counters_from
    if not urls:
        return None  # an undo needs no metrics; a ramp is refused by require_counters first
    options = BuiltinOptions.model_validate(dict(spec.metrics.options))
    return BuiltinProvider(ScrapedFlagCounters(urls, target.flag), options, scope=scope)


def refuse_flag_router(spec: ServiceSpec) -> None:
    """The ``feature_flag`` router comes with ``strategy: feature_flag``, not ``router:``
    (where it would shadow the router that splits the service's traffic)."""
    if spec.router is not None and spec.router.type == FeatureFlagRouter.type_name:
        raise ConfigError([ConfigProblem(
            SourceLocation(spec.router.source), "router.type",
            "the feature_flag router is chosen by `strategy: {type: feature_flag, flag: KEY}`, "
            "not in `router:` (which names the router that splits traffic)")],
            hint="remove it from `router:`; set `strategy.type: feature_flag` and "
                 "`strategy.flag` instead")


def require_counters(spec: ServiceSpec) -> None:
    """Refuse a flag ramp whose ``builtin`` metrics would have no counters to read."""
    if spec.metrics is not None and spec.metrics.type == "builtin" \
            and not spec.strategy.counters_from:
        raise ConfigError([ConfigProblem(
            SourceLocation(spec.source), "strategy.counters_from",
            "a feature_flag rollout with `metrics: {type: builtin}` reads the per-variant "
            "counters of the apps' OpenFeature providers: list their /metrics URLs")],
            hint="or use `metrics: {type: prometheus}` with scope {label: variant} in "
                 "canary-analysis.yaml")
