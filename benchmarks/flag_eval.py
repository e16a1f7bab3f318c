"""Flag evaluation benchmark: the in-process OpenFeature provider side by side with a remote
evaluation per call, and with a plain dict lookup as the floor.

Everything runs on 127.0.0.1 in one run. The flag service (``safeship flags serve``'s command
function) runs in its own process over a temp store holding two flags:

* ``simple``: a boolean flag, on, no rules (``STATIC``);
* ``targeted``: five rules (regex, semver, ``in``, ``equals``, ``not_in``) that all get checked
  before a 25 % rollout decides (``SPLIT``), as in docs/flags.md's measurement.

Per call, for each flag (median of ``--rounds`` rounds of ``--calls`` calls, each call with
another targeting key):

* ``dict lookup``: ``values[key]``, what a hard-coded config costs (the floor);
* ``evaluate()``: :func:`safeship.flags.evaluate` alone;
* ``provider``: ``SafeshipProvider.resolve_boolean_details`` (evaluation, counters, metadata);
* ``OpenFeature client``: ``client.get_boolean_details`` through ``openfeature.api`` (hooks,
  context merging, the SDK's type check);
* ``remote HTTP``: ``POST /v1/flags/{key}/evaluate`` on a keep-alive httpx client.

Ratios are against the provider. Then **propagation**: the time from sending a write until a
connected provider returns the new value, for writes through the API (in-process notification)
and writes by another process on the same database (the service's 200 ms poll).

Nothing here asserts: these are measurements. ``python benchmarks/flag_eval.py [--rounds 5]
[--calls 20000] [--json FILE]``; bounded in count and time; exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from openfeature import api
from openfeature.evaluation_context import EvaluationContext as OpenFeatureContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from safeship.flags import EvaluationContext, Flag, changes, evaluate
from safeship.flags.compact import parse_rule
from safeship.openfeature import SafeshipProvider
from safeship.server.auth import READ_TOKEN_ENV, WRITE_TOKEN_ENV
from safeship.store.flags import FlagStore

READ_TOKEN = "bench-read-" + "r" * 20
WRITE_TOKEN = "bench-write-" + "w" * 20
WRITE = {"Authorization": f"Bearer {WRITE_TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}
_SERVE = ("import typer; from safeship.cli.flags_serve_cmd import serve; "
          "app = typer.Typer(add_completion=False); app.command()(serve); app()")
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
PROPAGATION_TIMEOUT_S = 10.0
REMOTE_CALL_SHARE = 20
"""Remote calls are ~1000x slower: run calls / REMOTE_CALL_SHARE of them."""
ATTRIBUTES = {"email": "ann@corp.test", "app_version": "2.3.0", "country": "DE",
              "plan": "pro"}


def targeted_flag() -> Flag:
    """The five-rule flag of docs/flags.md's measurement: no rule matches ATTRIBUTES."""
    flag = changes.enable(changes.new_flag("targeted"), "production")
    flag = changes.set_rollout(flag, "production", 0.25)
    return changes.set_rules(flag, "production", [
        parse_rule("staff: email regex @example\\.com$ -> on", 1),
        parse_rule("old: app_version semver_lt 2.0.0 -> off", 2),
        parse_rule("eu: country in FR,IT,ES -> on", 3),
        parse_rule("free: plan equals free -> off", 4),
        parse_rule("embargo: country not_in DE,FR,IT,ES,US -> off", 5),
    ])


def simple_flag() -> Flag:
    return changes.enable(changes.new_flag("simple"), "production")


@contextmanager
def flag_service(project: Path) -> Iterator[str]:
    """The service in its own process; its URL."""
    env = {**os.environ, READ_TOKEN_ENV: READ_TOKEN, WRITE_TOKEN_ENV: WRITE_TOKEN}
    env.pop("SAFESHIP_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, "--port", "0", "--format", "json", "-C", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        if not line:
            raise SystemExit("the flag service did not start")
        yield json.loads(line)["url"]
    finally:
        process.terminate()
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_GRACE_S)


def per_call(action: Callable[[int], object], calls: int, rounds: int) -> float:
    """Median seconds per call of ``action(i)`` over ``rounds`` rounds of ``calls`` calls."""
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(calls):
            action(i)
        results.append((time.perf_counter() - start) / calls)
    return statistics.median(results)


def until(condition: Callable[[], bool]) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > PROPAGATION_TIMEOUT_S:
            raise SystemExit("a change never reached the provider")
        time.sleep(0.0002)
    return time.perf_counter() - start


def summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {"n": len(ms), "median_ms": statistics.median(ms),
            "p90_ms": ms[int(0.9 * (len(ms) - 1))], "max_ms": ms[-1]}


def evaluation_table(provider: SafeshipProvider, url: str, flags: list[Flag], calls: int,
                     rounds: int) -> dict[str, dict[str, float]]:
    client = api.get_client("bench")
    keys = [f"user-{i}" for i in range(calls)]
    ours = [EvaluationContext(key, ATTRIBUTES) for key in keys]
    theirs = [OpenFeatureContext(key, ATTRIBUTES) for key in keys]
    results: dict[str, dict[str, float]] = {}
    with httpx.Client(base_url=url, headers=READ, timeout=10) as http:
        for flag in flags:
            values = {flag.key: True}
            name = flag.key
            remote_calls = max(50, calls // REMOTE_CALL_SHARE)
            row = {
                "dict lookup": per_call(lambda _i, k=name, v=values: v[k], calls, rounds),
                "evaluate()": per_call(
                    lambda i, f=flag: evaluate(f, ours[i], "production"), calls, rounds),
                "provider": per_call(
                    lambda i, k=name: provider.resolve_boolean_details(k, False, theirs[i]),
                    calls, rounds),
                "OpenFeature client": per_call(
                    lambda i, k=name: client.get_boolean_details(k, False, theirs[i]),
                    calls, rounds),
                "remote HTTP": per_call(
                    lambda i, k=name: http.post(
                        f"/v1/flags/{k}/evaluate",
                        json={"context": {"targetingKey": keys[i], **ATTRIBUTES}}),
                    remote_calls, rounds),
            }
            results[name] = row
            check = http.post(f"/v1/flags/{name}/evaluate", json={
                "context": {"targetingKey": keys[0], **ATTRIBUTES}}).json()
            local = provider.resolve_boolean_details(name, False, theirs[0])
            same = (check["variant"], check["reason"]) == (local.variant, str(local.reason))
            print(f"\nflag '{name}' ({check['reason']}; remote and local agree: {same})")
            base = row["provider"]
            for label, seconds in row.items():
                print(f"  {label:<20} {seconds * 1e6:10.2f} us/call  {1 / seconds:12,.0f}/s  "
                      f"ratio to provider {seconds / base:8.2f}")
    return results


def propagation(provider: SafeshipProvider, url: str, project: Path,
                rounds: int) -> dict[str, dict[str, float]]:
    client = api.get_client("bench")
    context = OpenFeatureContext("user-1")
    via_api, via_store = [], []
    with httpx.Client(base_url=url, headers=WRITE, timeout=10) as http:
        for n in range(rounds):
            action, expected = ("kill", False) if n % 2 == 0 else ("unkill", True)
            sent = time.perf_counter()
            http.post(f"/v1/flags/simple/{action}", json={"reason": "bench"})
            until(lambda e=expected: client.get_boolean_value("simple", not e, context) is e)
            via_api.append(time.perf_counter() - sent)
    with FlagStore.open(None, project) as store:
        for n in range(rounds):
            kill = n % 2 == 0
            sent = time.perf_counter()
            store.update("simple", changes.kill if kill else changes.unkill,
                         action="kill" if kill else "unkill", actor="bench", reason="bench",
                         at=datetime.now(UTC))
            until(lambda k=kill: client.get_boolean_value("simple", k, context) is not k)
            via_store.append(time.perf_counter() - sent)
            time.sleep(0.037 * (n % 5))  # spread the writes over the poll interval
    results = {"API write (in-process notification)": summary(via_api),
               "write by another process (200 ms poll)": summary(via_store)}
    print("\npropagation: from sending a write until the connected provider returns the "
          "new value")
    for label, numbers in results.items():
        print(f"  {label:<40} n={numbers['n']:.0f}  median {numbers['median_ms']:7.1f} ms  "
              f"p90 {numbers['p90_ms']:7.1f} ms  max {numbers['max_ms']:7.1f} ms")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="safeship-flag-bench-") as temp:
        project = Path(temp)
        flags = [simple_flag(), targeted_flag()]
        with FlagStore.open(None, project) as store:
            for flag in flags:
                store.create(flag, actor="bench", reason="bench", at=datetime.now(UTC))
        with flag_service(project) as url:
            provider = SafeshipProvider(url, token=READ_TOKEN)
            api.set_provider_and_wait(provider, "bench")
            try:
                print(f"flag service at {url}; median of {args.rounds} rounds of "
                      f"{args.calls} calls (remote: {max(50, args.calls // REMOTE_CALL_SHARE)})")
                table = evaluation_table(provider, url, flags, args.calls, args.rounds)
                spread = propagation(provider, url, project, rounds=20)
            finally:
                provider.shutdown()
                api.clear_providers()
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "per_call_seconds": table, "propagation": spread}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
