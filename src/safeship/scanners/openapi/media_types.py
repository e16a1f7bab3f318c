"""Pairs the media types of a request body or response in the base with the revision's.

Exact names pair first; then names with the same type/subtype that differ only in parameters
(``application/json; charset=utf-8``); then a wildcard (``application/*``, ``*/*``) with a type
it covers. What is left was added or removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Relation(StrEnum):
    """How a paired revision media type relates to the base one."""

    SAME = "same"
    RENAMED = "renamed"
    GENERALIZED = "generalized"
    SPECIALIZED = "specialized"


def essence(media: str) -> str:
    """``Application/JSON; charset=utf-8`` -> ``application/json``."""
    return media.split(";", 1)[0].strip().lower()


def covers(general: str, specific: str) -> bool:
    """True when the (wildcard) media type ``general`` includes ``specific``."""
    g, s = essence(general), essence(specific)
    if g == "*/*" or g == s:
        return True
    gtype, _, gsub = g.partition("/")
    stype, _, _ = s.partition("/")
    return gsub == "*" and gtype == stype


@dataclass(frozen=True)
class MediaMatch:
    """The outcome of pairing: pairs with their relation, and the leftovers."""

    pairs: tuple[tuple[str, str, Relation], ...]
    removed: tuple[str, ...]
    added: tuple[str, ...]


def match_media(base: Iterable[str], rev: Iterable[str], *,
                allow_specialized: bool = True) -> MediaMatch:
    """Pair ``base`` media types with ``rev`` ones (see the module docstring)."""
    left, right = list(base), list(rev)
    pairs: list[tuple[str, str, Relation]] = []

    def take(test: Callable[[str, str], bool], relation: Relation) -> None:
        for b in list(left):
            match = next((r for r in right if test(b, r)), None)
            if match is not None:
                pairs.append((b, match, relation))
                left.remove(b)
                right.remove(match)

    take(lambda b, r: b == r, Relation.SAME)
    take(lambda b, r: essence(b) == essence(r), Relation.RENAMED)
    take(lambda b, r: covers(r, b), Relation.GENERALIZED)
    if allow_specialized:
        take(lambda b, r: covers(b, r), Relation.SPECIALIZED)
    return MediaMatch(tuple(pairs), tuple(left), tuple(right))
