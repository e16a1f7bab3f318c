"""``safeship rollout``: start, watch, pause, resume, promote, abort and undo rollouts.

The command that starts (or resumes) a rollout *is* its controller: it drives the release to its
end and exits with its outcome. Other commands talk to that controller through the state store
(a person's command is a row the controller reads at every step and scrape), so they work from
any terminal or CI job that reaches the same database.

Exit codes:

====  ============================================================================
0     promoted (or a command was recorded / carried out)
1     rolled back or aborted: blocked by policy
2     usage or config invalid (service.yaml with file:line:col)
3     router, target, metrics or store unavailable (a stuck rollback: run ``resume``)
4     another rollout of the service is in progress (``start`` is refused, naming it), or a
      command is still waiting for the controller to carry it out
130   interrupted (the rollout stays recorded; ``rollout resume SERVICE`` continues it)
====  ============================================================================

Backends come from ``.pipeline/service.yaml`` (``strategy:``, ``target:``, ``router:``,
``metrics:``, ``webhooks:``); see :mod:`safeship.config.service_file`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from safeship import api
from safeship._internal.durations import format_duration
from safeship.cli.output import emit, is_interactive, stderr_console, stdout_console
from safeship.cli.rollout_flags import (
    FlagTarget,
    build_flag_router,
    configured_flag,
    flag_metrics,
    flag_request,
    flag_undo_request,
    latest_success,
    read_flag,
    refuse_flag_router,
    release_flag,
    require_counters,
    rollback_line,
    toggle_line,
    toggle_now,
)
from safeship.config.service_file import (
    BackendSpec,
    ServiceSpec,
    parse_service_document,
    validate_backend_options,
)
from safeship.config.validation import suggest
from safeship.config.yaml_source import read_yaml
from safeship.engine.clock import SystemClock
from safeship.engine.rollout import (
    ControllerSettings,
    RolloutController,
    RolloutOutcome,
    RolloutSetup,
    describe_step,
    send_command,
    stable_of,
    undo_request,
)
from safeship.engine.rollout_codec import decode_plan
from safeship.engine.rollout_flags import NoDeployTarget
from safeship.engine.rollout_lease import holder_is_dead_here, new_holder_id
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.rollout_slo_guard import OnUnavailable, SloGuard, SloGuardSettings
from safeship.engine.rollout_smoke import HttpSmokeTester
from safeship.engine.rollout_state import (
    Command,
    InsufficientDataPolicy,
    ReleaseKind,
    RolloutStatus,
)
from safeship.engine.webhooks import (
    NotificationKind,
    Notifier,
    WebhookConfig,
    WebhookFormat,
    WebhookNotifier,
)
from safeship.errors import (
    ConfigError,
    ConfigProblem,
    ExitCode,
    NotFound,
    SourceLocation,
    UsageError,
)
from safeship.metrics.interface import MetricsProvider, ProviderOptions
from safeship.model.canary import CanarySpec, Scope
from safeship.routers.interface import Router, RouterOptions
from safeship.slo.service_budgets import rollout_budgets
from safeship.store.rollouts import LeaseHeld, ReleaseInProgress, ReleaseRecord, RolloutStore
from safeship.strategies.feature_flag import FEATURE_FLAG, FEATURE_FLAG_UNDO, is_flag_release
from safeship.strategies.interface import (
    ArtifactRef,
    BlueGreenOptions,
    RollingOptions,
    RolloutRequest,
    SmokeCheck,
    Strategy,
)
from safeship.targets.interface import Target, TargetOptions

app = typer.Typer(help="Progressive rollouts: canary, blue/green, rolling, recreate, feature "
                       "flags; undo (a flag toggle first when the release is behind a flag).",
                  no_args_is_help=True)

EXIT_BY_STATUS = {
    RolloutStatus.SUCCEEDED: ExitCode.OK,
    RolloutStatus.ROLLED_BACK: ExitCode.BLOCKED,
    RolloutStatus.ABORTED: ExitCode.BLOCKED,
    RolloutStatus.RUNNING: ExitCode.PENDING,
    RolloutStatus.PAUSED: ExitCode.PENDING,
    RolloutStatus.ROLLING_BACK: ExitCode.DEPENDENCY,
}
BUILTIN_STRATEGIES = ("recreate", "rolling", "blue_green", "canary", "feature_flag")
_READ_CHUNK = 1 << 20

Project = Annotated[Path, typer.Option("--project", "-C", file_okay=False,
                                       help="repository holding .pipeline/")]
Service = Annotated[str | None, typer.Argument(
    help="service name (default: the name in .pipeline/service.yaml)")]


class StatusFormat(StrEnum):
    """Formats of ``status`` and ``list``."""

    TABLE = "table"
    JSON = "json"


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class _Context:
    root: Path
    service: ServiceSpec
    canary: CanarySpec | None


def _load(project: Path, service: str | None) -> _Context:
    root = project.resolve()
    path = root / api.PIPELINE_DIR / api.SERVICE_FILE
    if not path.exists():
        raise NotFound(f"{path}: no service file",
                       hint="run `safeship init`, then add strategy/target/router sections")
    spec = parse_service_document(read_yaml(path))
    if service is not None and service != spec.name:
        raise UsageError(f"{path} describes service '{spec.name}', not '{service}'",
                         hint=f"run from the repository of '{service}' or pass -C PATH")
    canary = api.load_canary(spec.canary_path) if spec.canary_path.exists() else None
    return _Context(root, spec, canary)


def _name(project: Path, service: str | None) -> str:
    """The service a command is about: the argument, else service.yaml's name."""
    if service is not None:
        return service
    return _load(project, None).service.name


def _store(root: Path) -> RolloutStore:
    return RolloutStore.open(os.environ.get(api.DATABASE_URL_ENV) or None, root)


def _missing(spec: ServiceSpec, section: str, example: str) -> ConfigError:
    return ConfigError([ConfigProblem(SourceLocation(spec.source, 1, 1), section,
                                      f"rollouts need a `{section}:` section")],
                       hint=f"add e.g. `{section}: {example}` to {spec.source}")


def _backend_class(family: str, backend: BackendSpec, table_name: str,
                   accept: Callable[[Any], bool]) -> Any:
    """The class of a backend, from the explicit registry."""
    from safeship import registry_delivery

    table: Mapping[str, Any] = getattr(registry_delivery, table_name)
    cls = table.get(backend.type)
    if cls is not None and accept(cls):
        return cls
    raise ConfigError([ConfigProblem(SourceLocation(backend.source),
                                     f"{backend.path[0]}.type",
                                     f"unknown {family[:-1]} type '{backend.type}'",
                                     suggestion=suggest(backend.type, table))])


def _options(cls: Any, backend: BackendSpec, base: type[Any]) -> Any:
    model = getattr(cls, "options_model", None) or base
    return validate_backend_options(backend, model)


_PATH_OPTIONS = ("state_dir", "cwd")


def _anchored(backend: BackendSpec, model: type[Any], root: Path, service: str) -> BackendSpec:
    """Relative paths of a target's options resolved against the project, not the shell's
    working directory (``-C PATH`` must not spread state into wherever the command runs)."""
    fields = getattr(model, "model_fields", {})
    options = dict(backend.options)
    for key in _PATH_OPTIONS:
        value = options.get(key)
        if key in fields and isinstance(value, str) and not Path(value).is_absolute():
            options[key] = str(root / value)
    if "state_dir" in fields and "state_dir" not in options:  # one state dir per service
        options["state_dir"] = str(root / ".safeship" / "targets" / service)
    return replace(backend, options=options)


def build_router(spec: ServiceSpec) -> Router:
    """The router service.yaml names (started when it serves traffic itself)."""
    if spec.router is None:
        raise _missing(spec, "router", "{type: embedded}")
    refuse_flag_router(spec)
    cls = _backend_class("routers", spec.router, "ROUTERS",
                         lambda c: issubclass(c, Router))
    router: Router = cls(_options(cls, spec.router, RouterOptions))
    start = getattr(router, "start", None)
    if callable(start):
        start()
    return router


def build_target(spec: ServiceSpec) -> Target:
    """The target service.yaml names (relative paths in its options: from the project)."""
    if spec.target is None:
        raise _missing(spec, "target", "{type: local, command: 'python -m app --port {port}'}")
    cls = _backend_class("targets", spec.target, "TARGETS",
                         lambda c: issubclass(c, Target))
    model = getattr(cls, "options_model", None) or TargetOptions
    root = Path(spec.source).resolve().parent.parent  # <root>/.pipeline/service.yaml
    backend = _anchored(spec.target, model, root, spec.name)
    target: Target = cls(validate_backend_options(backend, model))
    return target


def build_metrics(spec: ServiceSpec, router: Router, scope: Scope,
                  root: Path) -> MetricsProvider | None:
    """The metrics provider service.yaml names (``builtin`` reads the router's counters)."""
    if spec.metrics is None:
        return None
    from safeship.metrics.builtin import BuiltinProvider
    from safeship.metrics.file import FileProvider
    from safeship.registry_analysis import METRIC_PROVIDERS

    cls = METRIC_PROVIDERS.get(spec.metrics.type)
    if cls is None:
        raise ConfigError([ConfigProblem(
            SourceLocation(spec.source), "metrics.type",
            f"unknown metrics provider '{spec.metrics.type}'",
            suggestion=None)], hint=f"known: {', '.join(sorted(METRIC_PROVIDERS))}")
    options = _options(cls, spec.metrics, ProviderOptions)
    if cls is BuiltinProvider:
        if not callable(getattr(router, "snapshot", None)):
            raise ConfigError([ConfigProblem(
                SourceLocation(spec.source), "metrics.type",
                f"the builtin provider reads the router's counters, and router type "
                f"'{router.type_name}' keeps none")], hint="use type: prometheus")
        return BuiltinProvider(router, options, scope=scope)  # type: ignore[arg-type]
    if cls is FileProvider:
        return FileProvider(options, base_dir=root)
    factory: Callable[[Any], MetricsProvider] = cls
    return factory(options)


def strategy_for(name: str) -> Strategy:
    """The planner called ``name`` (the built-in strategies and the undo planner)."""
    from safeship.registry_delivery import STRATEGIES

    if name in STRATEGIES:
        return STRATEGIES[name]()  # type: ignore[return-value]
    raise UsageError(f"unknown strategy '{name}'",
                     hint=f"choose one of {', '.join(BUILTIN_STRATEGIES)}")


def _notifier(spec: ServiceSpec) -> Notifier:
    if not spec.webhooks:
        return Notifier()
    hooks = [WebhookConfig(hook.url, WebhookFormat(hook.format),
                           frozenset(NotificationKind(e) for e in hook.events),
                           hook.timeout_s, hook.attempts) for hook in spec.webhooks]
    return WebhookNotifier(hooks)


def _policy(spec: ServiceSpec) -> AnalysisPolicy:
    strategy = spec.strategy
    return AnalysisPolicy(scrape_interval_s=strategy.scrape_interval_s,
                          on_insufficient_data=InsufficientDataPolicy(
                              strategy.on_insufficient_data),
                          max_interruption_s=strategy.max_interruption_s)


@dataclass
class _Backends:
    """Everything a controller drives; closed when the command ends."""

    router: Router
    target: Target
    notifier: Notifier

    def close(self) -> None:
        """Flush notifications and release the router; the instances keep running."""
        self.notifier.close(timeout_s=10)
        self.router.close()


def _controller(ctx: _Context, store: RolloutStore, baseline: str | None,
                canary: str, flag: FlagTarget | None = None
                ) -> tuple[RolloutController, _Backends]:
    # A flag release drives the flag, never the service's router or instances.
    router = (build_flag_router(ctx.service, ctx.root, flag) if flag is not None
              else build_router(ctx.service))
    try:
        target = NoDeployTarget() if flag is not None else build_target(ctx.service)
        scope = (ctx.canary.scope if ctx.canary is not None else Scope())
        if baseline is not None and scope == Scope():
            scope = Scope(scope.label, baseline, canary)
        metrics = (build_metrics(ctx.service, router, scope, ctx.root) if flag is None
                   else flag_metrics(ctx.service, flag, scope, lambda: build_metrics(
                       ctx.service, router, scope, ctx.root)))
    except BaseException:
        router.close()
        raise
    strategy = ctx.service.strategy
    smoke_url = strategy.smoke_url or _router_url(router)
    smoke = HttpSmokeTester(smoke_url) if smoke_url else None
    backends = _Backends(router, target, _notifier(ctx.service))
    from safeship.registry_analysis import judge_for

    # The pre-deploy SLO check: built here, like the router and metrics, so the engine only
    # sees its interface. No SLOs (or no Prometheus) in service.yaml means no check.
    budgets = rollout_budgets(ctx.service)
    slo_guard = (SloGuard(budgets.source, SloGuardSettings(
        on_unavailable=OnUnavailable(budgets.on_unavailable))) if budgets is not None else None)
    controller = RolloutController(
        store, router, target, clock=SystemClock(), holder=new_holder_id(),
        strategies=strategy_for, judges=judge_for, metrics=metrics,
        notifier=backends.notifier, smoke=smoke,
        settings=ControllerSettings(lease_ttl_s=strategy.lease_ttl_s), slo_guard=slo_guard)
    return controller, backends


def _router_url(router: Router) -> str | None:
    """Where a router that serves traffic itself listens (the embedded one does)."""
    try:
        url = getattr(router, "url", None)
    except Exception:  # a router that is not started has no address yet
        return None
    return url if isinstance(url, str) else None


def _finish(outcome: RolloutOutcome, console: Console, *, asked_abort: bool = False) -> int:
    rec = outcome.release
    status = outcome.status
    style = {"succeeded": "green", "rolled_back": "red", "aborted": "yellow"}.get(
        status.value, "magenta")
    line = f"{rec.service} {rec.version}: {status.value}"
    if rec.reason:
        line += f" ({rec.reason})"
    console.print(line, style=style, markup=False)
    if rec.rollback_seconds is not None:
        console.print(rollback_line(rec), markup=False)
    if rec.downtime_seconds is not None:
        console.print(f"downtime: {rec.downtime_seconds:.3f} s", markup=False)
    if asked_abort and status is RolloutStatus.ABORTED:
        return ExitCode.OK  # what was asked for happened
    return EXIT_BY_STATUS[status]


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_READ_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _artifact(reference: str | None, root: Path) -> ArtifactRef | None:
    if reference is None:
        return None
    if "@sha256:" in reference:  # an image pinned by digest
        return ArtifactRef(reference, reference.rsplit("@sha256:", 1)[1])
    path = Path(reference)
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise UsageError(f"artifact {reference} is not a file",
                         hint="give a file to deploy (its sha256 is recorded), or an image "
                              "reference pinned by digest (name@sha256:...)")
    return ArtifactRef(str(path), sha256_of(path))


# --------------------------------------------------------------------------- commands


@app.command("start")
def start_command(
    service: Annotated[str, typer.Argument(help="service name, as in service.yaml")],
    version: Annotated[str | None, typer.Option(
        "--version", help="the version to roll out (feature_flag: the variant to turn on, "
                          "default the flag's)")] = None,
    strategy: Annotated[str | None, typer.Option(
        "--strategy", help="recreate | rolling | blue_green | canary | feature_flag "
                           "(default: service.yaml)")]
    = None,
    artifact: Annotated[str | None, typer.Option(
        "--artifact", help="file to deploy (its sha256 is recorded) or image@sha256:...")]
    = None,
    replicas: Annotated[int | None, typer.Option("--replicas", min=1,
                                                 help="instances (default: service.yaml)")]
    = None,
    project: Project = Path(),
) -> None:
    """Roll out VERSION of SERVICE and drive it to promotion or rollback.

    With strategy feature_flag nothing is deployed: the flag named in service.yaml is ramped
    step by step under canary analysis (VERSION: the variant, default the flag's), and
    switched off on ROLLBACK.

    A second start while a rollout of the service is in progress is refused (exit 4) and names
    the running one.
    """
    ctx = _load(project, service)
    console = stdout_console()
    store = _store(ctx.root)
    try:
        active = store.active_release(service)
        if active is not None and _orphaned(store, active):
            # A controller died mid-rollout: finish (or roll back) its release first, so the
            # service is never left at a partial weight with no owner.
            _finish(_take_over(
                ctx, store, active, console,
                f"{active.service} {active.version} was left at step {active.step_index} "
                f"({active.status}) by a controller that is gone; resuming it first"), console)
            active = store.active_release(service)
        if active is not None:
            raise _in_progress(store, active)
        chosen = strategy or ctx.service.strategy.type
        strategy_for(chosen)  # an unknown name is a usage error before anything starts
        if is_flag_release(chosen):
            outcome = _start_flag(ctx, store, service, version, artifact, console)
            raise typer.Exit(_finish(outcome, console))
        if version is None:
            raise UsageError(f"--version is required for a {chosen} rollout",
                             hint="name the version to roll out: --version v2")
        # The signature gate's trust policy is checked before anything is deployed.
        refusals = api.verify_release_artifact(ctx.root, ctx.service.gates_path, artifact)
        if refusals:
            for reason in refusals:
                console.print(f"refused: {reason}", markup=False)
            console.print(f"{version} is not deployed: its artifact did not verify against "
                          "the signature gate's trust policy", markup=False)
            raise typer.Exit(ExitCode.BLOCKED)
        stable = stable_of(store, service)
        config = ctx.service.strategy
        judge = config.judge or (ctx.canary.judge.name if ctx.canary else None)
        request = RolloutRequest(
            service=service, version=version, replicas=replicas or config.replicas,
            artifact=_artifact(artifact, ctx.root), stable=stable, risk=ctx.service.risk,
            canary_steps=ctx.canary.steps if ctx.canary else (),
            health_timeout_s=config.health_timeout_s,
            rolling=RollingOptions(config.max_surge, config.max_unavailable),
            blue_green=BlueGreenOptions(
                tuple(SmokeCheck(t.path, t.method, t.expect_status, t.contains)
                      for t in config.smoke_tests), config.monitor_s),
            **({"judge": judge} if judge is not None else {}))
        canary = ctx.canary
        if canary is not None and config.judge is not None:
            canary = replace(canary, judge=replace(canary.judge, name=config.judge))
        controller, backends = _controller(ctx, store, stable.version if stable else None,
                                           version)
        try:
            console.print(f"rolling out {service} {version} with {chosen}"
                          + (f" (stable: {stable.version})" if stable else " (first release)"),
                          markup=False)
            outcome = controller.start(request, RolloutSetup(
                chosen, canary, _policy(ctx.service), actor=api.detect_actor()))
        except LeaseHeld as exc:
            running = store.active_release(service)
            raise (_in_progress(store, running) if running is not None else exc) from None
        finally:
            backends.close()
    finally:
        store.close()
    raise typer.Exit(_finish(outcome, console))


def _start_flag(ctx: _Context, store: RolloutStore, service: str, variant: str | None,
                artifact: str | None, console: Console) -> RolloutOutcome:
    """Ramp the flag service.yaml names under analysis (see :mod:`.rollout_flags`)."""
    if artifact is not None:
        raise UsageError("a feature_flag rollout deploys nothing, so --artifact does not apply",
                         hint="the code is in production already, behind the flag")
    target = configured_flag(ctx.service)
    if target is None:
        raise ConfigError([ConfigProblem(
            SourceLocation(ctx.service.source), "strategy.flag",
            "a feature_flag rollout needs the key of the flag to ramp")],
            hint=f"add `flag: KEY` to the strategy section of {ctx.service.source}")
    require_counters(ctx.service)
    config = ctx.service.strategy
    judge = config.judge or (ctx.canary.judge.name if ctx.canary else None)
    request = flag_request(
        ctx.service, read_flag(ctx.root, target), target, variant=variant,
        canary_steps=ctx.canary.steps if ctx.canary else (), judge=judge)
    canary = ctx.canary
    if canary is not None and config.judge is not None:
        canary = replace(canary, judge=replace(canary.judge, name=config.judge))
    off = request.stable.version if request.stable else ""
    controller, backends = _controller(ctx, store, off, request.version, target)
    try:
        console.print(f"ramping flag '{target.flag}' ({request.version}, off: {off}) in "
                      f"{target.environment} for {service} under canary analysis",
                      markup=False)
        return controller.start(request, RolloutSetup(
            FEATURE_FLAG, canary, _policy(ctx.service), actor=api.detect_actor()))
    except LeaseHeld as exc:
        running = store.active_release(service)
        raise (_in_progress(store, running) if running is not None else exc) from None
    finally:
        backends.close()


def _orphaned(store: RolloutStore, active: ReleaseRecord) -> bool:
    """True when no live controller drives ``active`` (its lease expired or its holder died)."""
    lease = store.lease(active.service)
    return (lease is None or not lease.live(SystemClock().now())
            or holder_is_dead_here(lease.holder))


def _take_over(ctx: _Context, store: RolloutStore, active: ReleaseRecord,
               console: Console, message: str) -> RolloutOutcome:
    """Resume a release whose controller is gone (or paused) to its end."""
    lease = store.lease(active.service)
    steal = lease.holder if lease is not None and holder_is_dead_here(lease.holder) else None
    console.print(message, markup=False)
    controller, backends = _controller(ctx, store, active.stable_version, active.version,
                                       release_flag(ctx.service, active))
    try:
        return controller.resume(active.service, steal_from=steal)
    finally:
        backends.close()


def _in_progress(store: RolloutStore, active: ReleaseRecord) -> ReleaseInProgress:
    """The refusal of a second rollout, naming the running one and who drives it (exit 4)."""
    lease = store.lease(active.service)
    owner = (f"controller {lease.holder} drives it" if lease is not None
             and lease.live(datetime.now(UTC)) else "no controller drives it now")
    error = ReleaseInProgress(active)
    error.hint = (f"{owner}; watch it with `safeship rollout status {active.service}`, or end "
                  f"it with `safeship rollout resume|abort|undo {active.service}`")
    return error


@app.command("resume")
def resume_command(
    service: Service = None,
    wait: Annotated[float, typer.Option(
        "--wait", min=0, help="seconds to wait for a live controller's lease to expire")] = 0.0,
    project: Project = Path(),
) -> None:
    """Unpause a paused rollout, or take over one whose controller died and finish it."""
    ctx = _load(project, service)
    name = ctx.service.name
    console = stdout_console()
    store = _store(ctx.root)
    try:
        active = store.active_release(name)
        if active is None:
            raise NotFound(f"service '{name}' has no rollout in progress")
        lease = store.lease(name)
        clock = SystemClock()
        deadline = time.monotonic() + wait
        while lease is not None and lease.live(clock.now()) \
                and not holder_is_dead_here(lease.holder):
            if active.paused:
                send_command(store, name, Command.RESUME, by=api.detect_actor(),
                             reason="resume", clock=clock)
                console.print(f"asked controller {lease.holder} to resume {name}",
                              markup=False)
                return
            if time.monotonic() >= deadline:
                raise LeaseHeld(lease, hint="it is being driven; use `rollout status --watch`")
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
            lease = store.lease(name)
        if active.paused:
            send_command(store, name, Command.RESUME, by=api.detect_actor(),
                         reason="resume", clock=clock)
        outcome = _take_over(ctx, store, active, console,
                             f"resuming {name} {active.version} at step {active.step_index} "
                             f"({active.status})")
    finally:
        store.close()
    raise typer.Exit(_finish(outcome, console))


def _command(command: Command, service: str | None, project: Path, reason: str,
             by: str | None) -> ReleaseRecord:
    root = project.resolve()
    name = _name(project, service)
    with _store(root) as store:
        return send_command(store, name, command, by=by or api.detect_actor(),
                            reason=reason, clock=SystemClock())


@app.command("pause")
def pause_command(
    service: Service = None,
    reason: Annotated[str, typer.Option("--reason", help="why")] = "paused by hand",
    by: Annotated[str | None, typer.Option("--by", help="who (default: you)")] = None,
    project: Project = Path(),
) -> None:
    """Hold the rollout at its current step (a ROLLBACK verdict still rolls back)."""
    rec = _command(Command.PAUSE, service, project, reason, by)
    stdout_console().print(f"pause requested for {rec.service} {rec.version}", markup=False)


@app.command("promote")
def promote_command(
    service: Service = None,
    full: Annotated[bool, typer.Option(
        "--full", help="skip every remaining analysis and smoke test (warns)")] = False,
    reason: Annotated[str, typer.Option("--reason", help="why")] = "promoted by hand",
    by: Annotated[str | None, typer.Option("--by", help="who (default: you)")] = None,
    project: Project = Path(),
) -> None:
    """End the current analysis step early (``--full``: skip all remaining analysis)."""
    if full:
        stderr_console().print(
            "warning: promote --full skips every remaining analysis and smoke test; the "
            "release goes to 100 % without evidence that it is safe", style="yellow",
            markup=False)
    rec = _command(Command.PROMOTE_FULL if full else Command.PROMOTE, service, project, reason,
                   by)
    stdout_console().print(f"{'full ' if full else ''}promotion requested for {rec.service} "
                           f"{rec.version}", markup=False)


@app.command("abort")
def abort_command(
    service: Service = None,
    reason: Annotated[str, typer.Option("--reason", help="why")] = "aborted by hand",
    by: Annotated[str | None, typer.Option("--by", help="who (default: you)")] = None,
    wait: Annotated[float, typer.Option("--wait", min=0,
                                        help="seconds to wait for the rollback")] = 60.0,
    project: Project = Path(),
) -> None:
    """Send all traffic back to the stable version and stop the new one."""
    raise typer.Exit(_abort(service, project, reason, by, wait))


def _abort(service: str | None, project: Path, reason: str, by: str | None,
           wait: float) -> int:
    ctx = _load(project, service)
    name = ctx.service.name
    console = stdout_console()
    clock = SystemClock()
    with _store(ctx.root) as store:
        active = send_command(store, name, Command.ABORT, by=by or api.detect_actor(),
                              reason=reason, clock=clock)
        lease = store.lease(name)
        if lease is None or not lease.live(clock.now()) or holder_is_dead_here(lease.holder):
            # Nobody drives it: carry out the abort here.
            steal = lease.holder if lease is not None and holder_is_dead_here(lease.holder) \
                else None
            controller, backends = _controller(ctx, store, active.stable_version,
                                               active.version,
                                               release_flag(ctx.service, active))
            try:
                return _finish(controller.resume(name, steal_from=steal), console,
                               asked_abort=True)
            finally:
                backends.close()
        console.print(f"abort requested; controller {lease.holder} rolls back", markup=False)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            rec = store.get_release(active.release_id)
            if not rec.active:
                return _finish(RolloutOutcome(rec), console, asked_abort=True)
            time.sleep(0.2)
        console.print(f"still rolling back after {wait:g} s; `safeship rollout status {name}`",
                      markup=False)
        return ExitCode.PENDING


@app.command("undo")
def undo_command(
    service: Service = None,
    to_version: Annotated[str | None, typer.Option(
        "--to-version", help="a version that was stable before (default: the previous one)")]
    = None,
    flag_only: Annotated[bool, typer.Option(
        "--flag-only", help="only switch the guarding flag off; keep the running version")]
    = False,
    project: Project = Path(),
) -> None:
    """The fastest way back: abort a rollout in progress, or return to a previous stable version.

    When the release is behind a feature flag (a feature_flag rollout, or strategy.flag in
    service.yaml), the flag is switched off first: a flag toggle takes seconds. Then traffic
    goes back at once when the version still runs; otherwise its artifact is redeployed by
    digest. No analysis, no smoke test.
    """
    began = time.monotonic()  # the undo's decision: a flag toggle is timed from here
    ctx = _load(project, service)
    name = ctx.service.name
    console = stdout_console()
    with _store(ctx.root) as store:
        active = store.active_release(name)
        latest = latest_success(store, name) if active is None else None
    guard = configured_flag(ctx.service)
    if active is not None:
        if to_version is not None and to_version != active.stable_version:
            raise UsageError(f"a rollout of '{name}' is in progress; undo returns to its stable "
                             f"version '{active.stable_version}' first")
        reason = "undo"
        flag = release_flag(ctx.service, active) or guard
        if flag is not None:
            # Its controller runs elsewhere and may be mid-scrape: switch the flag off here.
            toggle = toggle_now(ctx.service, ctx.root, flag, SystemClock(), started=began,
                                actor=api.detect_actor(),
                                reason=f"rollout undo of {name}: release {active.release_id} "
                                       "in progress; the flag goes off first")
            console.print(toggle_line(flag, toggle), markup=False)
            reason = (f"undo: flag '{flag.flag}' switched off in {flag.environment} first, "
                      f"{toggle.seconds:.3f} s after the undo began")
        raise typer.Exit(_abort(name, project, reason, None, 60.0))
    ramped = latest is not None and latest.strategy == FEATURE_FLAG
    flag = release_flag(ctx.service, latest) if ramped and latest is not None else guard
    if flag is None and flag_only:
        raise UsageError(f"no flag guards the releases of '{name}'",
                         hint="name it with strategy.flag in service.yaml")
    if flag is not None:
        outcome = _undo_flag(ctx, flag, latest.version if ramped and latest else None, console)
        if (ramped and to_version is None) or flag_only \
                or outcome.status is not RolloutStatus.SUCCEEDED:
            raise typer.Exit(_finish(outcome, console))
        _finish(outcome, console)
    with _store(ctx.root) as store:
        try:
            request = undo_request(store, name, to_version=to_version,
                                   health_timeout_s=ctx.service.strategy.health_timeout_s)
        except NotFound as exc:
            if flag is None or to_version is not None:
                raise
            console.print(f"{exc.message}: the flag toggle was the undo", markup=False)
            raise typer.Exit(ExitCode.OK) from None
        current = request.stable.version if request.stable else None
        controller, backends = _controller(ctx, store, current, request.version)
        try:
            console.print(f"undo: {name} back to {request.version}"
                          + (f" (from {current})" if current else ""), markup=False)
            outcome = controller.start(request, RolloutSetup(
                "undo", None, _policy(ctx.service), actor=api.detect_actor(),
                kind=ReleaseKind.UNDO))
        finally:
            backends.close()
    raise typer.Exit(_finish(outcome, console))


def _undo_flag(ctx: _Context, flag: FlagTarget, on_variant: str | None,
               console: Console) -> RolloutOutcome:
    """A recorded ``feature_flag_undo`` release: the flag off, timed by the controller."""
    request = flag_undo_request(ctx.service, ctx.root, flag, on_variant)
    leaving = request.stable.version if request.stable else ""
    with _store(ctx.root) as store:
        controller, backends = _controller(ctx, store, leaving, request.version, flag)
        try:
            console.print(f"undo: flag '{flag.flag}' off in {flag.environment} first (a flag "
                          f"toggle takes seconds; '{leaving}' -> '{request.version}')",
                          markup=False)
            return controller.start(request, RolloutSetup(
                FEATURE_FLAG_UNDO, None, _policy(ctx.service), actor=api.detect_actor(),
                kind=ReleaseKind.UNDO))
        finally:
            backends.close()


# --------------------------------------------------------------------------- views


def _latest(store: RolloutStore, name: str) -> ReleaseRecord:
    active = store.active_release(name)
    if active is not None:
        return active
    releases = store.list_releases(name, limit=1)
    if not releases:
        raise NotFound(f"service '{name}' has no rollouts yet",
                       hint=f"start one with `safeship rollout start {name} --version V`")
    return releases[0]


def status_data(store: RolloutStore, rec: ReleaseRecord, now: datetime) -> dict[str, Any]:
    """What ``status`` shows, as plain data."""
    plan = decode_plan(rec.plan if rec.phase == "forward" else rec.rollback_plan)
    step = plan[rec.step_index] if rec.step_index < len(plan) else None
    lease = store.lease(rec.service)
    verdict = store.last_transition(rec.release_id, "verdict")
    left = ((rec.step_deadline_at - now).total_seconds()
            if rec.step_deadline_at is not None and rec.active else None)
    metrics = [] if verdict is None else [
        {"name": m.get("name"), "outcome": m.get("outcome"), "detail": m.get("detail")}
        for m in verdict.details.get("verdict", {}).get("metrics", [])]
    return {
        "release_id": rec.release_id, "service": rec.service, "version": rec.version,
        "kind": rec.kind, "strategy": rec.strategy, "status": rec.status,
        "stable_version": rec.stable_version, "decision": rec.decision, "reason": rec.reason,
        "phase": rec.phase, "step_index": rec.step_index, "steps": len(plan),
        "step": step.kind.value if step is not None else None,
        "step_detail": _step_text(step),
        "time_left_s": max(0.0, left) if left is not None else None,
        "paused": rec.paused,
        "desired_weights": rec.desired_weights, "observed_weights": rec.observed_weights,
        "observed_at": rec.observed_at.isoformat() if rec.observed_at else None,
        "max_canary_percent": rec.max_canary_percent,
        "rollback_seconds": rec.rollback_seconds, "downtime_seconds": rec.downtime_seconds,
        "artifact": {"reference": rec.artifact_reference, "sha256": rec.artifact_sha256},
        "started_at": rec.started_at.isoformat(),
        "finished_at": rec.finished_at.isoformat() if rec.finished_at else None,
        "controller": None if lease is None else {
            "holder": lease.holder, "expires_at": lease.expires_at.isoformat(),
            "live": lease.live(now)},
        "last_verdict": None if verdict is None else {
            "decision": verdict.details.get("decision"), "at": verdict.at.isoformat(),
            "reason": verdict.reason, "metrics": metrics},
    }


def _step_text(step: Any) -> str | None:
    if step is None:
        return None
    return describe_step(step)


def _json(data: Any) -> str:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        return value

    return json.dumps(clean(data), indent=2, sort_keys=True)


def _split(weights: Mapping[str, Any] | None) -> str:
    if not weights:
        return "-"
    return ", ".join(f"{version} {float(share):g}%" for version, share in weights.items())


def _step_line(data: Mapping[str, Any]) -> str:
    if data["step_detail"] is None:
        return f"{data['phase']}: all {data['steps']} steps done"
    return f"{data['phase']} {data['step_index'] + 1}/{data['steps']}: {data['step_detail']}"


def status_view(data: Mapping[str, Any]) -> Group:
    """A Rich rendering of :func:`status_data`."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    state = data["status"] + (" (paused)" if data["paused"] and data["status"] != "paused"
                              else "")
    rows = [
        ("release", f"{data['release_id'][:12]}  {data['service']} {data['version']} "
                    f"({data['strategy']}, stable {data['stable_version'] or '-'})"),
        ("status", state + (f": {data['reason']}" if data["reason"] else "")),
        ("step", _step_line(data)),
        ("time left", format_duration(data["time_left_s"])
         if data["time_left_s"] is not None else "-"),
        ("weights (router)", _split(data["observed_weights"])),
        ("weights (desired)", _split(data["desired_weights"])),
        ("max canary", f"{data['max_canary_percent']:g}%"),
    ]
    if data["rollback_seconds"] is not None:
        rows.append(("rollback", f"{data['rollback_seconds']:.3f} s"))
    controller = data["controller"]
    rows.append(("controller", "-" if controller is None else
                 f"{controller['holder']} ({'live' if controller['live'] else 'expired'})"))
    for key, value in rows:
        head.add_row(key, Text(str(value)))
    parts: list[Any] = [head]
    verdict = data["last_verdict"]
    if verdict is not None:
        table = Table(title=f"last verdict: {verdict['decision']}", title_justify="left")
        table.add_column("metric")
        table.add_column("verdict")
        table.add_column("why")
        for metric in verdict["metrics"]:
            table.add_row(str(metric["name"]), str(metric["outcome"]),
                          Text(str(metric["detail"])))
        if not verdict["metrics"]:
            table.add_row("-", str(verdict["decision"]), Text(verdict["reason"]))
        parts.append(table)
    return Group(*parts)


@app.command("status")
def status_command(
    service: Service = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="refresh until it ends")] = False,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f")] = StatusFormat.TABLE,
    interval: Annotated[float, typer.Option("--interval", min=0.1,
                                            help="seconds between refreshes")] = 1.0,
    project: Project = Path(),
) -> None:
    """Show the current (or latest) rollout: step, weights read back, time left, verdicts."""
    name = _name(project, service)
    console = stdout_console()
    with _store(project.resolve()) as store:
        if fmt is StatusFormat.JSON:
            while True:
                data = status_data(store, _latest(store, name), datetime.now(UTC))
                emit(_json(data), None)
                if not watch or data["finished_at"] is not None:
                    return
                time.sleep(interval)
        if not watch:
            console.print(status_view(status_data(store, _latest(store, name),
                                                  datetime.now(UTC))))
            return
        with Live(console=console, auto_refresh=False,
                  transient=False) if is_interactive() else _NoLive(console) as live:
            while True:
                data = status_data(store, _latest(store, name), datetime.now(UTC))
                live.update(status_view(data), refresh=True)
                if data["finished_at"] is not None:
                    return
                time.sleep(interval)


class _NoLive:
    """``--watch`` off a terminal: print each state once, when it changes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.last: str | None = None

    def __enter__(self) -> _NoLive:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def update(self, view: Group, refresh: bool = True) -> None:
        with self.console.capture() as capture:
            self.console.print(view)
        text = capture.get()
        if text != self.last:
            self.console.print(view)
            self.last = text


@app.command("list")
def list_command(
    service: Annotated[str | None, typer.Option("--service", help="only this service")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 20,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f")] = StatusFormat.TABLE,
    project: Project = Path(),
) -> None:
    """Recent rollouts of every service (or one), newest first."""
    with _store(project.resolve()) as store:
        releases = store.list_releases(service, limit=limit)
    _releases_out(releases, fmt, "rollouts")


@app.command("history")
def history_command(
    service: Service = None,
    release: Annotated[str | None, typer.Option(
        "--release", help="show every transition of this release (id or 6+ char prefix)")]
    = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 20,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f")] = StatusFormat.TABLE,
    project: Project = Path(),
) -> None:
    """The releases of a service, or (``--release``) every transition of one release."""
    with _store(project.resolve()) as store:
        if release is not None:
            rec = store.get_release(release)
            transitions = store.transitions(rec.release_id)
            if fmt is StatusFormat.JSON:
                emit(_json([{"at": t.at.isoformat(), "event": t.event, "from": t.from_status,
                             "to": t.to_status, "phase": t.phase, "step": t.step_index,
                             "kind": t.step_kind, "weights": t.weights, "reason": t.reason,
                             "details": t.details, "controller": t.holder}
                            for t in transitions]), None)
                return
            table = Table(title=f"{rec.service} {rec.version} ({rec.release_id[:12]})")
            for column in ("time", "event", "status", "step", "weights", "reason"):
                table.add_column(column)
            for t in transitions:
                table.add_row(t.at.strftime("%H:%M:%S.%f")[:-3], t.event, t.to_status,
                              f"{t.phase[0]}{t.step_index}" if t.step_index is not None
                              else "", _split(t.weights), Text(t.reason))
            stdout_console().print(table)
            return
        releases = store.list_releases(_name(project, service), limit=limit)
    _releases_out(releases, fmt, "history")


def _releases_out(releases: list[ReleaseRecord], fmt: StatusFormat, title: str) -> None:
    if fmt is StatusFormat.JSON:
        emit(_json([{
            "release_id": r.release_id, "service": r.service, "version": r.version,
            "kind": r.kind, "strategy": r.strategy, "status": r.status, "decision": r.decision,
            "artifact": {"reference": r.artifact_reference, "sha256": r.artifact_sha256},
            "max_canary_percent": r.max_canary_percent, "rollback_seconds": r.rollback_seconds,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "reason": r.reason, "actor": r.actor} for r in releases]), None)
        return
    table = Table(title=title)
    for column in ("release", "service", "version", "strategy", "status", "max %",
                   "rollback s", "started", "sha256"):
        table.add_column(column)
    for r in releases:
        table.add_row(r.release_id[:12], r.service, r.version, r.strategy, r.status,
                      f"{r.max_canary_percent:g}",
                      f"{r.rollback_seconds:.3f}" if r.rollback_seconds is not None else "",
                      r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                      (r.artifact_sha256 or "")[:12])
    if not releases:
        stdout_console().print(f"no {title} recorded yet", markup=False)
        return
    stdout_console().print(table)
