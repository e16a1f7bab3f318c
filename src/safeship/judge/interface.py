"""The judge family's contract.

A judge is a pure, deterministic function ``(AnalysisInput, CanarySpec) -> AnalysisVerdict``:
no I/O, no clock (the input carries ``now``), no unseeded randomness. Every verdict explains
itself per metric. Missing data, NaN, an empty metric set never give PROCEED.
"""

from __future__ import annotations

from typing import Protocol

from safeship.model.analysis import AnalysisInput, AnalysisVerdict
from safeship.model.canary import CanarySpec


class Judge(Protocol):
    """Decides at one point in time from all the evidence so far."""

    def __call__(self, data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
        """Judge ``data`` under ``spec``."""
        ...
