"""``safeship init``: write ``.pipeline/`` for a repository, adapted to what is detected in it.

The files follow the guide's templates. Detection looks at the language (Python, Node, Go), the
test runner and where the coverage report will be, and fills in the gates accordingly. Gate types
whose backends are not in this release are written commented out, so the scaffold runs as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from safeship.errors import UsageError


@dataclass(frozen=True)
class ProjectFacts:
    """What ``init`` found out about a repository."""

    name: str
    language: str
    test_runner: str | None
    coverage_report: str | None
    lint_command: str | None
    build_command: str | None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _service_name(root: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", root.resolve().name).strip("-.") or "service"
    return name if name[0].isalnum() else f"svc-{name}"


def _python_facts(root: Path, name: str) -> ProjectFacts:
    pyproject = _read(root / "pyproject.toml")
    uses_pytest = ("pytest" in pyproject or (root / "pytest.ini").exists()
                   or (root / "conftest.py").exists() or any(root.glob("tests/**/test_*.py")))
    report = "coverage.json"
    match = re.search(r"\[tool\.coverage\.json\][^\[]*?output\s*=\s*[\"']([^\"']+)", pyproject)
    if match:
        report = match.group(1)
    elif (root / "coverage.xml").exists() and not (root / "coverage.json").exists():
        report = "coverage.xml"
    return ProjectFacts(name, "python", "pytest" if uses_pytest else "unittest", report,
                        None, None)


def detect(root: Path) -> ProjectFacts:
    """Look at ``root`` and say what kind of project it is."""
    name = _service_name(root)
    if any((root / f).exists() for f in ("pyproject.toml", "setup.py", "setup.cfg")) or any(
        root.glob("*.py")
    ) or any(root.glob("src/**/*.py")):
        return _python_facts(root, name)
    if (root / "package.json").exists():
        return ProjectFacts(name, "node", "npm test", "coverage/cobertura-coverage.xml",
                            "npx --no-install eslint .", "npm run build --if-present")
    if (root / "go.mod").exists():
        return ProjectFacts(name, "go", "go test", None, "go vet ./...", "go build ./...")
    return ProjectFacts(name, "unknown", None, None, None, None)


def render_service(facts: ProjectFacts) -> str:
    """The text of ``service.yaml``."""
    return f"""\
# .pipeline/service.yaml: which service this is and how careful to be with it.
apiVersion: safeship/v1
kind: Service
name: {facts.name}
# Risk decides the mandatory gates (the guide's section 2.3):
#   low: compile + unit tests   medium: all tests + security scan
#   high: all gates + canary + approval for schema changes
#   critical: all gates + 24h canary + security review
risk: low
gates: gates.yaml
canary: canary-analysis.yaml
"""


def render_gates(facts: ProjectFacts) -> str:
    """The text of ``gates.yaml``: the guide's template adapted to ``facts``."""
    lint = (f"      - type: lint\n        command: \"{facts.lint_command}\"\n"
            if facts.lint_command else
            "      - type: lint\n        tool: (any linter)\n        threshold: error_free\n")
    build = (f"      - type: compile\n        command: \"{facts.build_command}\"\n"
             if facts.build_command else "      - type: compile\n")
    if facts.coverage_report:
        produce = {
            "pytest": "pytest --cov --cov-report=json",
            "unittest": "coverage run -m unittest && coverage json",
        }.get(facts.test_runner or "", "your test runner with a coverage report")
        coverage = (f"  - name: unit_test\n    gates:\n"
                    f"      # produce the report first: {produce}\n"
                    f"      - type: coverage\n        report: {facts.coverage_report}\n"
                    "        minimum: 80%\n        fail_on_below: true\n")
    else:
        coverage = ("  # - name: unit_test\n  #   gates:\n  #     - type: coverage\n"
                    "  #       report: coverage.xml   # Cobertura XML or coverage.py JSON\n"
                    "  #       minimum: 80%\n")
    return f"""\
# .pipeline/gates.yaml: the gates every change passes, stage by stage (guide section 2.2).
# Detected: {facts.language} project, tests: {facts.test_runner or "unknown"}.
# Gate types marked "later" are not in this release of safeship; they stay commented out.
version: 2
stages:
  - name: pre_commit
    gates:
{lint}      # later: - type: secret_scan
      #          pattern: "(?i)(password|secret|key).*=.+"
  - name: build
    gates:
{build}      # later: - type: sbom
      #          format: cyclonedx
      #          output: sbom.json
{coverage}  # later: - name: security_sast
  #          gates:
  #            - type: cve_check
  #              critical_severity: block
  #              high_severity: warn
  # Uncomment once your monitoring serves an error-budget endpoint:
  # - name: pre_deploy_slo
  #   type: api_call
  #   endpoint: "http://monitoring.internal/slo/{facts.name}/budget"
  #   condition: "budget_remaining > 0.05"   # >5% remaining
  #   fail_message: "Error budget too low - deploy blocked"
"""


ERROR_RATE_QUERY = (
    'sum(rate(http_requests_total{status=~\\"5..\\"}[2m])) / sum(rate(http_requests_total[2m]))'
)


def render_canary(facts: ProjectFacts) -> str:
    """The text of ``canary-analysis.yaml``: the guide's template for this service."""
    return f"""\
# .pipeline/canary-analysis.yaml: how a canary of {facts.name} is judged (guide section 4.5).
apiVersion: analysis/v1
kind: CanaryConfig
metadata:
  name: {facts.name}-canary
spec:
  steps:
    - percentage: 1
      duration: 5m
    - percentage: 5
      duration: 5m
    - percentage: 25
      duration: 10m
    - percentage: 100
      duration: 30m
  metrics:
    - name: error_rate
      query: "{ERROR_RATE_QUERY}"
      threshold:
        max_increase_ratio: 2.0 # canary cannot be 2x worse
    - name: latency_p95
      query: "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))"
      threshold:
        max_absolute_ms: 500
    - name: slo_burn_rate
      query: "(error_rate / (1 - 0.999))" # for 99.9% SLO
      threshold:
        max_absolute: 3
  rollback_on_failure: true
  failure_count_threshold: 1
"""


FILES: dict[str, Callable[[ProjectFacts], str]] = {
    "service.yaml": render_service,
    "gates.yaml": render_gates,
    "canary-analysis.yaml": render_canary,
}


def scaffold(root: Path, *, force: bool = False) -> tuple[ProjectFacts, list[Path]]:
    """Write ``root/.pipeline/*``; refuse to overwrite existing files unless ``force``."""
    facts = detect(root)
    folder = root / ".pipeline"
    targets = [folder / name for name in FILES]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(p) for p in existing)} already exist(s)",
            hint="pass --force to overwrite them",
        )
    folder.mkdir(parents=True, exist_ok=True)
    for path in targets:
        path.write_text(FILES[path.name](facts), encoding="utf-8")
    return facts, targets
