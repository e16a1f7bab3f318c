"""uv.lock, poetry.lock, Pipfile.lock, pyproject.toml and the discovery order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeship.scanners.sbom import (
    DependencyFileError,
    find_dependency_file,
    read_dependency_file,
    read_project,
)

SHA = "c" * 64

UV_LOCK = f"""\
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.3.0"
source = {{ editable = "." }}
dependencies = [
    {{ name = "requests" }},
]

[[package]]
name = "requests"
version = "2.32.3"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [
    {{ name = "urllib3" }},
    {{ name = "Charset_Normalizer" }},
]
sdist = {{ url = "https://files.example/requests-2.32.3.tar.gz", hash = "sha256:{SHA}" }}
wheels = [
    {{ url = "https://files.example/requests-2.32.3-py3-none-any.whl", hash = "sha256:{SHA}" }},
]

[[package]]
name = "urllib3"
version = "2.2.2"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "charset-normalizer"
version = "3.3.2"
source = {{ registry = "https://pypi.org/simple" }}
"""

POETRY_LOCK = f"""\
[[package]]
name = "requests"
version = "2.32.3"
description = "HTTP"
optional = false
python-versions = ">=3.8"
files = [
    {{file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:{SHA}"}},
]

[package.dependencies]
urllib3 = ">=1.21.1,<3"

[[package]]
name = "urllib3"
version = "2.2.2"
description = "HTTP"
optional = false
python-versions = ">=3.8"
files = []

[metadata]
lock-version = "2.0"
"""

PYPROJECT = """\
[project]
name = "shop"
version = "1.2.0"
license = "MIT"
dependencies = [
    "requests>=2.31",
    "rich==13.7.1",
]
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.write_text(text)
    return path


def test_uv_lock(tmp_path: Path) -> None:
    inventory = read_dependency_file(write(tmp_path, "uv.lock", UV_LOCK))
    assert (inventory.project.name, inventory.project.version) == ("app", "0.3.0")
    assert inventory.direct == ("requests",)
    deps = {d.key: d for d in inventory.dependencies}
    assert set(deps) == {"requests", "urllib3", "charset-normalizer"}
    assert deps["requests"].requires == ("charset-normalizer", "urllib3")
    assert deps["requests"].line == 13
    assert deps["requests"].direct is True
    assert deps["urllib3"].direct is False
    assert [d.url.rsplit("/", 1)[-1] for d in deps["requests"].distributions] == [
        "requests-2.32.3.tar.gz", "requests-2.32.3-py3-none-any.whl"]


def test_poetry_lock_with_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", PYPROJECT)
    inventory = read_dependency_file(write(tmp_path, "poetry.lock", POETRY_LOCK))
    assert inventory.project.name == "shop"
    assert inventory.direct == ("requests", "rich")
    deps = {d.key: d for d in inventory.dependencies}
    assert deps["requests"].requires == ("urllib3",)
    assert deps["requests"].hashes[0].value == SHA
    assert (deps["requests"].line, deps["urllib3"].line) == (2, 15)


def test_pipfile_lock(tmp_path: Path) -> None:
    data = {"_meta": {}, "default": {"requests": {"version": "==2.32.3",
                                                  "hashes": [f"sha256:{SHA}"]},
                                     "local": {"path": "."}},
            "develop": {"pytest": {"version": "==8.0.0"}}}
    inventory = read_dependency_file(write(tmp_path, "Pipfile.lock",
                                           json.dumps(data, indent=4)))
    deps = {d.key: d for d in inventory.dependencies}
    assert deps["requests"].version == "2.32.3"
    assert deps["requests"].line == 4
    assert deps["local"].version is None
    assert "pytest" not in deps
    assert any("develop" in n for n in inventory.notes)


def test_pyproject_only(tmp_path: Path) -> None:
    inventory = read_dependency_file(write(tmp_path, "pyproject.toml", PYPROJECT))
    assert (inventory.project.name, inventory.project.version) == ("shop", "1.2.0")
    assert inventory.project.licenses == ("MIT",)
    deps = {d.key: d for d in inventory.dependencies}
    assert deps["requests"].version is None
    assert (deps["requests"].line, deps["rich"].line) == (6, 7)
    assert deps["rich"].version == "13.7.1"


def test_discovery_prefers_lock_files_and_names_the_project(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", PYPROJECT)
    write(tmp_path, "requirements.txt", "requests==2.0.0\n")
    assert find_dependency_file(tmp_path).name == "requirements.txt"
    inventory = read_project(tmp_path)
    assert inventory.project.name == "shop"
    assert inventory.dependencies[0].version == "2.0.0"
    write(tmp_path, "uv.lock", UV_LOCK)
    assert read_project(tmp_path).sources[0].endswith("uv.lock")


def test_nothing_to_read(tmp_path: Path) -> None:
    with pytest.raises(DependencyFileError, match="no dependency file"):
        read_project(tmp_path)
    with pytest.raises(DependencyFileError, match="do not know how"):
        read_dependency_file(write(tmp_path, "setup.cfg", ""))


@pytest.mark.parametrize(("name", "text"), [
    ("uv.lock", "this is = = not toml"),
    ("poetry.lock", "package = 3\n"),
    ("Pipfile.lock", "{"),
    ("Pipfile.lock", "{}"),
    ("pyproject.toml", "[project]\ndependencies = 'x'\n"),
    ("pyproject.toml", "[project]\ndependencies = ['not valid!!']\n"),
])
def test_malformed_files(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(DependencyFileError):
        read_dependency_file(write(tmp_path, name, text))
