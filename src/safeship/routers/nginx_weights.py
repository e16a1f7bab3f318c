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

import math
from collections.abc import Mapping

MAX_WEIGHT = 1000
"""NGINX has no small upper bound; 1000 gives 0.1 % resolution and readable configs."""

_EPSILON = 1e-9


class WeightConversionError(ValueError):
    """A split cannot be expressed as server weights (a version has traffic but no servers)."""


def server_key(version: str, index: int) -> str:
    """The key safeship gives the ``index``-th (1-based) endpoint of ``version``."""
    return f"{version}-{index}"


def version_of(key: str) -> str:
    """The version a server key belongs to (the text before the last ``-``)."""
    version, sep, index = key.rpartition("-")
    if not sep or not version or not index.isdigit():
        raise ValueError(f"'{key}' is not a safeship server key (<version>-<n>)")
    return version


def to_server_weights(split: Mapping[str, float], servers: Mapping[str, int]) -> dict[str, int]:
    """Weight of every server keyed by :func:`server_key`; 0 means render ``down``."""
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
        server_key(version, index): weight
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
    """Percent per version from server weights (0 = ``down``); all down reads as 0 % each."""
    totals: dict[str, int] = {}
    for key, weight in server_weights.items():
        version = version_of(key)
        totals[version] = totals.get(version, 0) + weight
    grand = sum(totals.values())
    if grand <= 0:
        return dict.fromkeys(totals, 0.0)
    return {version: 100.0 * total / grand for version, total in totals.items()}
