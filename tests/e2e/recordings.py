"""Recorded metrics for `safeship analyze` tests: the file provider's JSON for each arm.

Traffic is generated with a seeded RNG: per 10 s interval each arm gets 40 requests per second,
errors are binomial at the arm's error rate, latencies lognormal around the arm's median.
Counters are cumulative, as Prometheus scrapes them; the guide's three metrics are recorded as
series too, so every judge has what it needs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5)


def _arm(rng: np.random.Generator, start: float, intervals: int, rps: float, error_rate: float,
         median_s: float) -> dict[str, object]:
    requests = errors = 0
    buckets = dict.fromkeys(BUCKETS, 0)
    counters: dict[str, list[list[float]]] = {"requests": [], "errors": []}
    bucket_points: dict[str, list[list[float]]] = {str(b): [] for b in BUCKETS}
    bucket_points["+Inf"] = []
    error_series: list[list[float]] = []
    p95_series: list[list[float]] = []
    for i in range(intervals + 1):
        at = start + 10 * i
        if i:
            n = int(rng.poisson(rps * 10))
            k = int(rng.binomial(n, error_rate))
            latencies = rng.lognormal(math.log(median_s), 0.4, n)
            requests += n
            errors += k
            for bound in BUCKETS:
                buckets[bound] += int((latencies <= bound).sum())
            error_series.append([at, k / n if n else math.nan])
            p95_series.append([at, float(np.quantile(latencies, 0.95)) if n else math.nan])
        counters["requests"].append([at, requests])
        counters["errors"].append([at, errors])
        for bound in BUCKETS:
            bucket_points[str(bound)].append([at, buckets[bound]])
        bucket_points["+Inf"].append([at, requests])
    return {
        "metrics": {"error_rate": error_series, "latency_p95": p95_series},
        "counters": {**counters, "latency_buckets": bucket_points},
    }


def write_recordings(folder: Path, *, canary_error_rate: float, canary_median_s: float = 0.08,
                     intervals: int = 120, seed: int = 7) -> tuple[Path, Path]:
    """Write baseline.json and canary.json; the baseline has 1 % errors and 80 ms medians."""
    rng = np.random.default_rng(seed)
    start = 1_795_676_400.0
    baseline = _arm(rng, start, intervals, 40, 0.01, 0.08)
    canary = _arm(rng, start, intervals, 40, canary_error_rate, canary_median_s)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "baseline.json", folder / "canary.json"
    for path, arm in zip(paths, (baseline, canary), strict=True):
        path.write_text(json.dumps(arm).replace("NaN", "null"))
    return paths
