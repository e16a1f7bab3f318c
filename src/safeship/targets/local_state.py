"""The ``local`` target's state file: which instances it started, so a restarted controller
can find them again (and keep or stop them) instead of leaving orphans.

The file is small JSON, replaced atomically after every change. A file that cannot be read is
an error, never an empty state: forgetting instances would orphan them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from safeship.targets.interface import TargetUnavailable

STATE_FORMAT = "safeship.local-target/v1"
STATE_FILE = "instances.json"


@dataclass(frozen=True)
class InstanceRecord:
    """One started instance, as written to the state file."""

    version: str
    index: int
    instance_id: str
    host: str
    port: int
    pid: int
    pgid: int
    start_ticks: int | None
    marker: str
    log: str
    artifact: str | None = None
    artifact_sha256: str | None = None


def load_records(path: Path) -> list[InstanceRecord]:
    """The records in ``path`` (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise TargetUnavailable(f"cannot read the local target state {path}: {exc}") from exc
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} document")
        return [_record(item) for item in data["instances"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise TargetUnavailable(
            f"the local target state {path} is unreadable: {exc}",
            hint="stop the processes it lists by hand, then delete the file",
        ) from exc


def save_records(path: Path, records: list[InstanceRecord]) -> None:
    """Replace ``path`` atomically with ``records``."""
    document = {"format": STATE_FORMAT, "instances": [asdict(r) for r in records]}
    temp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(path)
    except OSError as exc:
        raise TargetUnavailable(f"cannot write the local target state {path}: {exc}") from exc


def _record(item: Any) -> InstanceRecord:
    if not isinstance(item, dict):
        raise TypeError("an instance entry is not an object")
    record = InstanceRecord(**item)
    for name in ("index", "port", "pid", "pgid"):
        value = getattr(record, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"instance {record.instance_id!r}: {name} is not a number")
    if record.pid <= 1 or record.pgid <= 1:
        # Signalling group 0 or 1 would hit this controller or every process we may signal.
        raise ValueError(f"instance {record.instance_id!r}: pid {record.pid} is not plausible")
    return record
