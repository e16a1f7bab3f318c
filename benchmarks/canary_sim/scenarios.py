"""The named scenarios: what differs between canary and baseline, and whether rolling back is right.

A scenario only describes effects; the traffic model (``traffic.py``) turns it into counters.
``harmful`` says whether a ROLLBACK is the right answer: for A/A-like scenarios (``aa``,
``global_incident``, ``bad_baseline_pod``, ``aa_pareto``, ``aa_business``) every ROLLBACK is a
false rollback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Onset(StrEnum):
    """When a canary regression begins."""

    START = "start"
    """From the first canary request."""
    MID_STEP = "mid_step"
    """Halfway through the first step (a leak shipped behind a flag, a cache that fills up)."""


class LatencyFamily(StrEnum):
    """Shape of the latency distribution."""

    LOGNORMAL = "lognormal"
    PARETO_TAIL = "pareto_tail"
    """Lognormal body up to the 90th percentile, Pareto tail above it (``pareto_alpha``)."""


class BadPod(StrEnum):
    """Which arm, if any, has one pod that errors a lot."""

    NONE = "none"
    BASELINE = "baseline"
    CANARY = "canary"


@dataclass(frozen=True)
class Scenario:
    """One scenario. Multipliers apply to the canary from the regression onset on."""

    id: str
    description: str
    harmful: bool
    base_error_rate: float = 0.001
    canary_error_mult: float = 1.0
    canary_latency_scale: float = 1.0
    """Every latency quantile of the canary x this (a whole-distribution shift)."""
    canary_tail_p95_mult: float = 1.0
    """Tail-only regression: above the 90th percentile the canary gets a Pareto tail whose
    95th percentile is this multiple of the baseline's; the median is unchanged."""
    canary_conversion_mult: float = 1.0
    business: bool = False
    """The spec guards a business metric (``conversions``, good events, direction decrease)."""
    onset: Onset = Onset.START
    incident_mult: float = 1.0
    """Both arms' error rates x this during a global incident."""
    incident_minutes: float = 10.0
    bad_pod: BadPod = BadPod.NONE
    bad_pod_mult: float = 10.0
    latency_family: LatencyFamily = LatencyFamily.LOGNORMAL
    slo_target: float = 0.999
    """The SLO in the spec's ``slo_burn_rate = error_rate / (1 - slo)``. A service failing 1 %
    of its requests cannot hold a 99.9 % SLO: its baseline alone would burn 10x the budget and
    every judge that honours the guide's ``max_absolute: 3`` would roll back whatever the canary
    did. Scenarios at a 1 % base rate therefore use a 99 % SLO."""

    @property
    def false_rollback_scenario(self) -> bool:
        """True when any ROLLBACK is wrong."""
        return not self.harmful


def _errors(mult: float, base_pct: str, base: float) -> Scenario:
    return Scenario(f"errors_x{mult:g}_base{base_pct}",
                    f"canary error rate x{mult:g} at a {base_pct} % base rate",
                    harmful=True, base_error_rate=base, canary_error_mult=mult,
                    slo_target=_slo_for(base))


def _slo_for(base_error_rate: float) -> float:
    return 0.999 if base_error_rate < 0.005 else 0.99


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("aa", "A/A: canary identical to baseline", harmful=False),
    *(_errors(m, "0.1", 0.001) for m in (1.5, 2.0, 5.0)),
    *(_errors(m, "1", 0.01) for m in (1.5, 2.0, 5.0)),
    Scenario("p50_plus10", "every latency quantile +10 % (p50 +10 %)", harmful=True,
             canary_latency_scale=1.10),
    Scenario("p95_plus20", "every latency quantile +20 % (p95 +20 %)", harmful=True,
             canary_latency_scale=1.20),
    Scenario("p99_plus50", "every latency quantile +50 % (p99 +50 %)", harmful=True,
             canary_latency_scale=1.50),
    Scenario("tail_p95_plus20", "tail only: Pareto tail above p90, p95 +20 %, median unchanged",
             harmful=True, canary_tail_p95_mult=1.20),
    Scenario("conversions_minus2", "conversions per request -2 % (business metric)",
             harmful=True, canary_conversion_mult=0.98, business=True),
    Scenario("mid_step", "errors x2 at a 1 % base rate, starting halfway through the 1 % step",
             harmful=True, base_error_rate=0.01, canary_error_mult=2.0, onset=Onset.MID_STEP,
             slo_target=_slo_for(0.01)),
    Scenario("global_incident", "both arms' errors x5 for 10 min during the 1 % step; "
             "canary not worse", harmful=False, incident_mult=5.0),
    Scenario("bad_baseline_pod", "one of 4 baseline pods errors x10 (bursty); canary fine",
             harmful=False, bad_pod=BadPod.BASELINE),
    Scenario("bad_canary_pod", "one of 4 canary pods errors x10 (bursty)", harmful=True,
             bad_pod=BadPod.CANARY),
    Scenario("aa_pareto", "A/A with Pareto-tailed latency on both arms", harmful=False,
             latency_family=LatencyFamily.PARETO_TAIL),
    Scenario("aa_business", "A/A with conversions guarded (business metric)", harmful=False,
             business=True),
)

BY_ID: dict[str, Scenario] = {s.id: s for s in SCENARIOS}


def scenario(scenario_id: str) -> Scenario:
    """The scenario called ``scenario_id``; KeyError with the known ids otherwise."""
    try:
        return BY_ID[scenario_id]
    except KeyError:
        raise KeyError(f"unknown scenario {scenario_id!r}; known: {', '.join(BY_ID)}") from None
