"""Read pip requirements files: pins, hashes, ``-r`` includes and pip-compile's ``# via`` notes.

What is understood, per logical line (``\\`` continues a line; ``#`` after whitespace starts a
comment):

* ``name[extras] <specifier> ; <marker> --hash=alg:hex ...``: a requirement. It is *pinned*
  when its specifier is a single ``==`` (without ``*``) or ``===``. Markers are kept out of the
  decision: a dependency installed only on some platform is still listed and scanned.
* ``-r FILE`` / ``--requirement FILE``: included, relative to the including file (cycles are
  refused once, quietly).
* ``-c``/``--constraint``, ``-e``/``--editable``, bare URLs and paths: not dependencies this
  reader can name and version; each is reported as a note.
* Other pip options (``--index-url``, ``--find-links``, ``--require-hashes``, ...) are ignored.
* ``# via X`` comments (pip-compile, ``uv pip compile``) give the dependency graph; ``via -r``
  marks a direct dependency.

A line that is none of these (not a valid PEP 508 requirement) raises
:class:`~safeship.scanners.sbom.inventory.DependencyFileError`: skipping it could hide a
dependency from the CVE scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from safeship.scanners.sbom.inventory import (
    Dependency,
    DependencyFileError,
    FileHash,
    Inventory,
    ProjectInfo,
    normalize_name,
)

_COMMENT = re.compile(r"(^|\s+)#.*$")
_HASH = re.compile(r"--hash[=\s]+([A-Za-z0-9]+):([A-Fa-f0-9]+)")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=\S))(\S+)$")
_CONSTRAINT = re.compile(r"^(?:-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(\S+)$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+|(?=\S))(\S+)")
_IGNORED_OPTIONS = (
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links",
    "--trusted-host", "--no-binary", "--only-binary", "--prefer-binary", "--require-hashes",
    "--pre", "--use-feature", "--implementation", "--platform", "--python-version", "--abi",
)
_PER_REQUIREMENT_OPTION = re.compile(r"\s--(?:hash|config-settings|global-option|install-option)"
                                     r"[=\s]+\S+")
_VIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class _State:
    dependencies: list[Dependency] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    seen_files: set[Path] = field(default_factory=set)
    parents: dict[str, set[str]] = field(default_factory=dict)
    direct: set[str] = field(default_factory=set)
    via_seen: bool = False


def exact_version(requirement: Requirement) -> str | None:
    """The pinned version of ``requirement`` (``==X`` without ``*``, or ``===X``), else None."""
    specs = list(requirement.specifier)
    if len(specs) != 1:
        return None
    spec = specs[0]
    if spec.operator == "===" or (spec.operator == "==" and "*" not in spec.version):
        return spec.version
    return None


def _logical_lines(text: str) -> list[tuple[int, str, bool]]:
    """``(first line number, text, is_comment_line)`` with continuations joined."""
    lines: list[tuple[int, str, bool]] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts and raw.lstrip().startswith("#"):
            lines.append((number, raw, True))
            continue
        if not parts:
            start = number
        if raw.endswith("\\"):
            parts.append(raw[:-1])
            continue
        parts.append(raw)
        lines.append((start, "".join(parts), False))
        parts = []
    if parts:
        lines.append((start, "".join(parts), False))
    return lines


def read_requirements(path: Path) -> Inventory:
    """Read a requirements file (and its includes) into an :class:`Inventory`."""
    state = _State()
    _read_file(path, state)
    dependencies = state.dependencies
    if state.parents:
        children: dict[str, list[str]] = {}
        for child, parents in state.parents.items():
            for parent in parents:
                children.setdefault(parent, []).append(child)
        dependencies = [
            replace(d, requires=tuple(sorted(set(children.get(d.key, ())))),
                    direct=(d.key in state.direct) if state.via_seen else None)
            for d in dependencies
        ]
    direct = tuple(sorted(state.direct)) if state.via_seen else None
    return Inventory(
        project=ProjectInfo(path.resolve().parent.name or "project"),
        dependencies=tuple(dependencies),
        sources=tuple(state.sources),
        notes=tuple(state.notes),
        direct=direct,
    )


def _read_file(path: Path, state: _State) -> None:
    resolved = path.resolve()
    if resolved in state.seen_files:
        return
    state.seen_files.add(resolved)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DependencyFileError(f"requirements file {path} not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DependencyFileError(f"cannot read requirements file {path}: {exc}") from exc
    state.sources.append(str(path))
    last: str | None = None
    in_via = False
    for number, line, is_comment in _logical_lines(text):
        if is_comment:
            if last is not None:
                in_via = _via_comment(line, last, in_via, state)
            continue
        in_via = False
        stripped = _COMMENT.sub("", line).strip()
        if not stripped:
            continue
        last = _requirement_line(stripped, path, number, state)


def _via_comment(line: str, child: str, in_via: bool, state: _State) -> bool:
    body = line.lstrip()[1:]
    text = body.strip()
    if text.startswith("via"):
        rest = text[3:].strip()
        state.via_seen = True
        for item in (part.strip() for part in rest.split(",")):
            _add_parent(item, child, state)
        return True
    if in_via and body.startswith(("  ", "\t")) and text:
        _add_parent(text, child, state)
        return True
    return False


def _add_parent(item: str, child: str, state: _State) -> None:
    if not item:
        return
    if item.startswith(("-r ", "--requirement")):
        state.direct.add(child)
        return
    if item.startswith("-"):
        return
    match = _VIA_NAME.match(item)
    if match:
        state.parents.setdefault(child, set()).add(normalize_name(match.group(0)))


def _requirement_line(line: str, path: Path, number: int, state: _State) -> str | None:
    include = _INCLUDE.match(line)
    if include:
        _read_file(path.parent / include.group(1), state)
        return None
    where = f"{path}:{number}"
    if _CONSTRAINT.match(line):
        state.notes.append(f"{where}: constraints file not read (constraints do not add "
                           "dependencies)")
        return None
    if _EDITABLE.match(line):
        state.notes.append(f"{where}: editable requirement skipped ({line})")
        return None
    if line.startswith("-"):
        option = line.split()[0].split("=")[0]
        if option not in _IGNORED_OPTIONS:
            state.notes.append(f"{where}: option {option} ignored")
        return None
    hashes = tuple(FileHash(alg.lower(), value.lower()) for alg, value in _HASH.findall(line))
    spec = _PER_REQUIREMENT_OPTION.sub("", " " + line).strip()
    if "/" in spec.split(";")[0].split("@")[0] or spec.startswith((".", "~")):
        state.notes.append(f"{where}: URL or path requirement skipped ({spec})")
        return None
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        raise DependencyFileError(f"{where}: not a valid requirement: {spec!r} ({exc})") from exc
    version = exact_version(requirement)
    dependency = Dependency(
        name=requirement.name,
        version=version,
        specifier="" if version else (str(requirement.specifier) or
                                      (f"@ {requirement.url}" if requirement.url else "")),
        hashes=hashes,
        path=str(path),
        line=number,
    )
    state.dependencies.append(dependency)
    return dependency.key
