"""The end of an instance's log, as shown in an error."""

from __future__ import annotations

from pathlib import Path

from safeship.targets.local_logs import tail


def test_only_the_last_lines_of_a_large_log_are_read(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {n}\n" for n in range(100_000)))
    assert tail(log, 3) == ["line 99997", "line 99998", "line 99999"]


def test_blank_lines_are_skipped_and_long_lines_cut(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("first\n\n   \n" + "y" * 1000 + "\n")
    assert tail(log) == ["first", "y" * 300]


def test_secrets_are_masked(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("DB_PASSWORD=hunter2 ok\nAuthorization: Bearer-xyz\n"
                   "-----BEGIN RSA PRIVATE KEY-----\nplain line\n")
    shown = "\n".join(tail(log))
    assert "hunter2" not in shown
    assert "Bearer-xyz" not in shown
    assert "BEGIN RSA" not in shown
    assert "plain line" in shown
    assert "DB_PASSWORD=****" in shown


def test_a_missing_log_gives_no_lines(tmp_path: Path) -> None:
    assert tail(tmp_path / "missing.log") == []
