"""Strict Semantic Versioning 2.0.0: parsing and precedence for the ``semver_*`` rule operators.

``packaging.version`` implements PEP 440, not SemVer: it rewrites ``1.0.0-rc.1`` to ``1.0.0rc1``
and refuses pre-releases such as ``1.0.0-x.7.z.92``, so the rules use this small comparator.

Accepted: ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` exactly as in semver.org's grammar (no
leading zeros in numeric parts, non-empty dot-separated identifiers), with one tolerance: a
single leading ``v`` (``v2.1.0``), because git tags and app stores commonly carry it.

Precedence follows the specification, section 11: numeric core first; a pre-release sorts
before its release; pre-release identifiers compare left to right, numbers numerically and
below alphanumerics, and a longer list wins when all shared identifiers are equal. Build
metadata never affects precedence, so ``1.0.0+a`` and ``1.0.0+b`` are equal here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# semver.org's recommended regular expression, written out with named groups.
_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# Longer text is not a version anyone ships; refusing it bounds the regex's work.
MAX_VERSION_LENGTH = 256

# A pre-release identifier as a sort key: numbers (0, n) sort below alphanumerics (1, text).
_Identifier = tuple[int, int | str]
#: What :meth:`Version.key` returns: (major, minor, patch, is-release, pre-release keys).
PrecedenceKey = tuple[int, int, int, int, tuple[_Identifier, ...]]


class SemverSyntaxError(ValueError):
    """Raised for text that is not a SemVer 2.0 version; the message shows the expected form."""


@dataclass(frozen=True, order=False)
class Version:
    """A parsed version.

    ``<``, ``<=``, ``>`` and ``>=`` follow SemVer precedence; ``==`` is structural (it sees
    build metadata), so test equal precedence with ``compare(a, b) == 0`` or :meth:`key`.
    """

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def key(self) -> PrecedenceKey:
        """The precedence key: equal keys mean equal precedence (build metadata ignored)."""
        # A release (no pre-release) sorts after every pre-release of the same core.
        release = 1 if not self.prerelease else 0
        return (self.major, self.minor, self.patch, release,
                tuple(_identifier_key(part) for part in self.prerelease))

    def __lt__(self, other: Version) -> bool:
        return self.key() < other.key()

    def __le__(self, other: Version) -> bool:
        return self.key() <= other.key()

    def __gt__(self, other: Version) -> bool:
        return self.key() > other.key()

    def __ge__(self, other: Version) -> bool:
        return self.key() >= other.key()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text


def _identifier_key(part: str) -> _Identifier:
    return (0, int(part)) if part.isdigit() else (1, part)


def parse_version(text: str) -> Version:
    """``text`` as a :class:`Version`; raises :class:`SemverSyntaxError` if it is not one."""
    if not isinstance(text, str):
        raise SemverSyntaxError(f"{text!r} is not a version; write e.g. 2.1.0 or 2.1.0-rc.1")
    if len(text) > MAX_VERSION_LENGTH:
        raise SemverSyntaxError(f"a version is at most {MAX_VERSION_LENGTH} characters long")
    match = _SEMVER.match(text)
    if match is None:
        raise SemverSyntaxError(
            f"'{text}' is not a semantic version; write MAJOR.MINOR.PATCH with optional "
            "-prerelease and +build parts, e.g. 2.1.0 or 2.1.0-rc.1"
        )
    pre = match.group("pre")
    build = match.group("build")
    return Version(
        int(match.group("major")), int(match.group("minor")), int(match.group("patch")),
        tuple(pre.split(".")) if pre else (), tuple(build.split(".")) if build else (),
    )


@lru_cache(maxsize=4096)
def precedence_key(text: str) -> PrecedenceKey | None:
    """The precedence key of ``text``, or None when it is not a version.

    Memoised: a fleet reports few distinct app versions, and rules compare them on every
    evaluation.
    """
    try:
        return parse_version(text).key()
    except SemverSyntaxError:
        return None


def compare(left: Version, right: Version) -> int:
    """-1, 0 or 1 as ``left`` has lower, equal or higher precedence than ``right``."""
    a, b = left.key(), right.key()
    return (a > b) - (a < b)
