"""The secret scanner behind ``safeship secrets scan`` and the ``secret_scan`` gate.

Modules, from the bottom up:

- ``rules``: the rule model (gitleaks-compatible); ``go_regex``: RE2 -> Python regex syntax;
  ``gitleaks_toml``: loading gitleaks-style TOML rule files; ``default_rules``: the built-in rule
  set; ``ruleset``: assembling defaults, a TOML file and the guide's ``pattern:``;
- ``entropy``, ``placeholders``, ``assignment``, ``validators``: the filters that keep noise down;
- ``prefilter``: which rules can match a text (keywords; hyperscan when installed);
- ``engine``: rules applied to one text; ``redaction``: what a secret becomes in any output;
- ``scanner``: walking a tree safely and in parallel; ``git_sources``: staged changes and
  history; ``baseline``: accepted findings; ``results``: the report.
"""

from __future__ import annotations

from safeship.scanners.secrets.baseline import load_baseline, render_baseline
from safeship.scanners.secrets.engine import Detector
from safeship.scanners.secrets.results import ScanReport, SecretFinding, SkippedFile
from safeship.scanners.secrets.ruleset import PATTERN_RULE_ID, default_ruleset, load_ruleset
from safeship.scanners.secrets.scanner import (
    DEFAULT_MAX_FILE_BYTES,
    ScanOptions,
    scan_blobs,
    scan_paths,
)

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "PATTERN_RULE_ID",
    "Detector",
    "ScanOptions",
    "ScanReport",
    "SecretFinding",
    "SkippedFile",
    "default_ruleset",
    "load_baseline",
    "load_ruleset",
    "render_baseline",
    "scan_blobs",
    "scan_paths",
]
