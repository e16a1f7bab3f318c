"""Report writers: turn a finished ``PipelineRun`` into text for people, CI systems and viewers.

Every writer is a pure function of the run; the CLI picks one and writes its string to stdout or
``--output FILE``. Nothing here reads configuration, so no secret from it can leak into a report.

- ``render_json`` / ``render_runs_json``: the stable ``safeship.pipeline-run/v1`` JSON document.
- ``render_junit``: JUnit XML for GitLab and Jenkins.
- ``render_sarif``: SARIF 2.1.0 for GitHub code scanning.
- ``render_github``: GitHub Actions workflow-command annotations.
- ``render_table`` / ``render_history``: Rich tables on a console; ``render_plain``: plain text.

Canary analysis (an ``AnalysisReport`` judged under a ``CanarySpec``):

- ``render_analysis_json``: the stable ``safeship.canary-analysis/v1`` JSON document.
- ``render_analysis_table``: a Rich table on a console; ``render_analysis_plain``: plain text.
- ``render_analysis_html``: one self-contained, offline HTML page with a plot per metric.
"""

from __future__ import annotations

from safeship.report.analysis_html import render_analysis_html
from safeship.report.analysis_json import render_analysis_json
from safeship.report.analysis_table import render_analysis_plain, render_analysis_table
from safeship.report.github import render_github
from safeship.report.json_report import render_json, render_runs_json
from safeship.report.junit import render_junit
from safeship.report.sarif import render_sarif
from safeship.report.table import render_history, render_plain, render_table

__all__ = [
    "render_analysis_html",
    "render_analysis_json",
    "render_analysis_plain",
    "render_analysis_table",
    "render_github",
    "render_history",
    "render_json",
    "render_junit",
    "render_plain",
    "render_runs_json",
    "render_sarif",
    "render_table",
]
