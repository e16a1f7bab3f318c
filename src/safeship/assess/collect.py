"""``assess_repository``: gather every piece of evidence in a repository, then judge it.

The three ``.pipeline/`` files are loaded with the loaders the rest of safeship uses; an invalid
file is an error (one :class:`~safeship.errors.ConfigError` listing the problems of all of
them, each with file, line and field), while a missing file is simply evidence of a lower level.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from safeship._internal.subprocess import CommandRunner, run_command
from safeship.assess.analysis_evidence import canary_facts
from safeship.assess.ci_evidence import inspect_ci
from safeship.assess.delivery_evidence import deploy_scripts, service_facts
from safeship.assess.evidence import Evidence, HistoryFacts
from safeship.assess.gates_evidence import gates_facts
from safeship.assess.history_evidence import collect_history, no_history
from safeship.assess.levels import Assessment, evaluate
from safeship.assess.version_control import display_path, inspect_files
from safeship.config.canary_file import parse_canary_document
from safeship.config.gates_file import parse_gates_document
from safeship.config.service_file import parse_service_document
from safeship.config.yaml_source import read_yaml
from safeship.errors import ConfigError, ConfigProblem, NotFound, UsageError
from safeship.registry import GateOptionsResolver

PIPELINE_DIR = ".pipeline"
SERVICE_FILE = "service.yaml"
GATES_FILE = "gates.yaml"
CANARY_FILE = "canary-analysis.yaml"

_T = TypeVar("_T")


def assess_repository(path: Path, *, service_file: Path | None = None,
                      runner: CommandRunner = run_command, database_url: str | None = None,
                      read_history: bool = True) -> Assessment:
    """The maturity assessment of the repository at ``path``.

    Raises:
        NotFound: ``path`` or the ``service_file`` named does not exist.
        UsageError: ``path`` is not a folder.
        ConfigError: a safeship file exists but is invalid.
        ToolUnavailable: git is missing or broken.
        StoreUnavailable: a state store exists but cannot be read.
    """
    root = path
    if not root.exists():
        raise NotFound(f"{root}: no such folder", hint="pass the repository's folder")
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder", hint="pass the repository's folder")
    if service_file is not None and not service_file.is_file():
        raise NotFound(f"{service_file}: no such service file",
                       hint="leave out --service to use .pipeline/service.yaml")
    pipeline = root / PIPELINE_DIR
    service_path = service_file or pipeline / SERVICE_FILE
    problems: list[ConfigProblem] = []

    service_doc = _load(service_path, read_yaml, problems)
    service = _load(service_doc, parse_service_document, problems) if service_doc else None
    gates_path = service.gates_path if service else pipeline / GATES_FILE
    canary_path = service.canary_path if service else pipeline / CANARY_FILE
    gates_doc = _load(gates_path, read_yaml, problems)
    gates = _load(gates_doc, lambda doc: parse_gates_document(doc, GateOptionsResolver()),
                  problems) if gates_doc else None
    canary_doc = _load(canary_path, read_yaml, problems)
    canary = _load(canary_doc, parse_canary_document, problems) if canary_doc else None
    if problems:
        raise ConfigError(problems, hint="fix the files, then assess again "
                                         "(`safeship config validate` checks them one by one)")

    facts = service_facts(root, service_path, service, service_doc.data if service_doc else None)
    ci = inspect_ci(root)
    versioned = [service_path, gates_path, canary_path,
                 *(root / f.path for f in ci), *(root / v for f in ci for v in f.via)]
    history: HistoryFacts = (
        collect_history(root, facts.name, database_url) if read_history
        else no_history(root, facts.name, "not read (--no-history)"))
    evidence = Evidence(
        root=display_path(Path.cwd(), root),
        service=facts,
        gates=gates_facts(root, gates_path, gates, facts.risk),
        canary=canary_facts(root, canary_path, canary),
        vcs=inspect_files(root, versioned, runner),
        ci=ci,
        deploy_scripts=deploy_scripts(root),
        history=history,
    )
    return evaluate(evidence)


def _load(source: Any, load: Callable[[Any], _T], problems: list[ConfigProblem]) -> _T | None:
    """``load(source)``; None when ``source`` is a missing file; a ConfigError is collected."""
    if isinstance(source, Path) and not source.exists():
        return None
    try:
        return load(source)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
