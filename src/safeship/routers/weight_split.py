"""Percent splits <-> whole server weights, shared by the routers that weight servers.

1. **Exact when possible.** The smallest multiplier ``m`` (1..``max_weight``) that makes every
   share ``p_v / n_v * m`` (a version's percent over its number of servers) a whole number no
   larger than ``max_weight`` gives the weights: 90/10 over one server each maps to 90 and 10.
2. **Otherwise rounded.** The largest share is scaled to ``max_weight`` and every other share by
   the same factor, rounded half up. A version with a positive percent never rounds down to 0,
   so a tiny canary still receives traffic (slightly more than asked).

A version at 0 % gets weight 0 on every server (HAProxy: weight 0; NGINX: ``down``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

_EPSILON = 1e-9


class WeightConversionError(ValueError):
    """A split cannot be expressed as server weights (a version has traffic but no servers)."""


def server_key(version: str, index: int) -> str:
    """The name safeship gives the ``index``-th (1-based) endpoint of ``version``."""
    return f"{version}-{index}"


def version_of(server: str) -> str:
    """The version a server name belongs to (the text before the last ``-``)."""
    version, sep, index = server.rpartition("-")
    if not sep or not version or not index.isdigit():
        raise ValueError(f"'{server}' is not a safeship server name (<version>-<n>)")
    return version


def to_server_weights(split: Mapping[str, float], servers: Mapping[str, int],
                      max_weight: int) -> dict[str, int]:
    """Weight (0..``max_weight``) of every server, keyed by :func:`server_key`.

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
    per_version = _share_weights(shares, max_weight)
    return {
        server_key(version, index): weight
        for version, weight in per_version.items()
        for index in range(1, servers[version] + 1)
    }


def _share_weights(shares: Mapping[str, float], max_weight: int) -> dict[str, int]:
    positive = [share for share in shares.values() if share > 0]
    if not positive:
        return dict.fromkeys(shares, 0)
    for multiplier in range(1, max_weight + 1):
        scaled = {version: share * multiplier for version, share in shares.items()}
        if all(abs(value - round(value)) < _EPSILON for value in scaled.values()):
            whole = {version: round(value) for version, value in scaled.items()}
            if max(whole.values()) <= max_weight:
                return whole
            break  # larger multipliers only grow the weights
    factor = max_weight / max(positive)
    return {
        version: 0 if share <= 0 else max(1, min(max_weight, math.floor(share * factor + 0.5)))
        for version, share in shares.items()
    }


def to_percent(server_weights: Mapping[str, int]) -> dict[str, float]:
    """Percent per version from server weights (the read-back; all 0 reads as 0 % each)."""
    totals: dict[str, int] = {}
    for server, weight in server_weights.items():
        version = version_of(server)
        totals[version] = totals.get(version, 0) + weight
    grand = sum(totals.values())
    if grand <= 0:
        return dict.fromkeys(totals, 0.0)
    return {version: 100.0 * total / grand for version, total in totals.items()}
