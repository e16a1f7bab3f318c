"""Real git work trees for the assess tests, isolated from the user's git configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.requirements import require_binary


class GitRepo:
    """A work tree in ``root`` with the few git actions the tests need."""

    def __init__(self, root: Path) -> None:
        self.binary = require_binary("git", "assess reads the version-control state with git")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        """Run git in the work tree; return its stdout."""
        result = subprocess.run([self.binary, *args], cwd=self.root, env=self.env,
                                capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            pytest.fail(f"git {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def write(self, path: str, text: str) -> GitRepo:
        """Create or replace a file."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return self

    def commit(self, *paths: str) -> GitRepo:
        """Stage ``paths`` (everything when none) and commit."""
        self.git("add", *(paths or ("-A",)))
        self.git("commit", "-q", "-m", "change")
        return self
