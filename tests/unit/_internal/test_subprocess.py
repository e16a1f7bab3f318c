"""The one place programs start: bounded runs and background starts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from safeship._internal.subprocess import run_command, start_background
from safeship.errors import ToolUnavailable


def test_run_command_returns_output_and_exit_code() -> None:
    result = run_command([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"])
    assert (result.returncode, result.stdout.strip()) == (3, "out")


def test_run_command_reports_a_missing_program() -> None:
    with pytest.raises(ToolUnavailable, match="program not found"):
        run_command(["/nonexistent/safeship-test-program"])


def test_run_command_reports_a_timeout() -> None:
    with pytest.raises(ToolUnavailable, match="did not finish within"):
        run_command([sys.executable, "-c", "import time; time.sleep(5)"], timeout_s=0.2)


def test_start_background_appends_both_streams_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    log.write_text("earlier\n")
    process = start_background(
        [sys.executable, "-c", "import sys; print('hello'); print('oops', file=sys.stderr)"],
        log_path=log)
    assert process.wait(timeout=10) == 0
    assert log.read_text().splitlines() == ["earlier", "hello", "oops"]


def test_start_background_new_session_gets_its_own_process_group(tmp_path: Path) -> None:
    process = start_background([sys.executable, "-c", "import time; time.sleep(30)"],
                               log_path=tmp_path / "log", new_session=True)
    try:
        assert os.getpgid(process.pid) == process.pid != os.getpgid(0)
    finally:
        process.kill()
        process.wait(timeout=10)


def test_start_background_passes_a_bad_cwd_on_as_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):  # noqa: PT011 (the caller maps any start failure)
        start_background([sys.executable, "-c", "pass"], log_path=tmp_path / "log",
                         cwd=tmp_path / "missing")
