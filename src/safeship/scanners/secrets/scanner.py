"""Walking a tree (or a list of diff texts) and scanning it, in parallel when it pays.

* **One pass per file.** A file is read once, with ``O_NOFOLLOW``, sniffed for binary content,
  decoded once, prefiltered once, and only the rules the prefilter names run on it.
* **Symlinks are never followed.** A link whose target lies outside the scanned tree is listed
  in ``skipped``; a link inside the tree is skipped silently, since its target is scanned where
  it lives. The walk does not descend into linked directories, so it cannot leave the tree or
  loop.
* **Binary and huge files are skipped and reported** (``skipped`` in every output format):
  a NUL byte in the first 8,000 bytes means binary (git's rule); a file above
  ``max_file_bytes`` is not read at all.
* **Dependency and tool directories** (``.git``, ``node_modules``, virtualenvs, caches) are not
  walked: the code in them is not the project's. ``--git-history`` scans what git stores.
* **Parallel over files.** Above a few megabytes the files are scanned in worker processes
  (Python's regex engine holds the GIL, so threads would not help); each worker builds its
  detector once. Small scans stay in-process, where starting workers would cost more than it
  saves.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from safeship.errors import NotFound, UsageError
from safeship.scanners.secrets.engine import Detector
from safeship.scanners.secrets.prefilter import build_prefilter
from safeship.scanners.secrets.results import (
    ScanReport,
    SecretFinding,
    SkippedFile,
    merge_counts,
)
from safeship.scanners.secrets.rules import RuleSet

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", ".tox", ".nox", "site-packages", "dist-packages",
})
_BINARY_SNIFF = 8000
_PARALLEL_MIN_BYTES = 2 * 1024 * 1024
_PARALLEL_MIN_ITEMS = 16
_BATCH_BYTES = 512 * 1024
_BATCH_ITEMS = 128
_MAX_JOBS = 8
# Compiling the rule regexes into hyperscan takes about a second; below this much text the
# keyword prefilter finishes sooner.
_ACCELERATE_MIN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ScanOptions:
    """How to scan: limits, exclusions, parallelism and the optional fast path."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    exclude: tuple[str, ...] = ()
    """Glob patterns relative to the scan root (``tests/fixtures/**``, ``*.min.js``)."""
    jobs: int | None = None
    """Worker processes; None: one per CPU (at most 8); 1: scan in this process."""
    accelerate: bool | None = None
    """Hyperscan: None uses it for keywords when installed (and for rule regexes on scans
    above 64 MB); True also for the rule regexes from the start (warns if missing); False never.
    """


@dataclass(frozen=True)
class Blob:
    """A text to scan that is not a file on disk: the added lines of a diff."""

    path: str
    text: str
    commit: str | None = None
    line_numbers: tuple[int, ...] | None = None


@dataclass(frozen=True)
class _FileTask:
    path: str
    absolute: str
    size: int


_Item = _FileTask | Blob


@dataclass
class _Partial:
    findings: list[SecretFinding]
    skipped: list[SkippedFile]
    files: int
    bytes: int
    suppressed: dict[str, int]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob as a regex on ``/``-separated relative paths.

    ``*`` stays within a path segment, ``**`` crosses segments, ``?`` is one character; a
    pattern without ``/`` matches a name at any depth; a match on a directory covers all of it.
    """
    text = pattern.strip().lstrip("/").removeprefix("./")
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif text.startswith("**", index):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(char))
            index += 1
    body = "".join(out).rstrip("/")
    anchor = "" if "/" in text.rstrip("/") else "(?:.*/)?"
    return re.compile(f"^{anchor}{body}(?:/.*)?$")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def collect_files(root: Path, targets: Sequence[Path], options: ScanOptions,
                  detector: Detector) -> tuple[list[_FileTask], list[SkippedFile],
                                               list[SecretFinding]]:
    """Every file to scan under ``targets`` (inside ``root``), the skipped ones, and the
    findings of path-only rules."""
    root_text = str(root)
    excludes = [glob_regex(p) for p in options.exclude if p.strip()]
    tasks: list[_FileTask] = []
    skipped: list[SkippedFile] = []
    named: list[SecretFinding] = []

    def relative(path: str) -> str:
        return Path(os.path.relpath(path, root_text)).as_posix()

    def excluded(rel: str) -> bool:
        return any(pattern.match(rel) for pattern in excludes)

    def consider_file(absolute: str, rel: str, size: int) -> None:
        if excluded(rel) or detector.path_allowed(rel):
            return
        named.extend(detector.path_findings(rel))
        if size > options.max_file_bytes:
            skipped.append(SkippedFile(
                rel, f"too large: {size} bytes, the limit is {options.max_file_bytes}"))
            return
        tasks.append(_FileTask(rel, absolute, size))

    for target in targets:
        start = str(target)
        if os.path.islink(start) and not _inside(os.path.realpath(start), root_text):
            skipped.append(SkippedFile(relative(start),
                                       "symlink to outside the scanned tree, not followed"))
            continue
        if os.path.isfile(start) and not os.path.islink(start):
            consider_file(start, relative(start), os.stat(start).st_size)
            continue
        stack = [start]
        while stack:
            directory = stack.pop()
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name, reverse=True)
            except OSError as exc:
                skipped.append(SkippedFile(relative(directory),
                                           f"unreadable directory: {exc.strerror or exc}"))
                continue
            for entry in entries:
                rel = relative(entry.path)
                if entry.is_symlink():
                    if not _inside(os.path.realpath(entry.path), root_text):
                        skipped.append(SkippedFile(
                            rel, "symlink to outside the scanned tree, not followed"))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in EXCLUDED_DIRS and not excluded(rel):
                        stack.append(entry.path)
                    continue
                if entry.is_file(follow_symlinks=False):
                    consider_file(entry.path, rel, entry.stat(follow_symlinks=False).st_size)
    return tasks, skipped, named


def _read(task: _FileTask, max_bytes: int) -> bytes | SkippedFile:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(task.absolute, flags)
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return SkippedFile(task.path, f"unreadable: {exc.strerror or exc}")
    if len(data) > max_bytes:
        return SkippedFile(task.path, f"too large: more than {max_bytes} bytes")
    if b"\0" in data[:_BINARY_SNIFF]:
        return SkippedFile(task.path, "binary file")
    return data


def _scan_items(detector: Detector, items: Iterable[_Item], max_bytes: int) -> _Partial:
    partial = _Partial([], [], 0, 0, {})
    for item in items:
        if isinstance(item, Blob):
            text, data, path = item.text, None, item.path
            result = detector.scan(text, path, commit=item.commit,
                                   line_numbers=item.line_numbers)
            size = len(text)
        else:
            read = _read(item, max_bytes)
            if isinstance(read, SkippedFile):
                partial.skipped.append(read)
                continue
            data = read
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("utf-8", errors="replace")
                data = None  # the bytes no longer correspond to the text
            result = detector.scan(text, item.path, data=data)
            size = len(read)
        partial.files += 1
        partial.bytes += size
        partial.findings.extend(result.findings)
        for key, value in result.suppressed.items():
            partial.suppressed[key] = partial.suppressed.get(key, 0) + value
    return partial


# Worker-process state: built once by the pool's initializer, reused for every batch.
_WORKER: dict[str, Detector] = {}


def _init_worker(ruleset: RuleSet, accelerate: bool | None,
                 serialized: tuple[bytes, frozenset[int]] | None) -> None:
    rules = tuple(r for r in ruleset.rules if r.regex is not None)
    prefilter = build_prefilter(rules, accelerate, serialized)
    _WORKER["detector"] = Detector(ruleset, prefilter=prefilter)


def _worker_scan(items: list[_Item], max_bytes: int) -> _Partial:
    return _scan_items(_WORKER["detector"], items, max_bytes)


def _batches(items: Sequence[_Item]) -> list[list[_Item]]:
    batches: list[list[_Item]] = []
    current: list[_Item] = []
    weight = 0
    for item in items:
        current.append(item)
        weight += item.size if isinstance(item, _FileTask) else len(item.text)
        if weight >= _BATCH_BYTES or len(current) >= _BATCH_ITEMS:
            batches.append(current)
            current, weight = [], 0
    if current:
        batches.append(current)
    return batches


def _jobs(options: ScanOptions) -> int:
    if options.jobs is not None:
        return max(1, options.jobs)
    return max(1, min(os.cpu_count() or 1, _MAX_JOBS))


def _run(detector: Detector, items: Sequence[_Item], options: ScanOptions) -> _Partial:
    jobs = _jobs(options)
    total = sum(i.size if isinstance(i, _FileTask) else len(i.text) for i in items)
    if options.accelerate is None and total >= _ACCELERATE_MIN_BYTES:
        detector.accelerate()
    if jobs <= 1 or total < _PARALLEL_MIN_BYTES or len(items) < _PARALLEL_MIN_ITEMS:
        return _scan_items(detector, items, options.max_file_bytes)
    # fork starts workers in milliseconds and shares the compiled rules, but is unsafe in a
    # process with other threads (the engine may run this gate in one): spawn there.
    method = "fork" if threading.active_count() == 1 and sys.platform == "linux" else "spawn"
    if method == "fork":
        # Forked workers inherit this detector, compiled rules and all.
        _WORKER["detector"] = detector
        pool_args: dict[str, Any] = {}
    else:
        serialize = getattr(detector.prefilter, "serialize", None)
        serialized = serialize() if callable(serialize) else None
        accelerate = None if detector.accelerated else False
        # The serialized database already says which rule regexes it holds.
        pool_args = {"initializer": _init_worker,
                     "initargs": (detector.ruleset, accelerate, serialized)}
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context(method),
                                 **pool_args) as pool:
            parts = list(pool.map(_worker_scan, _batches(items),
                                  repeat(options.max_file_bytes)))
    except (BrokenProcessPool, OSError) as exc:
        # Workers could not start (a sandbox without /dev/shm, say): scan here instead.
        log.warning("parallel scan unavailable (%s); scanning in one process", exc)
        return _scan_items(detector, items, options.max_file_bytes)
    finally:
        _WORKER.pop("detector", None)
    merged = _Partial([], [], 0, 0, {})
    for part in parts:
        merged.findings.extend(part.findings)
        merged.skipped.extend(part.skipped)
        merged.files += part.files
        merged.bytes += part.bytes
        for key, value in part.suppressed.items():
            merged.suppressed[key] = merged.suppressed.get(key, 0) + value
    return merged


def _report(partial: _Partial, extra_findings: Sequence[SecretFinding],
            skipped: Sequence[SkippedFile], detector: Detector, seconds: float,
            source: str) -> ScanReport:
    findings = sorted({*partial.findings, *extra_findings},
                      key=lambda f: (f.file, f.line, f.column, f.rule_id, f.commit or ""))
    return ScanReport(
        findings=tuple(findings),
        skipped=tuple(sorted({*skipped, *partial.skipped}, key=lambda s: (s.file, s.reason))),
        files=partial.files,
        bytes=partial.bytes,
        seconds=seconds,
        suppressed=merge_counts(partial.suppressed),
        rules=len(detector.ruleset.rules),
        accelerated=detector.accelerated,
        source=source,
    )


def scan_paths(root: Path, ruleset: RuleSet, options: ScanOptions | None = None, *,
               targets: Sequence[Path] | None = None, detector: Detector | None = None,
               clock: Callable[[], float] = time.perf_counter) -> ScanReport:
    """Scan the files under ``targets`` (default: ``root``); paths are reported relative to
    ``root``, and nothing outside ``root`` is read."""
    options = options or ScanOptions()
    started = clock()
    if not root.exists():
        raise NotFound(f"no such file or directory: {root}")
    real_root = root.resolve()
    chosen = []
    for target in targets or [real_root]:
        candidate = (target if target.is_absolute() else real_root / target)
        absolute = Path(os.path.abspath(candidate))
        if not os.path.lexists(absolute):
            raise NotFound(f"no such file or directory: {target}")
        parent = absolute.parent.resolve() / absolute.name if absolute != real_root else absolute
        if not _inside(str(parent), str(real_root)):
            raise UsageError(f"{target} is outside the scanned tree {real_root}")
        chosen.append(parent)
    detector = detector or Detector(ruleset, accelerate=options.accelerate)
    tasks, skipped, named = collect_files(real_root, chosen, options, detector)
    partial = _run(detector, tasks, options)
    return _report(partial, named, skipped, detector, clock() - started, "files")


def scan_blobs(blobs: Sequence[Blob], ruleset: RuleSet, options: ScanOptions | None = None, *,
               skipped: Sequence[SkippedFile] = (), source: str = "history",
               detector: Detector | None = None,
               clock: Callable[[], float] = time.perf_counter) -> ScanReport:
    """Scan texts that are not files (the added lines of diffs)."""
    options = options or ScanOptions()
    started = clock()
    detector = detector or Detector(ruleset, accelerate=options.accelerate)
    excludes = [glob_regex(p) for p in options.exclude if p.strip()]
    kept: list[Blob] = []
    named: list[SecretFinding] = []
    extra_skipped = list(skipped)
    for blob in blobs:
        if any(p.match(blob.path) for p in excludes) or detector.path_allowed(blob.path):
            continue
        if any(part in EXCLUDED_DIRS for part in blob.path.split("/")[:-1]):
            continue
        named.extend(detector.path_findings(blob.path, blob.commit))
        if len(blob.text) > options.max_file_bytes:
            where = f"{blob.path}@{blob.commit[:12]}" if blob.commit else blob.path
            extra_skipped.append(SkippedFile(
                where, f"too large: {len(blob.text)} bytes added, the limit is "
                       f"{options.max_file_bytes}"))
            continue
        kept.append(blob)
    partial = _run(detector, kept, options)
    return _report(partial, named, extra_skipped, detector, clock() - started, source)
