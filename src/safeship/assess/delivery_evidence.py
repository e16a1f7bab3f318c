"""How the service is deployed: ``service.yaml``'s target, router and strategy, and deploy scripts.

A service file that leaves out ``strategy:`` rolls out with the default strategy (canary); the
facts say so (``strategy_explicit``) so the report can tell a chosen strategy from a default.
Without a service file the facts carry safeship's defaults: the folder's name and medium risk,
as ``safeship gates run`` would use them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from safeship.assess.ci_evidence import makefile_of
from safeship.assess.evidence import ServiceFacts
from safeship.assess.makefile_recipes import parse_makefile
from safeship.assess.version_control import display_path
from safeship.config.service_file import ServiceSpec

#: Where a hand-written deploy script usually lives (globs relative to the repository root).
DEPLOY_SCRIPT_GLOBS = ("deploy*", "scripts/deploy*", "bin/deploy*", "tools/deploy*",
                       ".ci/deploy*", "ops/deploy*")
MAX_DEPLOY_SCRIPTS = 20
_DEPLOY_TARGET = re.compile(r"^deploy(?:[-_.].*)?$")


def service_facts(root: Path, path: Path, spec: ServiceSpec | None,
                  data: Any = None) -> ServiceFacts:
    """The facts of the service file at ``path`` (``spec`` None when it does not exist).

    ``data`` is the file's parsed YAML, used to tell what is written from what is defaulted.
    """
    shown = display_path(root, path)
    if spec is None:
        return ServiceFacts(shown, False, root.resolve().name)
    written = data if isinstance(data, dict) else {}
    return ServiceFacts(
        path=shown, present=True, name=spec.name, risk=spec.risk,
        risk_explicit="risk" in written,
        target=spec.target.type if spec.target else None,
        router=spec.router.type if spec.router else None,
        metrics=spec.metrics.type if spec.metrics else None,
        strategy=spec.strategy.type,
        strategy_explicit=isinstance(written.get("strategy"), dict)
        and "type" in written["strategy"],
        judge_override=spec.strategy.judge.value if spec.strategy.judge else None,
        on_insufficient_data=spec.strategy.on_insufficient_data,
        slos=tuple(slo.name for slo in spec.slos),
    )


def deploy_scripts(root: Path) -> tuple[str, ...]:
    """Hand-written deployment entry points: deploy scripts and Makefile ``deploy`` targets."""
    found: set[str] = set()
    for pattern in DEPLOY_SCRIPT_GLOBS:
        found.update(display_path(root, path) for path in root.glob(pattern) if path.is_file())
    makefile = makefile_of(root)
    if makefile is not None:
        try:
            text = makefile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        rules, _ = parse_makefile(text)
        shown = display_path(root, makefile)
        found.update(f"{shown} target `{name}`" for name, rule in rules.items()
                     if _DEPLOY_TARGET.match(name) and rule.recipe)
    return tuple(sorted(found)[:MAX_DEPLOY_SCRIPTS])
