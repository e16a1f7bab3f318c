"""A real Prometheus holding days of known request counts, for the SLO integration tests.

Scraping cannot produce a week of history in a test, so the history is *backfilled*: the counts
are written as OpenMetrics text with explicit timestamps (one sample a minute over the last
three days, every five minutes before, ending at an anchor time close to now), turned into TSDB
blocks with ``promtool tsdb create-blocks-from openmetrics FILE DATA_DIR``, and Prometheus is
started on that data dir with a retention long enough to keep them (the shared
:class:`PrometheusServer` keeps 1 h, which would delete them).

Each service's traffic is a list of :class:`Phase` (newest first): a steady request rate with a
steady share of 5xx. The counters are piecewise linear in time, so ``increase`` over any window
is exact (Prometheus' extrapolation of a straight line is the line), and the expected budgets and
burn rates follow from the phases alone: :meth:`ServiceTraffic.counts`.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.integration.prometheus_server import PrometheusError, PrometheusServer, _free_port

STEP_S = 60
"""One sample a minute over the newest :data:`DENSE_S`: enough for increase() over 5m."""
DENSE_S = 3 * 86400 + 3600
"""The span sampled every minute (the policy's windows reach back 3 days)."""
SPARSE_STEP_S = 300
"""Older samples, every 5 minutes: only the 7-day window reaches them (fewer samples make
promtool faster). Every window boundary still falls on a sample."""
HISTORY_S = 8 * 86400
"""Eight days of history: a whole 7-day SLO window and then some."""


def sample_ages() -> list[int]:
    """Seconds before the anchor of every sample, oldest first."""
    sparse = range(HISTORY_S, DENSE_S, -SPARSE_STEP_S)
    dense = range(DENSE_S, -1, -STEP_S)
    return [*sparse, *dense]


@dataclass(frozen=True)
class Phase:
    """Steady traffic for ``seconds``: ``per_minute`` requests, ``bad_ratio`` of them 5xx."""

    seconds: int
    per_minute: float
    bad_ratio: float


@dataclass(frozen=True)
class ServiceTraffic:
    """The request history of one ``job``, newest phase first, ending at the anchor."""

    job: str
    phases: tuple[Phase, ...]

    def rate_at(self, age_s: float) -> tuple[float, float]:
        """``(requests, bad)`` per second at ``age_s`` seconds before the anchor."""
        start = 0.0
        for phase in self.phases:
            if age_s < start + phase.seconds:
                return phase.per_minute / 60, phase.per_minute / 60 * phase.bad_ratio
            start += phase.seconds
        return 0.0, 0.0

    def counts(self, window_s: float) -> tuple[float, float]:
        """``(total, bad)`` requests in the ``window_s`` seconds up to the anchor."""
        total = bad = 0.0
        start = 0.0
        for phase in self.phases:
            take = max(0.0, min(window_s, start + phase.seconds) - start)
            total += take * phase.per_minute / 60
            bad += take * phase.per_minute / 60 * phase.bad_ratio
            start += phase.seconds
        return total, bad

    def samples(self, anchor: int) -> list[str]:
        """OpenMetrics lines of ``http_requests_total{job, code}`` from oldest to the anchor."""
        good_lines: list[str] = []
        bad_lines: list[str] = []
        good = bad = 0.0
        previous: int | None = None
        for age in sample_ages():
            if previous is not None:
                # The step that just ended lies in one phase (phases start on whole minutes).
                step = previous - age
                requests, errors = self.rate_at(age + step / 2)
                good += (requests - errors) * step
                bad += errors * step
            previous = age
            stamp = anchor - age
            good_lines.append(f'http_requests_total{{job="{self.job}",code="200"}} '
                              f"{good!r} {stamp}")
            bad_lines.append(f'http_requests_total{{job="{self.job}",code="500"}} {bad!r} {stamp}')
        return good_lines + bad_lines


def openmetrics(services: Sequence[ServiceTraffic], anchor: int) -> str:
    """One OpenMetrics document holding every service's counters."""
    lines = ["# HELP http_requests Requests served.", "# TYPE http_requests counter"]
    for service in services:
        lines.extend(service.samples(anchor))
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def backfill(promtool: str, text: str, folder: Path) -> Path:
    """Write ``text`` to ``folder`` and turn it into TSDB blocks; returns the data dir."""
    source = folder / "history.om"
    data = folder / "data"
    source.write_text(text)
    result = subprocess.run(
        # Long blocks: the default 2 h blocks make promtool write ~100 blocks, which is slow.
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=240h",
         "--quiet", str(source), str(data)],
        capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise PrometheusError(f"promtool failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return data


class BackfilledPrometheus(PrometheusServer):
    """A Prometheus on a backfilled data dir, with no scrape targets and a 30-day retention."""

    def start_on(self, data: Path) -> None:
        """Start on ``data`` (a free port) and wait until it is ready."""
        config = self.base / "prometheus.yml"
        config.write_text("global: {scrape_interval: 15s, evaluation_interval: 15s}\n")
        self.port = _free_port()
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--storage.tsdb.retention.time=30d", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not self._wait_ready():
            self._terminate()
            raise PrometheusError(f"Prometheus did not become ready\n{self.log_tail()}")

    def wait_for_history(self, query: str, timeout_s: float = 20.0) -> None:
        """Poll until ``query`` has a value (the blocks are loaded)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.query(query):
                return
            time.sleep(0.1)
        raise PrometheusError(f"no data for {query} after {timeout_s} s\n{self.log_tail()}")

