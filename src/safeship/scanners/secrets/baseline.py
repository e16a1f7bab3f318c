"""The baseline: findings a team has reviewed and accepted, by fingerprint.

A baseline is a JSON file (``safeship secrets baseline`` writes it)::

    {"version": "safeship.secrets-baseline/v1",
     "findings": [{"fingerprint": "3f9c...", "rule_id": "generic-password",
                   "file": "tests/fixtures/db.env", "line": 3, "redacted": "S3c****"}]}

Only ``fingerprint`` decides: it covers the rule, the file and the secret, not the line, so an
accepted finding stays accepted when code above it moves, and a new secret in the same place is
reported. The other fields are there for the reviewer. Like every output, the file holds no
secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safeship.errors import ConfigError, ConfigProblem, NotFound, SourceLocation
from safeship.scanners.secrets.results import ScanReport

BASELINE_VERSION = "safeship.secrets-baseline/v1"


def load_baseline(path: Path) -> frozenset[str]:
    """The accepted fingerprints in ``path``; ConfigError (file:line) when it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"baseline file not found: {path}",
                       hint="create one with `safeship secrets baseline`") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(SourceLocation(str(path)), "",
                                         f"cannot read the baseline: {exc}")]) from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([ConfigProblem(SourceLocation(str(path), exc.lineno, exc.colno), "",
                                         f"invalid JSON: {exc.msg}")]) from exc
    problem = _shape_problem(data)
    if problem is not None:
        raise ConfigError([ConfigProblem(SourceLocation(str(path), 1), "findings", problem)],
                          hint="regenerate it with `safeship secrets baseline`")
    return frozenset(str(entry["fingerprint"]) for entry in data["findings"])


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        return "a baseline is an object with a `findings` list"
    if data.get("version", BASELINE_VERSION) != BASELINE_VERSION:
        return f"unsupported baseline version {data.get('version')!r}"
    for index, entry in enumerate(data["findings"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            return f"entry {index} has no `fingerprint` string"
    return None


def render_baseline(report: ScanReport) -> str:
    """The baseline JSON accepting every finding of ``report``."""
    entries = [
        {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "file": f.file, "line": f.line,
         "redacted": f.redacted, **({"commit": f.commit} if f.commit else {})}
        for f in report.findings
    ]
    unique = list({entry["fingerprint"]: entry for entry in entries}.values())
    return json.dumps({"version": BASELINE_VERSION, "findings": unique}, indent=2) + "\n"
