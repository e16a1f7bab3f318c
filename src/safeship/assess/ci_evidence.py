"""Does CI run safeship's gates? The CI definitions of a repository, read as text.

A CI file counts when one of its (non-comment) lines runs ``safeship gates run``, directly or
through ``make TARGET`` whose recipe (followed through prerequisites) does. The well-known CI
locations are looked at: ``.ci/*``, ``.github/workflows/*.yml``, ``.gitlab-ci.yml`` and a few
other hosted CI services' files. Whether the files are versioned is judged elsewhere, with git.
"""

from __future__ import annotations

import re
from pathlib import Path

from safeship.assess.evidence import CiFile
from safeship.assess.makefile_recipes import (
    Rule,
    find_in_recipes,
    make_targets,
    parse_makefile,
)
from safeship.assess.version_control import display_path

CI_GLOBS = (
    ".ci/*",
    ".github/workflows/*.yml",
    ".github/workflows/*.yaml",
    ".gitlab-ci.yml",
    ".circleci/config.yml",
    "Jenkinsfile",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    ".drone.yml",
    ".woodpecker.yml",
    ".travis.yml",
)
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
MAX_CI_FILES = 100
MAX_FILE_BYTES = 1024 * 1024

GATES_COMMAND = "safeship gates run"
# `safeship` then `gates run` in the same command (no ; & | between them): this matches
# `.venv/bin/safeship -v gates run`, `python -m safeship gates run` and `$(BIN)/safeship ...`.
_GATES_RUN = re.compile(r"\bsafeship\b[^\n;&|#]*?\bgates\s+run\b")
_MAKE_CALL = re.compile(r"(?:^|[\s;&|(`])(?:g?make)\s+(?P<args>[^\n;&|#`)]*)|(?:^|[\s;&|(`])"
                        r"(?:g?make)\s*$")


def runs_gates(line: str) -> bool:
    """True when a (shell, YAML or recipe) line runs ``safeship gates run``."""
    code = line.strip()
    return not code.startswith("#") and _GATES_RUN.search(code) is not None


def ci_files(root: Path) -> list[Path]:
    """The CI definitions present under ``root``, sorted, at most :data:`MAX_CI_FILES`."""
    found: set[Path] = set()
    for pattern in CI_GLOBS:
        found.update(path for path in root.glob(pattern) if path.is_file())
    return sorted(found)[:MAX_CI_FILES]


def makefile_of(root: Path) -> Path | None:
    """The Makefile ``make`` would read in ``root`` (GNU make's order), or None."""
    for name in MAKEFILES:
        if (root / name).is_file():
            return root / name
    return None


def inspect_ci(root: Path) -> tuple[CiFile, ...]:
    """Each CI file of ``root`` and whether it runs safeship's gates."""
    makefile = makefile_of(root)
    make_text = _read(makefile) if makefile is not None else ""
    rules, default = parse_makefile(make_text)
    results = []
    for path in ci_files(root):
        shown = display_path(root, path)
        results.append(_inspect(shown, _read(path), rules, default,
                                display_path(root, makefile) if makefile else None))
    return tuple(results)


def _inspect(shown: str, text: str, rules: dict[str, Rule], default: str | None,
             makefile: str | None) -> CiFile:
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if runs_gates(line):
            return CiFile(shown, True, f"{shown}:{number} runs `{GATES_COMMAND}`")
    if makefile is None:
        return CiFile(shown, False, f"{shown} does not run `{GATES_COMMAND}`")
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith("#"):
            continue
        for call in _MAKE_CALL.finditer(line):
            goals = make_targets(call["args"] or "") or ([default] if default else [])
            hit = find_in_recipes(rules, goals, runs_gates)
            if hit is not None:
                return CiFile(shown, True,
                              f"{shown}:{number} runs `make {' '.join(goals)}`, and "
                              f"{makefile}:{hit.line} (target `{hit.target}`) runs "
                              f"`{GATES_COMMAND}`", via=(makefile,))
    return CiFile(shown, False, f"{shown} does not run `{GATES_COMMAND}` (not even through "
                                f"the make targets it calls)")


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
