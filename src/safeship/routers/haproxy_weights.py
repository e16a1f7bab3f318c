"""Percent splits <-> HAProxy absolute server weights (0..256), both ways.

HAProxy balances ``roundrobin`` over *server* weights, each an integer from 0 to 256
(:data:`MAX_WEIGHT`); safeship speaks percent per *version*. A version's percent is shared
equally by its servers, so a server of version ``v`` has the share ``p_v / n_v``.

Conversion (:func:`to_server_weights`):

1. **Exact when possible.** The smallest multiplier ``m`` (1..256) that makes every share
   ``p_v / n_v * m`` a whole number no larger than 256 gives the weights. Whole percents over
   one server per version therefore map to themselves (90/10 -> 90 and 10), and 90/10 over two
   and one servers to 45, 45 and 10. The split HAProxy then serves is exactly the one asked for.
2. **Otherwise rounded.** The largest share is scaled to 256 and every other share by the same
   factor, rounded half up. A version with a positive percent never rounds down to 0: each of
   its servers gets at least 1, so a 0.1 % canary still receives traffic (slightly more than
   asked). The error per server is at most half a unit out of the largest server's 256.

A version at 0 % gets weight 0 on every server: HAProxy keeps the server (health checks go on,
pinned requests still reach it) but sends it no balanced traffic.

:func:`to_percent` is the read-back: the sum of a version's server weights over the sum of all
weights, in percent. All weights at 0 read back as 0 % for every version.
"""

from __future__ import annotations

from collections.abc import Mapping

from safeship.routers.weight_split import (
    WeightConversionError,
    server_key,
    to_percent,
    version_of,
)
from safeship.routers.weight_split import to_server_weights as _to_server_weights

__all__ = ["MAX_WEIGHT", "WeightConversionError", "server_name", "to_percent", "to_server_weights",
           "version_of"]

MAX_WEIGHT = 256
"""HAProxy refuses an absolute weight outside 0..256."""

server_name = server_key
"""The HAProxy server name of the ``index``-th (1-based) endpoint of a version."""


def to_server_weights(split: Mapping[str, float], servers: Mapping[str, int]) -> dict[str, int]:
    """Weight of every server for ``split`` (percent per version), at most :data:`MAX_WEIGHT`."""
    return _to_server_weights(split, servers, MAX_WEIGHT)
