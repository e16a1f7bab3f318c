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

import math
from collections.abc import Mapping

MAX_WEIGHT = 256
"""HAProxy refuses an absolute weight outside 0..256."""

_EPSILON = 1e-9


class WeightConversionError(ValueError):
    """A split cannot be expressed as server weights (a version has traffic but no servers)."""


def server_name(version: str, index: int) -> str:
    """The HAProxy server name of the ``index``-th (1-based) endpoint of ``version``."""
    return f"{version}-{index}"


def version_of(server: str) -> str:
    """The version a server name belongs to (the text before the last ``-``)."""
    version, sep, index = server.rpartition("-")
    if not sep or not version or not index.isdigit():
        raise ValueError(f"'{server}' is not a safeship server name (<version>-<n>)")
    return version


def to_server_weights(split: Mapping[str, float], servers: Mapping[str, int]) -> dict[str, int]:
    """Absolute weight of every server, keyed by :func:`server_name` (see module docstring).

    ``split`` gives percent per version (versions absent from it get 0); ``servers`` gives the
    number of servers of each version.
    """
    shares: dict[str, float] = {}
    for version, count in servers.items():
        percent = float(split.get(version, 0.0))
        if count <= 0:
            if percent > 0:
                raise WeightConversionError(
                    f"version '{version}' has {percent:g}% of the traffic but no endpoints"
                )
            continue
        shares[version] = percent / count
    for version, percent in split.items():
        if version not in servers and percent > 0:
            raise WeightConversionError(
                f"version '{version}' has {percent:g}% of the traffic but no endpoints"
            )
    per_version = _share_weights(shares)
    return {
        server_name(version, index): weight
        for version, weight in per_version.items()
        for index in range(1, servers[version] + 1)
    }


def _share_weights(shares: Mapping[str, float]) -> dict[str, int]:
    positive = [share for share in shares.values() if share > 0]
    if not positive:
        return dict.fromkeys(shares, 0)
    for multiplier in range(1, MAX_WEIGHT + 1):
        scaled = {version: share * multiplier for version, share in shares.items()}
        if all(abs(value - round(value)) < _EPSILON for value in scaled.values()):
            whole = {version: round(value) for version, value in scaled.items()}
            if max(whole.values()) <= MAX_WEIGHT:
                return whole
            break  # larger multipliers only grow the weights
    factor = MAX_WEIGHT / max(positive)
    return {
        version: 0 if share <= 0 else max(1, min(MAX_WEIGHT, math.floor(share * factor + 0.5)))
        for version, share in shares.items()
    }


def to_percent(server_weights: Mapping[str, int]) -> dict[str, float]:
    """Percent per version from absolute server weights (the read-back)."""
    totals: dict[str, int] = {}
    for server, weight in server_weights.items():
        version = version_of(server)
        totals[version] = totals.get(version, 0) + weight
    grand = sum(totals.values())
    if grand <= 0:
        return dict.fromkeys(totals, 0.0)
    return {version: 100.0 * total / grand for version, total in totals.items()}
