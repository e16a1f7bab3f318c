"""Real HAProxy and NGINX routers for tests: started on free loopback ports, stopped by PID.

:func:`managed_haproxy` and :func:`managed_nginx` build a router with ``manage_process: true``
in a temp dir, start the real program (skipped locally, failed under ``CI=true`` when the
binary is missing), and on the way out stop it through :meth:`Router.close` (SIGTERM to the
master's PID, bounded wait for the exit), then check that the master and its workers are gone
and SIGKILL any survivor by PID.

:func:`haproxy_router` and :func:`nginx_router` are the same, shaped as factories of the router
contract suite (:mod:`tests.contract.router_factories`). This module imports nothing from
``tests.contract`` at import time, so that file can import it to register them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from safeship._internal.subprocess import CommandRunner, run_command
from safeship.routers import daemon_process
from safeship.routers.haproxy import HaproxyOptions, HaproxyRouter
from safeship.routers.interface import RouterUnavailable
from safeship.routers.nginx import NginxOptions, NginxRouter
from tests.requirements import require_binary

if TYPE_CHECKING:
    # Imported lazily below: tests/contract/router_factories.py imports this module to register
    # the factories, so importing it back at module level would be circular.
    from tests.contract.router_factories import FactoryContext, RouterUnderTest

_START_ATTEMPTS = 3  # a free port can be taken between probing and binding
_EXIT_WAIT_S = 10.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_gone(pids: set[int], program: str) -> set[int]:
    deadline = time.monotonic() + _EXIT_WAIT_S
    alive = {pid for pid in pids if daemon_process.is_running(pid, program)}
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = {pid for pid in alive if daemon_process.is_running(pid, program)}
    return alive


def _stop_and_check(master: int | None, workers: set[int], program: str,
                    close: Callable[[], None]) -> None:
    close()
    pids = workers | ({master} if master is not None else set())
    survivors = _wait_gone(pids, program)
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    leftover = _wait_gone(survivors, program)
    assert not survivors, f"{program} processes {sorted(survivors)} outlived close()"
    assert not leftover


@contextmanager
def managed_haproxy(tmp_path: Path, *, stats: bool = True) -> Iterator[HaproxyRouter]:
    """A started HAProxy router (see module doc); the admin socket sits in a short temp dir."""
    binary = require_binary("haproxy", "the haproxy router drives a real HAProxy "
                                       "(apt-get install haproxy)")
    socket_dir = Path(tempfile.mkdtemp(prefix="ss-hx-"))
    router: HaproxyRouter | None = None
    try:
        for attempt in range(_START_ATTEMPTS):
            router = HaproxyRouter(HaproxyOptions(
                config_dir=tmp_path / f"haproxy-{attempt}",
                socket=socket_dir / f"admin-{attempt}.sock",
                listen=f"127.0.0.1:{free_port()}",
                stats_listen=f"127.0.0.1:{free_port()}" if stats else None,
                manage_process=True,
                haproxy_binary=binary,
            ))
            try:
                router.start()
                break
            except RouterUnavailable:
                router.close()
                if attempt == _START_ATTEMPTS - 1:
                    raise
        assert router is not None
        master = router.master_pid
        try:
            yield router
        finally:
            workers = daemon_process.child_pids(master) if master else set()
            _stop_and_check(router.master_pid or master, workers, "haproxy", router.close)
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


@contextmanager
def managed_nginx(tmp_path: Path, *, runner: CommandRunner = run_command,
                  **options: object) -> Iterator[NginxRouter]:
    """A started NGINX router (see module doc); temp paths in a temp dir under /tmp.

    ``options`` are extra :class:`NginxOptions` fields; ``runner`` runs the ``nginx`` program.
    """
    binary = require_binary("nginx", "the nginx router drives a real NGINX "
                                     "(apt-get install nginx)")
    temp_dir = Path(tempfile.mkdtemp(prefix="ss-nx-"))
    temp_dir.chmod(0o755)  # the workers run as nobody
    router: NginxRouter | None = None
    try:
        for attempt in range(_START_ATTEMPTS):
            router = NginxRouter(NginxOptions.model_validate({
                "config_dir": tmp_path / f"nginx-{attempt}",
                "temp_dir": temp_dir,
                "listen": f"127.0.0.1:{free_port()}",
                "manage_process": True,
                "nginx_binary": binary,
                **options,
            }), runner=runner)
            try:
                router.start()
                break
            except RouterUnavailable:
                router.close()
                if attempt == _START_ATTEMPTS - 1:
                    raise
        assert router is not None
        try:
            yield router
        finally:
            master = router.master_pid
            workers = daemon_process.child_pids(master) if master else set()
            _stop_and_check(master, workers, "nginx", router.close)
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


@contextmanager
def haproxy_router(ctx: FactoryContext) -> Iterator[RouterUnderTest]:
    """Contract-suite factory: a real HAProxy on free loopback ports."""
    from tests.contract.router_factories import RouterUnderTest

    with managed_haproxy(ctx.tmp_path) as router:
        yield RouterUnderTest(router, router.url)


@contextmanager
def nginx_router(ctx: FactoryContext) -> Iterator[RouterUnderTest]:
    """Contract-suite factory: a real NGINX on a free loopback port."""
    from tests.contract.router_factories import RouterUnderTest

    with managed_nginx(ctx.tmp_path) as router:
        yield RouterUnderTest(router, router.url)
