"""The canary-analysis spec every judge gets: the guide's three metrics, alpha, the steps.

The spec is written as a ``canary-analysis.yaml`` document and loaded through safeship's own
config layer, so the judges see exactly what a user's file would give them. Business scenarios
add a ``conversions`` metric (good events per request, direction decrease); scenarios at a 1 %
base error rate use a 99 % SLO in ``slo_burn_rate`` (see ``Scenario.slo_target``).
"""

from __future__ import annotations

from canary_sim.traffic import TrafficConfig
from safeship.config.canary_file import parse_canary_document
from safeship.config.yaml_source import parse_yaml
from safeship.model.canary import CanarySpec

BUSINESS_METRIC = "conversions"

_GUIDE_METRICS = """\
    - name: error_rate
      query: >-
        sum(rate(http_requests_total{status=~"5.."}[2m]))
        / sum(rate(http_requests_total[2m]))
      threshold:
        max_increase_ratio: 2.0
    - name: latency_p95
      query: "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))"
      threshold:
        max_absolute_ms: 500
    - name: slo_burn_rate
      query: "(error_rate / (1 - {slo}))"
      threshold:
        max_absolute: 3
"""

_BUSINESS = f"""\
    - name: {BUSINESS_METRIC}
      query: "sum(rate(conversions_total[2m])) / sum(rate(http_requests_total[2m]))"
      category: business
      direction: decrease
      threshold:
        min_ratio: 0.98
"""


def spec_yaml(config: TrafficConfig, *, alpha: float, business: bool,
              slo_target: float = 0.999) -> str:
    """The canary-analysis document for ``config``'s steps."""
    steps = "".join(f"    - percentage: {s.percentage:g}\n      duration: {s.duration_s:g}s\n"
                    for s in config.steps)
    metrics = _GUIDE_METRICS.replace("{slo}", f"{slo_target!r}") + (_BUSINESS if business else "")
    return (
        "apiVersion: analysis/v1\n"
        "kind: CanaryConfig\n"
        "metadata:\n"
        "  name: canary-detection-benchmark\n"
        "spec:\n"
        "  steps:\n"
        f"{steps}"
        "  metrics:\n"
        f"{metrics}"
        "  rollback_on_failure: true\n"
        "  failure_count_threshold: 1\n"
        "  judge:\n"
        f"    alpha: {alpha!r}\n"
    )


def build_spec(config: TrafficConfig, *, alpha: float, business: bool,
               slo_target: float = 0.999) -> CanarySpec:
    """Load :func:`spec_yaml` through safeship's config layer."""
    doc = parse_yaml(spec_yaml(config, alpha=alpha, business=business, slo_target=slo_target),
                     "benchmark")
    return parse_canary_document(doc)
