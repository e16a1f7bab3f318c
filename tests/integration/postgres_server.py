"""A throwaway PostgreSQL cluster for integration tests (infra.md, section 5).

``initdb`` and ``pg_ctl`` run as the ``postgres`` user (via ``runuser`` when the tests run as
root, since ``initdb`` refuses root) in a fresh directory under ``/tmp``. The server listens on
a free port on 127.0.0.1 only, with fsync off, and trusts local connections. ``stop`` shuts it
down with ``pg_ctl stop`` and makes sure the postmaster is gone before the directory is removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
_START_ATTEMPTS = 3  # a "free" port can be taken between probing it and the server binding it
_STOP_GRACE_S = 10.0


class PostgresError(RuntimeError):
    """The throwaway cluster could not be created, started or stopped."""


@dataclass
class PostgresServer:
    """One throwaway cluster; ``start()`` it, ``create_database()`` per test, ``stop()`` it."""

    bin_dir: Path
    base: Path = field(init=False)
    port: int = field(init=False, default=0)
    pid: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # mkdtemp makes a 0700 directory; the postgres user has to traverse it.
        self.base = Path(tempfile.mkdtemp(prefix="safeship-pg-", dir="/tmp"))
        self.base.chmod(0o755)
        self._chown(self.base)

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        """The server log (``pg_ctl -l``)."""
        return self.base / "pg.log"

    def start(self) -> None:
        """initdb, then start the server on a free port; raises PostgresError with the log."""
        self._run(
            "initdb", "-D", str(self.data_dir), "-A", "trust", "-U", SUPERUSER,
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file),
                    "-w", "-t", "30", "-o", options, "start",
                )  # fmt: skip
            except PostgresError:
                if attempt == _START_ATTEMPTS:
                    raise
                continue
            self.pid = self._postmaster_pid()
            if self.pid is None:
                raise PostgresError(
                    f"the server started without a postmaster.pid\n{self.log_tail()}"
                )
            return

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL (psycopg 3) of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create the empty database ``name`` and return its URL."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """``pg_ctl stop -m fast``; then wait until the postmaster is gone, and clean up."""
        try:
            pid = self.pid if self.pid is not None else self._postmaster_pid()
            if pid is not None:
                with contextlib.suppress(PostgresError):
                    self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
                self._wait_gone(pid)
        finally:
            self.pid = None
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server log, for error messages."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as_postgres(), str(self.bin_dir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
        if done.returncode != 0:
            raise PostgresError(
                f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                f"\n--- server log ---\n{self.log_tail()}"
            )

    def _postmaster_pid(self) -> int | None:
        # First line of postmaster.pid, which exists while the server runs.
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def _wait_gone(pid: int) -> None:
        deadline = time.monotonic() + _STOP_GRACE_S
        while _alive(pid):
            if time.monotonic() > deadline:
                # pg_ctl did not get it down: this is our own server, kill exactly that pid.
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + _STOP_GRACE_S
            time.sleep(0.02)

    @staticmethod
    def _as_postgres() -> list[str]:
        return ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []

    @staticmethod
    def _chown(path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, SUPERUSER, SUPERUSER)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    # A zombie still answers kill(0); it is gone for our purposes once its state says so.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
