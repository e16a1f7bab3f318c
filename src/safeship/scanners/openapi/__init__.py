"""OpenAPI 3.0/3.1 breaking-change detection: spec loading, the diff walk and the rule catalogue.

``load_spec`` reads and validates a spec; ``diff_specs`` compares a base with a revision and
returns a :class:`DiffReport` of :class:`Change`\\ s, each with an oasdiff-compatible rule id
from :data:`RULES` and a :class:`Level` (ERR breaking, WARN maybe breaking, INFO not).
"""

from __future__ import annotations

from safeship.scanners.openapi.changes import Change, DiffReport
from safeship.scanners.openapi.context import DiffOptions
from safeship.scanners.openapi.diff import diff_specs
from safeship.scanners.openapi.document import Spec
from safeship.scanners.openapi.levels import Level
from safeship.scanners.openapi.loader import load_spec, parse_spec
from safeship.scanners.openapi.rules import RULES, SAFESHIP_RULES, Rule

__all__ = [
    "RULES", "SAFESHIP_RULES", "Change", "DiffOptions", "DiffReport", "Level", "Rule", "Spec",
    "diff_specs", "load_spec", "parse_spec",
]
