"""Offline vulnerability matching against an OSV advisory database (the ``cve_check`` engine).

* :mod:`.loader` reads a folder or zip of OSV JSON/YAML records (streaming; withdrawn skipped);
* :mod:`.index` groups advisories by PEP 503 name; :mod:`.ranges` evaluates PEP 440 ranges;
* :mod:`.cvss` computes CVSS v3.x base scores; :mod:`.severity` resolves a record's severity;
* :mod:`.policy` maps severity to block/warn/pass; :mod:`.ignores` reads the ignore list;
* :mod:`.scan` matches dependencies, merges aliases and decides;
* :mod:`.db_update` downloads the OSV PyPI export through the injected HTTP client factory.
"""

from __future__ import annotations

from safeship.scanners.osv.cvss import CvssError, cvss3_base_score
from safeship.scanners.osv.db_update import (
    DEFAULT_DB_PATH,
    OSV_PYPI_EXPORT,
    DownloadResult,
    download_database,
)
from safeship.scanners.osv.ignores import IgnoreEntry, load_ignore_file, parse_entries
from safeship.scanners.osv.index import AdvisoryIndex, normalize_name
from safeship.scanners.osv.loader import (
    GET_A_DATABASE,
    DatabaseUnavailable,
    LoadStats,
    OsvDatabase,
    load_database,
)
from safeship.scanners.osv.policy import Decision, SeverityPolicy
from safeship.scanners.osv.records import Advisory, parse_record
from safeship.scanners.osv.scan import ScanReport, ScanTarget, VulnerabilityFinding, scan
from safeship.scanners.osv.severity import SeverityAssessment, SeverityLevel, assess

__all__ = [
    "DEFAULT_DB_PATH",
    "GET_A_DATABASE",
    "OSV_PYPI_EXPORT",
    "Advisory",
    "AdvisoryIndex",
    "CvssError",
    "DatabaseUnavailable",
    "Decision",
    "DownloadResult",
    "IgnoreEntry",
    "LoadStats",
    "OsvDatabase",
    "ScanReport",
    "ScanTarget",
    "SeverityAssessment",
    "SeverityLevel",
    "SeverityPolicy",
    "VulnerabilityFinding",
    "assess",
    "cvss3_base_score",
    "download_database",
    "load_database",
    "load_ignore_file",
    "normalize_name",
    "parse_entries",
    "parse_record",
    "scan",
]
