"""A DAST baseline scanner in the spirit of the OWASP ZAP baseline, for running canaries.

What lives here:

* :mod:`.scan`: :func:`run_scan` and :class:`ScanConfig`, the one entry point;
* :mod:`.crawler`, :mod:`.links`, :mod:`.fetch`, :mod:`.urls`: the bounded same-origin crawl
  (GET only, limits on pages, time, requests and bytes);
* :mod:`.openapi`: seed the crawl with an OpenAPI document's GET paths;
* :mod:`.passive`, :mod:`.exposure`, :mod:`.active`: the rules (headers, cookies, disclosure,
  CORS; exposed ``.git``, ``.env`` and backups; reflected XSS, SQL errors, open redirects);
* :mod:`.rules`: the catalogue (ZAP-compatible ids, OWASP Top 10 2021, CWE, default levels);
* :mod:`.rules_file`: per-rule FAIL/WARN/INFO/IGNORE from a ZAP-style TSV or a YAML file;
* :mod:`.model`, :mod:`.report`: results, and their JSON, SARIF and gate-finding forms.
"""

from __future__ import annotations

from safeship.scanners.dast.model import Alert, Kind, Level, Risk, Rule, RuleResult, ScanReport
from safeship.scanners.dast.report import (
    render_scan_json,
    render_scan_sarif,
    scan_document,
    scan_findings,
)
from safeship.scanners.dast.rules import RULES
from safeship.scanners.dast.rules_file import RulesConfig, load_rules_file
from safeship.scanners.dast.scan import ScanConfig, check_target, run_scan

__all__ = [
    "RULES",
    "Alert",
    "Kind",
    "Level",
    "Risk",
    "Rule",
    "RuleResult",
    "RulesConfig",
    "ScanConfig",
    "ScanReport",
    "check_target",
    "load_rules_file",
    "render_scan_json",
    "render_scan_sarif",
    "run_scan",
    "scan_document",
    "scan_findings",
]
