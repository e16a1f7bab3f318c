"""An OpenFeature provider for Python apps, backed by the safeship flag service.

.. code-block:: python

    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext
    from safeship.openfeature import SafeshipProvider

    provider = SafeshipProvider("http://127.0.0.1:8700", token=READ_TOKEN,
                                environment="production")
    api.set_provider(provider)
    client = api.get_client()
    if client.get_boolean_value("new-checkout", False, EvaluationContext("user-42")):
        ...
    provider.record("new-checkout", "on", ok=True, latency_s=0.12)   # the outcome

The provider fetches a snapshot of the environment's flags, keeps it current over the
service's event stream (polling when the stream is unavailable), and evaluates in process
with the same evaluator as the service (:func:`safeship.flags.evaluate`), so results agree.
It needs only this package, :mod:`safeship.flags` and the HTTP client: no store, no server.
See :mod:`safeship.openfeature.provider` for what happens when the service is unreachable.
"""

from __future__ import annotations

from safeship.openfeature.counters import OutcomeCounts, VariantCounters
from safeship.openfeature.provider import SafeshipProvider
from safeship.openfeature.state import ProviderState, SyncState

__all__ = [
    "OutcomeCounts",
    "ProviderState",
    "SafeshipProvider",
    "SyncState",
    "VariantCounters",
]
