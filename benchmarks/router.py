"""Router benchmark: safeship's embedded proxy side by side with HAProxy and NGINX.

Everything runs on this machine in one run, on 127.0.0.1 only:

* the backend is a fast NGINX answering ``return 200 "v1"`` / ``"v2"`` on two ports (so the
  proxies, not the backend, are what is measured);
* ``direct`` is wrk against the v1 backend itself: the baseline;
* ``embedded`` (:class:`safeship.routers.embedded.EmbeddedRouter`), ``haproxy`` and ``nginx``
  (safeship's routers with ``manage_process``) each split 90/10 over the two backends.

Each target gets ``wrk -t2 -c20 -d<duration>s --latency``. The script prints requests per second,
p50 and p99, the latency each proxy *adds* over the direct baseline, and the ratios
embedded / HAProxy and NGINX / HAProxy (for req/s, higher is better; for added latency, lower).

Then a **weight-flip test under load**: wrk runs against each router while a thread flips the
split between 100/0 and 0/100 every 50 ms (bounded count); every socket error and every non-2xx
answer wrk counts is a failed request. NGINX changes weights by reload, and a reload races
requests sent on idle keep-alive connections (infra.md, section 3), so NGINX is also run with
``Connection: close`` (a new connection per request).

Nothing here asserts: these are measurements.
``python benchmarks/router.py [--duration 5] [--rounds 1]``;
a missing program (wrk, nginx, haproxy) or router is reported in the table and skipped, and the
script exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from safeship.model.endpoints import Endpoint
from safeship.routers.embedded import EmbeddedOptions, EmbeddedRouter
from safeship.routers.haproxy import HaproxyOptions, HaproxyRouter
from safeship.routers.interface import Router
from safeship.routers.nginx import NginxOptions, NginxRouter

SPLIT = {"v1": 90.0, "v2": 10.0}
FLIP_EVERY_S = 0.05
STOP_WAIT_S = 10.0
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reported."""

    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int

    @property
    def failed(self) -> int:
        """Requests that did not get a 2xx/3xx answer."""
        return self.socket_errors + self.non_2xx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parse_wrk(text: str) -> WrkResult:
    """Pull the numbers out of ``wrk --latency`` output."""

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        return float(found.group(1)) * _UNIT[found.group(2)] if found else float("nan")

    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return WrkResult(
        requests=int(total.group(1)) if total else 0,
        requests_per_s=float(rate.group(1)) if rate else 0.0,
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        socket_errors=sum(int(value) for value in errors.groups()) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def run_wrk(wrk: str, url: str, duration: float, *, close: bool = False) -> WrkResult:
    argv = [wrk, "-t2", "-c20", f"-d{duration:g}s", "--latency", "--timeout", "5s", url]
    if close:
        argv[1:1] = ["-H", "Connection: close"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60,
                          check=False)
    return parse_wrk(done.stdout)


# --- the fast backend --------------------------------------------------------------------------


@contextlib.contextmanager
def fast_backend(nginx: str, work: Path) -> Iterator[dict[str, list[Endpoint]]]:
    """One NGINX answering v1 and v2 on two ports, in the foreground, stopped by PID."""
    ports = {"v1": free_port(), "v2": free_port()}
    temp = work / "tmp"
    temp.mkdir(mode=0o755)
    servers = "\n".join(
        f"  server {{ listen 127.0.0.1:{port}; location = /healthz {{ return 200 \"ok\\n\"; }}"
        f" location / {{ return 200 \"{version}\\n\"; }} }}"
        for version, port in ports.items())
    conf = work / "backend.conf"
    conf.write_text(
        f"worker_processes 1;\npid {work}/backend.pid;\nerror_log {work}/backend.log warn;\n"
        "events { worker_connections 4096; }\nhttp {\n  access_log off;\n"
        f"  client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fcgi; uwsgi_temp_path {temp}/uwsgi;"
        f" scgi_temp_path {temp}/scgi;\n{servers}\n}}\n")
    process = subprocess.Popen([nginx, "-c", str(conf), "-e", str(work / "backend.log"),
                                "-g", "daemon off;"], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _listening(ports["v1"]):
            time.sleep(0.02)
        yield {version: [Endpoint("127.0.0.1", port)] for version, port in ports.items()}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_WAIT_S)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --- the routers ------------------------------------------------------------------------------

RouterStarter = Callable[[Path], tuple[Router, str]]


def start_embedded(work: Path) -> tuple[Router, str]:
    router = EmbeddedRouter(EmbeddedOptions())
    return router, router.start().url()


def start_haproxy(work: Path) -> tuple[Router, str]:
    binary = shutil.which("haproxy")
    if binary is None:
        raise RuntimeError("haproxy is not installed")
    router = HaproxyRouter(HaproxyOptions(
        config_dir=work / "haproxy", listen=f"127.0.0.1:{free_port()}", manage_process=True,
        haproxy_binary=binary))
    router.start()
    return router, router.url


def start_nginx(work: Path) -> tuple[Router, str]:
    binary = shutil.which("nginx")
    if binary is None:
        raise RuntimeError("nginx is not installed")
    temp = work / "nginx-router-tmp"
    temp.mkdir(mode=0o755)
    router = NginxRouter(NginxOptions(
        config_dir=work / "nginx", temp_dir=temp, listen=f"127.0.0.1:{free_port()}",
        manage_process=True, nginx_binary=binary))
    router.start()
    return router, router.url


def flip_under_load(router: Router, wrk: str, url: str, duration: float,
                    *, close: bool = False) -> tuple[int, WrkResult]:
    """wrk for ``duration`` while another thread flips 100/0 <-> 0/100 every 50 ms."""
    stop = threading.Event()
    flips = 0

    def flipper() -> None:
        nonlocal flips
        for index in range(int(duration / FLIP_EVERY_S) + 1):
            if stop.is_set():
                return
            router.set_weights({"v1": 0, "v2": 100} if index % 2 == 0 else
                               {"v1": 100, "v2": 0})
            flips += 1
            if stop.wait(FLIP_EVERY_S):
                return

    router.set_weights({"v1": 100, "v2": 0})
    thread = threading.Thread(target=flipper, name="flipper", daemon=True)
    thread.start()
    try:
        result = run_wrk(wrk, url, duration, close=close)
    finally:
        stop.set()
        thread.join(timeout=STOP_WAIT_S + 30)
    router.set_weights(SPLIT)
    return flips, result


# --- report -----------------------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    """``a / b``, or n/a when either side is noise (an added latency below the baseline)."""
    return f"{a / b:6.2f}" if a >= 0 and b > 0 else "   n/a"


def median_result(results: list[WrkResult]) -> WrkResult:
    """The run with the median throughput (its latencies come with it)."""
    ordered = sorted(results, key=lambda result: result.requests_per_s)
    return ordered[len(ordered) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0,
                        help="seconds per wrk run (default 5, at most 60)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="throughput rounds, targets interleaved; the median is shown "
                             "(default 1, at most 5)")
    args = parser.parse_args()
    # wrk drops its connections mid-request when a run ends; aiohttp logs each one as an error.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    duration = max(1.0, min(args.duration, 60.0))
    rounds = max(1, min(args.rounds, 5))
    wrk, nginx = shutil.which("wrk"), shutil.which("nginx")
    if wrk is None or nginx is None:
        print("router benchmark skipped: needs wrk and nginx "
              "(apt-get install --no-install-recommends wrk nginx)")
        return 0
    starters: dict[str, RouterStarter] = {
        "embedded": start_embedded, "haproxy": start_haproxy, "nginx": start_nginx}
    runs: dict[str, list[WrkResult]] = {}
    flips: list[tuple[str, int, WrkResult]] = []
    skipped: dict[str, str] = {}
    work = Path(tempfile.mkdtemp(prefix="safeship-bench-router-"))
    work.chmod(0o755)  # NGINX workers run as nobody
    routers: dict[str, tuple[Router, str]] = {}
    try:
        backend_dir = work / "backend"
        backend_dir.mkdir(mode=0o755)
        with fast_backend(nginx, backend_dir) as backends:
            targets = {"direct": backends["v1"][0].url() + "/"}
            for name, starter in starters.items():
                try:
                    router, url = starter(work)
                except Exception as exc:  # a router that cannot start is reported, not fatal
                    skipped[name] = f"{type(exc).__name__}: {exc}"
                    continue
                routers[name] = (router, url)
                router.set_backends(backends)
                router.set_weights(SPLIT)
                targets[name] = url + "/"
            # Interleaved, so a busy moment of the machine does not land on one target only.
            for _ in range(rounds):
                for name, url in targets.items():
                    runs.setdefault(name, []).append(run_wrk(wrk, url, duration))
            for name, (router, url) in routers.items():
                count, result = flip_under_load(router, wrk, url + "/", duration)
                flips.append((name, count, result))
                if name == "nginx":
                    count, result = flip_under_load(router, wrk, url + "/", duration, close=True)
                    flips.append(("nginx (Connection: close)", count, result))
    finally:
        for router, _ in routers.values():
            router.close()
        shutil.rmtree(work, ignore_errors=True)
    throughput = {name: median_result(results) for name, results in runs.items()}
    report(throughput, flips, skipped, duration, rounds)
    return 0


def report(throughput: dict[str, WrkResult], flips: list[tuple[str, int, WrkResult]],
           skipped: dict[str, str], duration: float, rounds: int) -> None:
    base = throughput["direct"]
    print(f"wrk -t2 -c20 -d{duration:g}s --latency, median of {rounds} round(s), split "
          f"{SPLIT}, backend: NGINX return 200; +p50/+p99 = added over direct")
    print(f"{'target':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} "
          f"{'+p99 ms':>8} {'failed':>7}")
    for name, result in throughput.items():
        added50 = result.p50_ms - base.p50_ms if name != "direct" else 0.0
        added99 = result.p99_ms - base.p99_ms if name != "direct" else 0.0
        print(f"{name:<10} {result.requests_per_s:>10.0f} {result.p50_ms:>8.3f} "
              f"{result.p99_ms:>8.3f} {added50:>8.3f} {added99:>8.3f} {result.failed:>7}")
    for name, reason in skipped.items():
        print(f"{name:<10} skipped: {reason}")
    if "haproxy" in throughput:
        ref = throughput["haproxy"]
        print()
        print(f"{'ratio':<22} {'req/s':>7} {'+p50':>7} {'+p99':>7}")
        for name in ("embedded", "nginx"):
            if name in throughput:
                mine = throughput[name]
                print(f"{name + ' / haproxy':<22} "
                      f"{ratio(mine.requests_per_s, ref.requests_per_s):>7} "
                      f"{ratio(mine.p50_ms - base.p50_ms, ref.p50_ms - base.p50_ms):>7} "
                      f"{ratio(mine.p99_ms - base.p99_ms, ref.p99_ms - base.p99_ms):>7}")
    print()
    print(f"weight flips under load (100/0 <-> 0/100 every {FLIP_EVERY_S * 1000:.0f} ms)")
    print(f"{'router':<26} {'flips':>6} {'requests':>9} {'failed':>7}")
    for name, count, result in flips:
        print(f"{name:<26} {count:>6} {result.requests:>9} {result.failed:>7}")


if __name__ == "__main__":
    raise SystemExit(main())
