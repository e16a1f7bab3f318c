"""The provider's copy of the flags: decoded from a snapshot, updated by stream events.

A :class:`Snapshot` is immutable: an update builds a new one and the provider swaps a single
reference, so an evaluation always sees one consistent set of flags without taking a lock.

Each flag keeps the version it had in the service. A ``change`` event is applied only when it
carries a newer flag version than the one held, so an event about a change the snapshot
already contains never takes a flag back. A definition that cannot be read (a newer document
format, a bug) does not sink the rest: that flag evaluates to the caller's default with
``PARSE_ERROR`` until a readable definition arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from safeship.errors import ConfigError, EndpointUnavailable
from safeship.flags import Flag
from safeship.flags.codec import flag_from_dict


@dataclass(frozen=True)
class Snapshot:
    """An environment's flags at a data version (see the module docstring)."""

    environment: str
    version: int
    flags: Mapping[str, Flag]
    flag_versions: Mapping[str, int]
    broken: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], etag: str | None) -> Snapshot:
        """The snapshot in a ``GET /v1/snapshot`` answer.

        Raises:
            EndpointUnavailable: the answer does not have a snapshot's shape.
        """
        environment = payload.get("environment")
        version = _version(payload.get("version"))
        entries = payload.get("flags")
        if not isinstance(environment, str) or version is None or not isinstance(entries,
                                                                                   list):
            raise EndpointUnavailable("the flag service sent a snapshot without environment, "
                                      "version or flags")
        flags: dict[str, Flag] = {}
        versions: dict[str, int] = {}
        broken: dict[str, str] = {}
        for entry in entries:
            key = entry.get("key") if isinstance(entry, dict) else None
            flag_version = _version(entry.get("version")) if isinstance(entry, dict) else None
            if not isinstance(key, str) or flag_version is None:
                raise EndpointUnavailable("the flag service sent a snapshot entry without a "
                                          "key or version")
            versions[key] = flag_version
            flag, problem = decode_flag(key, entry.get("definition"))
            if flag is not None:
                flags[key] = flag
            else:
                broken[key] = problem
        return cls(environment, version, MappingProxyType(flags),
                   MappingProxyType(versions), MappingProxyType(broken), etag)

    def with_change(self, change: Mapping[str, Any]) -> Snapshot | None:
        """This snapshot with a ``change`` event applied, or None when the event is stale or
        malformed (nothing to do)."""
        key = change.get("flag")
        flag_version = _version(change.get("flag_version"))
        version = _version(change.get("version"))
        if not isinstance(key, str) or flag_version is None or version is None:
            return None
        if self.flag_versions.get(key, 0) >= flag_version:
            return None
        flags = dict(self.flags)
        broken = dict(self.broken)
        flags.pop(key, None)
        broken.pop(key, None)
        flag, problem = decode_flag(key, change.get("definition"))
        if flag is not None:
            flags[key] = flag
        else:
            broken[key] = problem
        versions = {**self.flag_versions, key: flag_version}
        # The ETag named the old body: drop it, so the next fetch is a full one.
        return Snapshot(self.environment, max(self.version, version),
                        MappingProxyType(flags), MappingProxyType(versions),
                        MappingProxyType(broken), None)

    def changed_keys(self, newer: Snapshot) -> list[str]:
        """The flags whose version differs between this snapshot and ``newer`` (or that only
        one of them has), sorted."""
        keys = set(self.flag_versions) | set(newer.flag_versions)
        return sorted(k for k in keys if self.flag_versions.get(k) != newer.flag_versions.get(k))


def decode_flag(key: str, definition: Any) -> tuple[Flag | None, str]:
    """The flag ``key`` from its definition document, or None and why it cannot be read."""
    try:
        return flag_from_dict(definition, f"flag '{key}' from the flag service", key=key), ""
    except ConfigError as exc:
        return None, exc.message


def _version(value: Any) -> int | None:
    """``value`` when it is a version number (a whole number, not a boolean, >= 0)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
