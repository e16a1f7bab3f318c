"""Percent splits <-> NGINX upstream server weights, both ways.

NGINX's weighted round robin takes an integer ``weight=N`` per ``server`` with ``N >= 1``:
``weight=0`` is a configuration error, so a server that must take no traffic is written
``down`` instead (represented here by weight 0). safeship speaks percent per *version*; a
version's percent is shared equally by its servers, so a server of version ``v`` has the share
``p_v / n_v``.

Conversion (:func:`to_server_weights`):

1. **Exact when possible.** The smallest multiplier ``m`` (1..:data:`MAX_WEIGHT`) that makes
   every share ``p_v / n_v * m`` a whole number no larger than :data:`MAX_WEIGHT` gives the
   weights. Whole percents over one server per version map to themselves (90/10 -> 90 and 10);
   one decimal place needs at most ``m = 10`` (2.5/97.5 -> 5 and 195 with ``m = 2``;
   0.1/99.9 -> 1 and 999 with ``m = 10``).
2. **Otherwise rounded.** The largest share is scaled to :data:`MAX_WEIGHT` and every other
   share by the same factor, rounded half up. A version with a positive percent never rounds
   down to ``down``: each of its servers keeps at least ``weight=1`` (a 0.01 % canary gets
   about 0.1 %). The error per server is at most half a unit out of the largest server's 1000.

A version at 0 % has all its servers ``down`` in the balanced upstream; its pinned upstream is
untouched, so requests pinned to it still reach it.

:func:`to_percent` is the read-back over the weights parsed from the running config.
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

__all__ = ["MAX_WEIGHT", "WeightConversionError", "server_key", "to_percent", "to_server_weights",
           "version_of"]

MAX_WEIGHT = 1000
"""NGINX has no small upper bound; 1000 gives 0.1 % resolution and readable configs."""


def to_server_weights(split: Mapping[str, float], servers: Mapping[str, int]) -> dict[str, int]:
    """Weight of every server for ``split`` (percent per version), at most :data:`MAX_WEIGHT`."""
    return _to_server_weights(split, servers, MAX_WEIGHT)
