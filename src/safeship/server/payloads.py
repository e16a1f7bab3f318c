"""The JSON the flag service sends, built as plain dicts (shapes in :mod:`.schemas`).

Definitions sent to evaluating clients (snapshots, stream events) are cut to one environment:
a client evaluates in one environment, and other environments' rules are none of its business.
A flag without that environment keeps an empty ``environments`` mapping, which evaluates as
disabled (its off variant), exactly as on the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from safeship.config.yaml_source import format_path
from safeship.flags import Evaluation
from safeship.flags.codec import flag_to_dict
from safeship.server.change_feed import ChangeNote
from safeship.store.flags import FlagChange, StoredFlag


def evaluation_payload(result: Evaluation) -> dict[str, Any]:
    """One evaluation's outcome (``EvaluationResult``)."""
    return {
        "flag": result.flag_key,
        "variant": result.variant,
        "value": result.value,
        "reason": result.reason.value,
        "rule_id": result.rule_id,
        "error_code": result.error_code.value if result.error_code else None,
        "error_message": result.error_message,
        "prerequisite": result.prerequisite,
    }


def stored_flag_payload(stored: StoredFlag, *, changed: bool | None = None) -> dict[str, Any]:
    """A stored flag with its whole definition (``StoredFlagResponse``)."""
    return {
        "flag": stored.flag.key,
        "version": stored.version,
        "changed": changed,
        "created_at": stored.created_at.isoformat(),
        "created_by": stored.created_by,
        "updated_at": stored.updated_at.isoformat(),
        "updated_by": stored.updated_by,
        "definition": flag_to_dict(stored.flag),
    }


def history_payload(key: str, changes: Iterable[FlagChange]) -> dict[str, Any]:
    """A flag's history (``HistoryResponse``)."""
    return {
        "flag": key,
        "changes": [
            {
                "version": change.version,
                "action": change.action,
                "actor": change.actor,
                "at": change.at.isoformat(),
                "reason": change.reason,
                "changes": [{"path": format_path(field.path), "before": field.before,
                             "after": field.after} for field in change.fields],
                "before": change.before,
                "after": change.after,
            }
            for change in changes
        ],
    }


def for_environment(document: dict[str, Any], environment: str) -> dict[str, Any]:
    """``document`` (a flag document) with only ``environment`` left in ``environments``."""
    environments = document.get("environments") or {}
    kept = {environment: environments[environment]} if environment in environments else {}
    return {**document, "environments": kept}


def snapshot_payload(environment: str, version: int,
                     flags: Iterable[StoredFlag]) -> dict[str, Any]:
    """Every flag of ``environment`` at data version ``version`` (``SnapshotResponse``)."""
    return {
        "environment": environment,
        "version": version,
        "flags": [
            {"key": stored.flag.key, "version": stored.version,
             "definition": for_environment(flag_to_dict(stored.flag), environment)}
            for stored in flags
        ],
    }


def change_payload(note: ChangeNote, environment: str) -> dict[str, Any]:
    """A ``change`` stream event for a client of ``environment`` (``StreamChange``)."""
    return {
        "version": note.version,
        "environment": environment,
        "flag": note.flag_key,
        "flag_version": note.flag_version,
        "action": note.action,
        "at": note.at.isoformat(),
        "definition": (None if note.definition is None
                       else for_environment(note.definition, environment)),
    }
