"""Consistent percentage bucketing: a stable key always lands in the same bucket of a flag.

``bucket(salt, key)`` hashes ``f"{salt}.{key}"`` with MurmurHash3 (32-bit, unsigned) and scales
the hash onto ``[0, BUCKETS)``. Scaling (``hash * BUCKETS >> 32``) instead of ``hash % BUCKETS``
keeps every bucket equally likely.

A split gives each variant a contiguous range of buckets, in the order the variants are listed.
A key is served the variant whose range holds its bucket. Two properties follow:

- **Monotonic rollouts.** Growing the first variant's weight (5 % -> 10 %) only moves the
  boundary up: every key that was in the first range stays there. The boolean rollout puts the
  "on" variant first for that reason.
- **Independent flags.** The salt defaults to the flag's key, so two flags put the same user
  into unrelated buckets: being in one flag's 10 % says nothing about another's.

``BUCKETS`` is 100,000, so weights are exact to 0.001 %.
"""

from __future__ import annotations

import mmh3

#: Number of buckets; a weight of ``w`` buckets is ``100 * w / BUCKETS`` percent.
BUCKETS = 100_000
_HASH_SPACE_BITS = 32


def bucket(salt: str, key: str) -> int:
    """The bucket of ``key`` in ``[0, BUCKETS)`` for a flag salted with ``salt``."""
    digest = mmh3.hash(f"{salt}.{key}", signed=False)
    return (digest * BUCKETS) >> _HASH_SPACE_BITS


def weight_of(fraction: float) -> int:
    """A fraction in [0, 1] (e.g. from ``parse_fraction("5%")``) as a number of buckets."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a fraction must be between 0 and 1, not {fraction}")
    return round(fraction * BUCKETS)


def percent_text(weight: int) -> str:
    """``weight`` buckets as exact percentage text: 5000 -> ``"5%"``, 5125 -> ``"5.125%"``."""
    whole, rest = divmod(weight * 100, BUCKETS)
    if rest == 0:
        return f"{whole}%"
    # BUCKETS * 1000 / 100 divides evenly, so three decimals are always exact.
    decimals = f"{rest * 1000 // BUCKETS:03d}".rstrip("0")
    return f"{whole}.{decimals}%"


def cumulative_bounds(weights: tuple[int, ...]) -> tuple[int, ...]:
    """The exclusive upper bucket of each range: weights (5000, 95000) -> (5000, 100000)."""
    bounds = []
    total = 0
    for weight in weights:
        total += weight
        bounds.append(total)
    return tuple(bounds)


def pick(bounds: tuple[int, ...], slot: int) -> int:
    """The index of the range (from :func:`cumulative_bounds`) that holds bucket ``slot``."""
    for index, upper in enumerate(bounds):
        if slot < upper:
            return index
    raise ValueError(f"bucket {slot} lies beyond the split's {bounds[-1] if bounds else 0}")
