"""The ``file`` metric provider: metrics and counters recorded as JSON, one file per arm.

The format (every part optional)::

    {
      "meta": {...},                                   free-form, ignored
      "metrics": {
        "error_rate": [0.01, 0.02, null],              values only: one per step from the
                                                       window's start, never filtered
        "latency_p95": [[1700000000, 0.21], ...]       [unix seconds, value]: kept when inside
      },                                               the window
      "counters": {                                    cumulative, like Prometheus counters
        "requests": [[1700000000, 1200], ...],
        "errors": [[1700000000, 3], ...],
        "latency_buckets": {"0.1": [[ts, n], ...], ..., "+Inf": [[ts, n], ...]},
        "good_events": {"checkout_success": [[ts, n], ...]}
      }
    }

Values may be ``null`` or ``"NaN"`` (missing: NaN); numeric strings such as ``"+Inf"`` are
read as numbers, as Prometheus writes them. Timestamps must increase.

Counters are converted to per-interval increases between successive samples inside the window,
each labelled with the later sample's time. All counters share one time grid (the union of
their timestamps); a counter without a sample at a grid time gives NaN for the intervals
around it. A value that drops is a counter reset and counts as in Prometheus' ``increase``
(:func:`safeship.metrics.derived.counter_deltas`).

A metric the file does not have is an empty series (the judge reports Nodata), not an error. A
file that is not JSON, or has the wrong shape, raises :class:`~safeship.errors.ConfigError`
naming the file, line, column and field path. Positions of shape errors come from a second,
position-tracking scan of the (already validated) text: it walks the JSON structure with the
standard decoder's ``raw_decode`` for every scalar and key and records where each value starts,
so an error points at the offending value itself.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from safeship.errors import (
    ConfigError,
    ConfigProblem,
    InternalError,
    MetricsUnavailable,
    NotFound,
    SourceLocation,
)
from safeship.metrics.derived import counter_deltas
from safeship.metrics.interface import MetricsProvider, ProviderOptions, TimeRange
from safeship.model.analysis import Arm, ArmCounts, Series
from safeship.model.canary import CanaryMetric, CanarySpec, Scope

PathKey = tuple[str | int, ...]
Points = tuple[tuple[float, float], ...]

_TOP_KEYS = ("meta", "metrics", "counters")
_COUNTER_KEYS = ("requests", "errors", "latency_buckets", "good_events")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FileOptions(ProviderOptions):
    """Options of ``type: file``: the recording of each arm."""

    baseline: str = Field(description="JSON recording of the baseline (relative to the "
                                      "config directory).")
    canary: str = Field(description="JSON recording of the canary.")


@dataclass(frozen=True)
class RecordedMetric:
    """One metric's recorded values; ``timestamps`` is None for a bare list of values."""

    values: tuple[float, ...]
    timestamps: tuple[float, ...] | None = None


@dataclass(frozen=True)
class RecordedCounters:
    """Cumulative counter samples as ``(timestamp, value)`` points."""

    requests: Points = ()
    errors: Points = ()
    latency_buckets: Mapping[float, Points] = field(default_factory=dict)
    good_events: Mapping[str, Points] = field(default_factory=dict)


@dataclass(frozen=True)
class Recording:
    """A parsed recording of one arm."""

    path: str
    metrics: Mapping[str, RecordedMetric]
    counters: RecordedCounters | None


def field_path(path: PathKey) -> str:
    """``("metrics", "x", 3)`` -> ``metrics.x[3]``; keys that are not names are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


# --- positions ---------------------------------------------------------------------------------

_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


def value_positions(text: str) -> dict[PathKey, int]:
    """Offset of every value in the JSON ``text`` (which must be valid), by its path."""
    positions: dict[PathKey, int] = {}
    end = _scan(text, 0, (), positions)
    if _skip(text, end) != len(text):  # pragma: no cover - json.loads already refused it
        raise ValueError("extra data after the JSON document")
    return positions


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _scan(text: str, index: int, path: PathKey, positions: dict[PathKey, int]) -> int:
    index = _skip(text, index)
    positions[path] = index
    opener = text[index]
    if opener not in "{[":
        _, end = _DECODER.raw_decode(text, index)
        return int(end)
    closer = "}" if opener == "{" else "]"
    index = _skip(text, index + 1)
    if text[index] == closer:
        return index + 1
    item = 0
    while True:
        if opener == "{":
            key, index = _DECODER.raw_decode(text, _skip(text, index))
            index = _skip(text, index) + 1  # the colon
            index = _scan(text, index, (*path, str(key)), positions)
        else:
            index = _scan(text, index, (*path, item), positions)
            item += 1
        index = _skip(text, index)
        if text[index] == closer:
            return index + 1
        index += 1  # the comma


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --- parsing ---------------------------------------------------------------------------------


class _ShapeError(Exception):
    def __init__(self, path: PathKey, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _number(value: Any, path: PathKey) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise _ShapeError(path, f"expected a number or null, got {json.dumps(value)}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _ShapeError(path, f"expected a number, null or \"NaN\", got {json.dumps(value)}")


def _timestamp(value: Any, path: PathKey) -> float:
    stamp = _number(value, path) if not isinstance(value, str) else math.nan
    if not math.isfinite(stamp):
        raise _ShapeError(path, "a timestamp must be a finite number of unix seconds")
    return stamp


def _points(value: Any, path: PathKey, *, counter: bool) -> Points:
    if not isinstance(value, list):
        raise _ShapeError(path, "expected a list of [unix_seconds, value] pairs")
    points: list[tuple[float, float]] = []
    for index, pair in enumerate(value):
        where = (*path, index)
        if not isinstance(pair, list) or len(pair) != 2:
            raise _ShapeError(where, "expected a [unix_seconds, value] pair")
        stamp = _timestamp(pair[0], (*where, 0))
        number = _number(pair[1], (*where, 1))
        if counter and number < 0:
            raise _ShapeError((*where, 1), "a counter cannot be negative")
        if points and stamp <= points[-1][0]:
            raise _ShapeError((*where, 0), "timestamps must increase")
        points.append((stamp, number))
    return tuple(points)


def _metric(value: Any, path: PathKey) -> RecordedMetric:
    if not isinstance(value, list):
        raise _ShapeError(path, "expected a list of values or of [unix_seconds, value] pairs")
    pairs = bool(value) and isinstance(value[0], list)
    for index, item in enumerate(value):
        if isinstance(item, list) != pairs:
            raise _ShapeError((*path, index),
                              "mix of bare values and [unix_seconds, value] pairs")
    if pairs:
        points = _points(value, path, counter=False)
        return RecordedMetric(tuple(v for _, v in points), tuple(t for t, _ in points))
    return RecordedMetric(tuple(_number(item, (*path, i)) for i, item in enumerate(value)))


def _object(value: Any, path: PathKey, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _ShapeError(path, f"expected an object ({what})")
    return value


def _unknown_keys(value: dict[str, Any], path: PathKey, known: tuple[str, ...]) -> None:
    for key in value:
        if key not in known:
            raise _ShapeError((*path, key),
                              f"unknown key '{key}' (expected one of {', '.join(known)})")


def _bound(key: str, path: PathKey) -> float:
    text = key.strip()
    if text.lower() in {"+inf", "inf"}:
        return math.inf
    try:
        bound = float(text)
    except ValueError:
        bound = math.nan
    if math.isnan(bound) or math.isinf(bound):
        raise _ShapeError(path, f"a bucket bound must be a number of seconds or \"+Inf\", "
                                f"not {json.dumps(key)}")
    return bound


def _counters(value: Any, path: PathKey) -> RecordedCounters:
    data = _object(value, path, "cumulative counters")
    _unknown_keys(data, path, _COUNTER_KEYS)
    buckets: dict[float, Points] = {}
    good: dict[str, Points] = {}
    if "latency_buckets" in data:
        where = (*path, "latency_buckets")
        for key, points in _object(data["latency_buckets"], where, "le -> samples").items():
            buckets[_bound(key, (*where, key))] = _points(points, (*where, key), counter=True)
    if "good_events" in data:
        where = (*path, "good_events")
        for key, points in _object(data["good_events"], where, "metric -> samples").items():
            good[key] = _points(points, (*where, key), counter=True)
    return RecordedCounters(
        requests=_points(data.get("requests", []), (*path, "requests"), counter=True),
        errors=_points(data.get("errors", []), (*path, "errors"), counter=True),
        latency_buckets=dict(sorted(buckets.items())),
        good_events=good,
    )


def _recording(data: Any, path: str) -> Recording:
    top = _object(data, (), "with 'metrics' and/or 'counters'")
    _unknown_keys(top, (), _TOP_KEYS)
    metrics: dict[str, RecordedMetric] = {}
    if "metrics" in top:
        for name, value in _object(top["metrics"], ("metrics",), "name -> values").items():
            metrics[name] = _metric(value, ("metrics", name))
    counters = _counters(top["counters"], ("counters",)) if "counters" in top else None
    return Recording(path, metrics, counters)


def parse_recording(text: str, path: str) -> Recording:
    """Parse a recording; :class:`ConfigError` with ``path:line:col`` and field path if bad."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [ConfigProblem(SourceLocation(path, exc.lineno, exc.colno), "",
                           f"not valid JSON: {exc.msg}")],
            hint="a recording is a JSON object with 'metrics' and/or 'counters'",
        ) from exc
    try:
        return _recording(data, path)
    except _ShapeError as exc:
        offset = _position(text, exc.path)
        line, column = _line_col(text, offset)
        raise ConfigError(
            [ConfigProblem(SourceLocation(path, line, column), field_path(exc.path),
                           exc.message)],
            hint="see the format in the documentation of safeship.metrics.file",
        ) from None


def _position(text: str, path: PathKey) -> int:
    positions = value_positions(text)
    # The deepest recorded ancestor: an unknown key points at its value, a missing one at its
    # parent object.
    for depth in range(len(path), -1, -1):
        found = positions.get(path[:depth])
        if found is not None:
            return found
    return 0  # pragma: no cover - the empty path is always recorded


# --- provider ----------------------------------------------------------------------------------


class FileProvider(MetricsProvider):
    """Answers from recorded JSON files, one per arm (see the module docstring)."""

    type_name: ClassVar[str] = "file"
    options_model: ClassVar[type[ProviderOptions]] = FileOptions

    def __init__(self, options: FileOptions, *, base_dir: Path | None = None) -> None:
        self.options = options
        self._base_dir = base_dir
        self._cache: dict[Path, tuple[tuple[int, int], Recording]] = {}

    def path_of(self, arm: Arm) -> Path:
        """The recording of ``arm``, made absolute against the base directory."""
        raw = Path(self.options.canary if arm is Arm.CANARY else self.options.baseline)
        base = self._base_dir if self._base_dir is not None else Path.cwd()
        return raw if raw.is_absolute() else base / raw

    def recording(self, arm: Arm) -> Recording:
        """The parsed recording of ``arm`` (re-read when the file changes)."""
        path = self.path_of(arm)
        try:
            stat = path.stat()
        except FileNotFoundError as exc:
            raise NotFound(f"{path}: the {arm} recording does not exist",
                           hint=f"fix the file provider's '{arm}' path") from exc
        except OSError as exc:
            raise MetricsUnavailable(f"{path}: cannot read the {arm} recording: {exc}") from exc
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        recording = parse_recording(_read_text(path, arm), os.fspath(path))
        self._cache[path] = (stamp, recording)
        return recording

    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        """The recorded values of ``metric`` (by name) in ``window``; empty when absent."""
        if metric.is_derived:
            raise InternalError(
                f"metric '{metric.name}' is derived; compute it with safeship.metrics.derived"
            )
        recorded = self.recording(arm).metrics.get(metric.name)
        if recorded is None:
            return Series()
        if recorded.timestamps is None:
            stamps = tuple(float(window.start + i * window.step_s)
                           for i in range(len(recorded.values)))
            return Series(stamps, recorded.values)
        kept = [(t, v) for t, v in zip(recorded.timestamps, recorded.values, strict=True)
                if window.start <= t <= window.end]
        return Series(tuple(t for t, _ in kept), tuple(v for _, v in kept))

    def counts(self, spec: CanarySpec, arm: Arm, window: TimeRange) -> ArmCounts | None:
        """Per-interval increases of the recorded counters in ``window``; None without any."""
        counters = self.recording(arm).counters
        if counters is None:
            return None
        series: list[Points] = [counters.requests, counters.errors,
                                *counters.latency_buckets.values(),
                                *counters.good_events.values()]
        grid = sorted({t for points in series for t, _ in points
                       if window.start <= t <= window.end})
        if len(grid) < 2:
            return ArmCounts()

        def deltas(points: Points) -> tuple[float, ...]:
            if not points:
                return ()
            at = dict(points)
            return tuple(counter_deltas(at.get(t, math.nan) for t in grid))

        return ArmCounts(
            timestamps=tuple(grid[1:]),
            requests=deltas(counters.requests),
            errors=deltas(counters.errors),
            latency_buckets={bound: deltas(p) for bound, p in counters.latency_buckets.items()},
            good_events={name: deltas(p) for name, p in counters.good_events.items()},
        )


def _read_text(path: Path, arm: Arm) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MetricsUnavailable(f"{path}: cannot read the {arm} recording: {exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        line, column = _line_col(before, len(before))
        raise ConfigError([ConfigProblem(SourceLocation(os.fspath(path), line, column), "",
                                         "not UTF-8 text")]) from exc

