"""The facade the faces (CLI, later the web API) call: load, validate, run, record, approve.

Nothing here prints. Functions return frozen results or raise errors from :mod:`safeship.errors`.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeship._internal.subprocess import CommandRunner, run_command
from safeship.config.canary_file import parse_canary_document
from safeship.config.gates_file import PipelineSpec, parse_gates_document
from safeship.config.kinds import FileKind, detect_kind
from safeship.config.service_file import ServiceSpec, parse_service_document
from safeship.config.validation import suggest
from safeship.config.yaml_source import read_yaml
from safeship.engine.analysis import build_input, evidence_span, replay
from safeship.engine.clock import Clock, SystemClock
from safeship.engine.pipeline import (
    PipelineEngine,
    PipelineObserver,
    PlannedStage,
    RunFacts,
    plan_gate,
)
from safeship.engine.risk_policy import mandatory_types
from safeship.errors import (
    ConfigError,
    ConfigProblem,
    NotFound,
    SourceLocation,
    UsageError,
)
from safeship.gates.interface import GateContext
from safeship.metrics.derived import fetch_all
from safeship.metrics.interface import MetricsProvider, TimeRange
from safeship.model.analysis import AnalysisReport, AnalysisVerdict, Arm, Decision
from safeship.model.canary import CanarySpec, JudgeName
from safeship.model.enums import Outcome, RiskLevel, RunStatus
from safeship.model.results import Approval, PipelineRun
from safeship.registry import GateOptionsResolver, build_gate
from safeship.registry_analysis import judge_for
from safeship.store import StateStore

PIPELINE_DIR = ".pipeline"
SERVICE_FILE = "service.yaml"
GATES_FILE = "gates.yaml"
CANARY_FILE = "canary-analysis.yaml"
DATABASE_URL_ENV = "SAFESHIP_DATABASE_URL"


@dataclass(frozen=True)
class Project:
    """A repository's safeship configuration, loaded and validated."""

    root: Path
    service_name: str
    risk: RiskLevel
    gates: PipelineSpec
    service: ServiceSpec | None = None
    canary: CanarySpec | None = None


@dataclass(frozen=True)
class ValidatedFile:
    """One file that passed validation, with what it holds in a sentence."""

    path: Path
    kind: FileKind
    summary: str


def load_gates(path: Path) -> PipelineSpec:
    """Read and validate a gates file, backend options included."""
    return parse_gates_document(read_yaml(path), GateOptionsResolver())


def load_project(root: Path, gates_path: Path | None = None) -> Project:
    """Load ``.pipeline/`` under ``root`` (or just ``gates_path`` when given)."""
    pipeline_dir = root / PIPELINE_DIR
    service_path = pipeline_dir / SERVICE_FILE
    service = parse_service_document(read_yaml(service_path)) if service_path.exists() else None
    if gates_path is None:
        gates_path = service.gates_path if service else pipeline_dir / GATES_FILE
    if not gates_path.exists():
        raise NotFound(
            f"{gates_path}: no gates file",
            hint="run `safeship init` to create .pipeline/, or pass --config PATH",
        )
    gates = load_gates(gates_path)
    canary_path = service.canary_path if service else pipeline_dir / CANARY_FILE
    canary = (parse_canary_document(read_yaml(canary_path)) if canary_path.exists() else None)
    name = service.name if service else root.resolve().name
    risk = service.risk if service else RiskLevel.MEDIUM
    return Project(root, name, risk, gates, service, canary)


def validate_file(path: Path) -> ValidatedFile:
    """Validate one file of any of safeship's kinds, detected from its content."""
    doc = read_yaml(path)
    kind = detect_kind(doc.data)
    if kind is None:
        raise ConfigError([ConfigProblem(
            SourceLocation(str(path), 1, 1), "",
            "not a safeship file: expected a gates file (version: 2), a CanaryConfig "
            "(apiVersion: analysis/v1) or a Service (apiVersion: safeship/v1)",
        )])
    if kind is FileKind.GATES:
        spec = parse_gates_document(doc, GateOptionsResolver())
        count = sum(len(s.gates) for s in spec.stages)
        return ValidatedFile(path, kind, f"{len(spec.stages)} stages, {count} gates")
    if kind is FileKind.CANARY:
        canary = parse_canary_document(doc)
        return ValidatedFile(path, kind, f"'{canary.name}': {len(canary.steps)} steps, "
                                         f"{len(canary.metrics)} metrics")
    service = parse_service_document(doc)
    return ValidatedFile(path, kind, f"service '{service.name}', risk {service.risk}")


def validate_files(paths: Sequence[Path]) -> list[ValidatedFile]:
    """Validate every path; raise one ``ConfigError`` gathering the problems of all files."""
    results: list[ValidatedFile] = []
    problems: list[ConfigProblem] = []
    for path in paths:
        try:
            results.append(validate_file(path))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return results


def pipeline_files(root: Path) -> list[Path]:
    """The YAML files in ``root/.pipeline``."""
    folder = root / PIPELINE_DIR
    if not folder.is_dir():
        raise NotFound(f"{folder}: no such folder", hint="run `safeship init` first")
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise NotFound(f"{folder}: no YAML files in it", hint="run `safeship init` first")
    return files


def detect_commit(root: Path, run: CommandRunner = run_command) -> str | None:
    """The commit checked out in ``root``, or None outside a git work tree."""
    try:
        result = run(["git", "rev-parse", "HEAD"], cwd=root, timeout_s=10)
    except Exception:  # git missing or broken: a run without a commit is still recorded
        return None
    text = result.stdout.strip()
    return text if result.returncode == 0 and text else None


def detect_actor(env: Mapping[str, str] | None = None) -> str:
    """Who runs the pipeline: the CI's user when known, else the local user."""
    env = os.environ if env is None else env
    for key in ("SAFESHIP_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_USER_ID", "USER"):
        if env.get(key):
            return env[key]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_store(root: Path, url: str | None = None) -> StateStore:
    """The state store: ``url``, else ``$SAFESHIP_DATABASE_URL``, else SQLite under ``root``."""
    return StateStore.open(url or os.environ.get(DATABASE_URL_ENV) or None, root)


def plan_stages(project: Project, risk: RiskLevel,
                only: Sequence[str] = ()) -> list[PlannedStage]:
    """The stages to run, with each gate's effective fail action at ``risk``."""
    names = project.gates.stage_names()
    for wanted in only:
        if wanted not in names:
            hint = suggest(wanted, names)
            raise UsageError(
                f"no stage named '{wanted}' in {project.gates.source}",
                hint=f"did you mean '{hint}'?" if hint else f"stages: {', '.join(names)}",
            )
    mandatory = mandatory_types(risk)
    planned = []
    for stage in project.gates.stages:
        if only and stage.name not in only:
            continue
        gates = tuple(
            plan_gate(stage.name, spec.gate_id, spec.type, build_gate(spec.type, spec.options),
                      spec.on_fail, risk, spec.type in mandatory, spec.timeout_s)
            for spec in stage.gates
        )
        planned.append(PlannedStage(stage.name, gates))
    return planned


def run_gates(
    project: Project,
    *,
    store: StateStore | None,
    risk: RiskLevel | None = None,
    stages: Sequence[str] = (),
    keep_going: bool = False,
    actor: str | None = None,
    commit: str | None = None,
    observer: PipelineObserver | None = None,
    clock: Clock | None = None,
    max_workers: int = 4,
    context_overrides: Mapping[str, Any] | None = None,
) -> PipelineRun:
    """Run the gate pipeline of ``project`` and, when a store is given, record it."""
    risk = risk or project.risk
    clock = clock or SystemClock()
    commit = commit if commit is not None else detect_commit(project.root)
    ctx = GateContext(project_root=project.root, service=project.service_name, risk=risk,
                      commit=commit, sleep=clock.sleep, **dict(context_overrides or {}))
    planned = plan_stages(project, risk, stages)
    full_run = not stages

    def lookup(gate_id: str) -> tuple[bool, str] | None:
        if store is None:
            return None
        decision = store.find_decision(project.service_name, commit, gate_id)
        if decision is None:
            return None
        return (decision.status == "approved",
                f"by {decision.decided_by}: {decision.decision_reason}")

    facts = RunFacts(
        service=project.service_name, commit=commit, actor=actor or detect_actor(), risk=risk,
        config_path=project.gates.source,
        canary_duration_s=project.canary.total_duration_s if project.canary else None,
        full_run=full_run,
    )
    engine = PipelineEngine(ctx, clock=clock, max_workers=max_workers,
                            approvals=lookup, observer=observer)
    run = engine.run(planned, facts, keep_going=keep_going,
                     configured_types=project.gates.gate_types())
    if store is not None:
        record_run(store, run, clock)
    return run


def record_run(store: StateStore, run: PipelineRun, clock: Clock) -> None:
    """Save ``run`` and open an approval request for every gate waiting for one."""
    store.save_run(run)
    for gate in run.gates:
        if gate.outcome is Outcome.PENDING_APPROVAL:
            store.request_approval(run.run_id, run.service, run.commit, gate.gate_id,
                                   gate.summary, clock.now())


def decide(store: StateStore, run_id: str, *, approve: bool, by: str, reason: str,
           gate_id: str | None = None, clock: Clock | None = None) -> list[Approval]:
    """Approve or reject the pending approvals of a run; update the run's status."""
    if not by.strip() or not reason.strip():
        raise UsageError("an approval needs both --by NAME and --reason TEXT")
    run = store.get_run(run_id)
    decided = store.decide_approvals(run.run_id, approve=approve, by=by, reason=reason,
                                     at=(clock or SystemClock()).now(), gate_id=gate_id)
    remaining = [a for a in store.approvals_for_run(run.run_id) if a.status == "pending"]
    if not approve:
        store.set_run_status(run.run_id, RunStatus.BLOCKED)
    elif not remaining and run.status is RunStatus.PENDING_APPROVAL:
        store.set_run_status(run.run_id, RunStatus.APPROVED)
    return decided


# --- canary analysis ------------------------------------------------------------------------


def load_canary(path: Path) -> CanarySpec:
    """Read and validate a canary-analysis file."""
    return parse_canary_document(read_yaml(path))


def analyze(spec: CanarySpec, provider: MetricsProvider, window: TimeRange, *,
            judge: JudgeName | None = None, every_s: float | None = None,
            source: str = "") -> AnalysisReport:
    """Fetch both arms' evidence in ``window`` and replay the judge over it.

    Steps are laid from the first point of evidence. With no evidence at all the answer is
    INSUFFICIENT_DATA, never PROCEED.
    """
    name = judge or spec.judge.name
    baseline = fetch_all(provider, spec, Arm.BASELINE, window)
    canary = fetch_all(provider, spec, Arm.CANARY, window)
    baseline_counts = provider.counts(spec, Arm.BASELINE, window)
    canary_counts = provider.counts(spec, Arm.CANARY, window)
    probe = build_input(spec, baseline, canary, start=window.start, now=window.end,
                        baseline_counts=baseline_counts, canary_counts=canary_counts)
    span = evidence_span(probe)
    if span is None:
        verdict = AnalysisVerdict(
            Decision.INSUFFICIENT_DATA, name.value, (),
            (f"no data for any metric in {source or 'the given range'}; check the time range "
             f"and that the '{spec.scope.label}' label has the values "
             f"'{spec.scope.baseline}' and '{spec.scope.canary}'",),
            evaluated_at=window.end)
        return AnalysisReport(spec.name, name.value, probe, (verdict,), verdict, source)
    start, end = span
    data = build_input(spec, baseline, canary, start=start, now=end,
                       baseline_counts=baseline_counts, canary_counts=canary_counts)
    return replay(judge_for(name), name.value, spec, data, start=start, end=end,
                  every_s=every_s or window.step_s, source=source)


# --- releases -------------------------------------------------------------------------------


def signature_policies(gates_path: Path) -> list[Any]:
    """The options of every ``signature`` gate in the gates file (none when it has no file)."""
    if not gates_path.exists():
        return []
    spec = load_gates(gates_path)
    return [gate.options for stage in spec.stages for gate in stage.gates
            if gate.type == "signature"]


def verify_release_artifact(root: Path, gates_path: Path, artifact: str | None) -> list[str]:
    """Why ``artifact`` may not be deployed under the gates file's signature policies.

    An empty list means it may (or that no ``signature`` gate is configured). With a policy,
    anything but a signed local file fails closed: an image reference or no artifact at all
    cannot be checked here, so it is refused rather than deployed unverified.
    """
    from safeship.scanners.signing import TrustPolicy, verify_artifact

    policies = signature_policies(gates_path)
    if not policies:
        return []
    if artifact is None:
        return ["gates.yaml has a signature gate, so a rollout needs --artifact PATH of a "
                "signed file"]
    path = Path(artifact) if Path(artifact).is_absolute() else root / artifact
    if not path.is_file():
        return [f"{artifact} is not a local file, so its signature cannot be verified before "
                "it is deployed"]
    reasons: list[str] = []
    for options in policies:
        policy = TrustPolicy.from_key_files(
            [root / key for key in options.trusted_keys],
            required_builder=options.required_builder,
            require_provenance=options.provenance is not None)
        result = verify_artifact(
            path, policy,
            provenance=(root / options.provenance) if options.provenance else None)
        reasons.extend(result.reasons())
    return reasons
