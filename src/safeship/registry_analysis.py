"""Name -> implementation tables of canary analysis: judges and metric providers.

Adding a judge or a provider means one new module and one line here. Kept apart from
``registry.py`` (gates) so that loading the gate pipeline does not import SciPy-heavy judges.
"""

from __future__ import annotations

from safeship.judge.interface import Judge
from safeship.judge.kayenta import kayenta_judge
from safeship.judge.sequential import sequential_judge
from safeship.judge.threshold import threshold_judge
from safeship.metrics.builtin import BuiltinProvider
from safeship.metrics.file import FileProvider
from safeship.metrics.interface import MetricsProvider
from safeship.metrics.prometheus import PrometheusProvider
from safeship.model.canary import JudgeName

JUDGES: dict[JudgeName, Judge] = {
    JudgeName.SEQUENTIAL: sequential_judge,
    JudgeName.KAYENTA: kayenta_judge,
    JudgeName.THRESHOLD: threshold_judge,
}

METRIC_PROVIDERS: dict[str, type[MetricsProvider]] = {
    "prometheus": PrometheusProvider,
    "file": FileProvider,
    "builtin": BuiltinProvider,
}


def judge_for(name: JudgeName) -> Judge:
    """The judge called ``name``."""
    return JUDGES[name]
