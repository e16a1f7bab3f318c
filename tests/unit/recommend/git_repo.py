"""Real git repositories for the recommend tests, isolated from the user's git config."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.requirements import require_binary

BASE_PYPROJECT = """\
[project]
name = "shop"
version = "1.4.2"
description = "A shop"
dependencies = ["httpx>=0.27", "pydantic>=2"]
"""

BASE_OPENAPI = """\
openapi: 3.0.3
info: {title: shop, version: "1"}
paths:
  /health:
    get:
      responses: {"200": {description: ok}}
  /orders:
    get:
      responses: {"200": {description: ok}}
"""


class GitRepo:
    """A work tree in ``root`` with a helper per git action the tests need."""

    def __init__(self, root: Path) -> None:
        self.git_binary = require_binary("git", "recommend --diff reads changes with git")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
        }
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        """Run git in the work tree; return its stdout."""
        result = subprocess.run([self.git_binary, *args], cwd=self.root, env=self.env,
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.fail(f"git {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def write(self, path: str, text: str) -> GitRepo:
        """Create or replace a file."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return self

    def delete(self, path: str) -> GitRepo:
        """Remove a tracked file."""
        self.git("rm", "-q", path)
        return self

    def move(self, old: str, new: str) -> GitRepo:
        """Rename a tracked file."""
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)
        return self

    def commit(self, message: str) -> str:
        """Commit everything; return the commit id."""
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def service_repo(root: Path) -> GitRepo:
    """A small service with code, a pyproject, an OpenAPI spec and config, tagged ``base``."""
    repo = GitRepo(root)
    repo.write("pyproject.toml", BASE_PYPROJECT)
    repo.write("src/shop/__init__.py", '"""Shop."""\n__version__ = "1.4.2"\n')
    repo.write("src/shop/orders.py", "def orders() -> list[str]:\n    return []\n")
    repo.write("api/openapi.yaml", BASE_OPENAPI)
    repo.write("config/app.yaml", "log_level: info\n")
    repo.write("package.json", '{"name": "ui", "version": "3.1.0", '
                               '"dependencies": {"react": "^18.2.0"}}\n')
    repo.commit("Initial service")
    repo.git("tag", "base")
    return repo
