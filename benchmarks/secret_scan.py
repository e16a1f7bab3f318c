"""Secret scanning: safeship's scanner beside detect-secrets, on the same generated tree.

The tree (default: 3,000 files, about 5 MB) is ordinary-looking source, configuration and
documentation (Python, JavaScript, YAML, JSON, Markdown, .env) generated from a fixed seed, with
the labelled corpus of ``tests/unit/scanners/secrets/corpus.py`` planted in it: about 300
realistic credentials of about 200 provider formats, each in its own file, and about 150
placeholders and look-alikes. Both scanners scan every file once, in this process, each with its
own defaults for parallelism (detect-secrets uses a process pool over all CPUs; safeship uses
worker processes above 2 MB of text). safeship runs with plain ``re`` (what runs without the
optional hyperscan wheel), and, when the wheel is installed, with its default (hyperscan finds
the keywords) and with the rule regexes in hyperscan too (what scans above 64 MB use).

Printed per scanner: wall seconds, MB/s, files/s, the throughput ratio to detect-secrets, recall
on the planted credentials (a planted file counts as found when the scanner reports anything in
it) and flags on the planted placeholders and look-alikes. detect-secrets is a benchmark-only
dependency (``pip install detect-secrets==1.5.0``); without it only safeship's numbers print.

    python benchmarks/secret_scan.py [--files 3000] [--seed 1] [--rounds 3] [--json out.json]

Bounded: the tree is fixed in size, safeship runs ``--rounds`` times per variant (median
counts), detect-secrets once; the exit code is 0. On a busy machine the ratio moves with the
load: compare runs made on an idle one.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.scanners.secrets.corpus import negatives, positives  # noqa: E402

from safeship.scanners.secrets import ScanOptions, default_ruleset, scan_paths  # noqa: E402
from safeship.scanners.secrets.prefilter import hyperscan_module  # noqa: E402

# Words of ordinary code, including the ones secret rules key on (key, token, session...), so
# the keyword prefilter has real work to do.
WORDS = ["user", "order", "item", "price", "total", "account", "session", "request", "response",
         "handler", "config", "value", "service", "client", "server", "cache", "queue", "event",
         "result", "status", "error", "message", "payload", "data", "record", "index", "count",
         "limit", "offset", "page", "filter", "sort", "key", "token", "name", "id", "time",
         "date"]


@dataclass(frozen=True)
class Outcome:
    name: str
    seconds: float
    flagged_files: frozenset[str]


def _python_module(rng: random.Random) -> str:
    lines = ['"""Generated module."""', "", "import logging", "",
             "log = logging.getLogger(__name__)", ""]
    for _ in range(rng.randint(4, 14)):
        fn = "_".join(rng.sample(WORDS, 2))
        args = ", ".join(rng.sample(WORDS, rng.randint(1, 3)))
        lines += [f"def {fn}({args}):", f'    """Compute the {fn.replace("_", " ")}."""']
        for _ in range(rng.randint(3, 12)):
            a, b, c = rng.sample(WORDS, 3)
            lines.append(rng.choice([
                f"    {a} = {b}.get('{c}', {rng.randint(0, 999)})",
                f"    if {a} is None:\n        return {b}",
                f"    log.debug('{a} %s {b}', {c})",
                f"    {a}_{b} = [{c} for {c} in {a} if {c}]",
                f"    # {a} before {b}: the {c} must be set first",
            ]))
        lines += [f"    return {rng.choice(WORDS)}", ""]
    return "\n".join(lines) + "\n"


def _javascript(rng: random.Random) -> str:
    lines = ["'use strict';", ""]
    for _ in range(rng.randint(4, 12)):
        a, b, c = rng.sample(WORDS, 3)
        lines += [f"export function {a}{b.title()}({c}) {{",
                  f"  const {a} = {c}.{b} ?? {rng.randint(0, 99)};",
                  f"  return fetch(`/api/{a}/${{{a}}}`).then((r) => r.json());", "}", ""]
    return "\n".join(lines) + "\n"


def _yaml(rng: random.Random) -> str:
    lines = ["service:", f"  name: {rng.choice(WORDS)}-{rng.randint(1, 99)}", "  settings:"]
    lines += [f"    {rng.choice(WORDS)}_{rng.choice(WORDS)}: {rng.randint(0, 10_000)}"
              for _ in range(rng.randint(5, 30))]
    return "\n".join(lines) + "\n"


def _json(rng: random.Random) -> str:
    return json.dumps({f"{rng.choice(WORDS)}_{i}": rng.choice(WORDS) for i in range(
        rng.randint(5, 60))}, indent=2) + "\n"


def _markdown(rng: random.Random) -> str:
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))
                  for _ in range(rng.randint(2, 8))]
    return "# Notes\n\n" + "\n\n".join(paragraphs) + "\n"


def build_tree(root: Path, files: int, seed: int) -> tuple[set[str], set[str]]:
    """Write the tree; return the planted positive and negative file paths."""
    rng = random.Random(seed)  # noqa: S311  (reproducible test data, not cryptography)
    makers: list[tuple[str, Callable[[random.Random], str]]] = [
        (".py", _python_module), (".js", _javascript), (".yaml", _yaml), (".json", _json),
        (".md", _markdown)]
    for number in range(files):
        suffix, make = rng.choice(makers)
        path = root / f"pkg{number % 40:02d}" / f"mod{number:05d}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make(rng))
    planted_pos: set[str] = set()
    planted_neg: set[str] = set()
    for kind, samples, target in (("pos", positives(seed), planted_pos),
                                  ("neg", negatives(seed), planted_neg)):
        for number, sample in enumerate(samples):
            relative = f"planted/{kind}{number:03d}/{sample.path}"
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(sample.text)
            target.add(relative)
    return planted_pos, planted_neg


VARIANTS = {
    False: "safeship, plain re",
    None: "safeship, default",
    True: "safeship, hyperscan+regexes",
}


def run_safeship(root: Path, accelerate: bool | None, rounds: int) -> Outcome:
    ruleset = default_ruleset()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        report = scan_paths(root, ruleset, ScanOptions(accelerate=accelerate))
        times.append(time.perf_counter() - started)
    return Outcome(VARIANTS[accelerate], statistics.median(times),
                   frozenset(f.file for f in report.findings))


def run_detect_secrets(root: Path, files: list[str]) -> Outcome | None:
    try:
        from detect_secrets import SecretsCollection
        from detect_secrets.settings import default_settings
    except ImportError:
        return None
    started = time.perf_counter()
    with default_settings():
        collection = SecretsCollection(root=str(root))
        collection.scan_files(*files)
    seconds = time.perf_counter() - started
    flagged = frozenset(Path(name).as_posix() for name, found in collection.data.items() if found)
    return Outcome("detect-secrets 1.5 (defaults)", seconds, flagged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=3000, help="generated files besides the "
                        "planted corpus (default 3000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3,
                        help="safeship runs per variant; the median counts (default 3; "
                             "detect-secrets runs once: it takes 100x longer)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="safeship-secrets-bench-"))
    try:
        planted_pos, planted_neg = build_tree(work, args.files, args.seed)
        files = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
        size = sum((work / f).stat().st_size for f in files)
        print(f"tree: {len(files)} files, {size / 1e6:.2f} MB; planted: {len(planted_pos)} "
              f"credentials ({len({p.split('/')[1] for p in planted_pos})} files), "
              f"{len(planted_neg)} placeholders/look-alikes")
        default_ruleset()  # compile the rules once, outside the timings
        # "plain re" is what runs without the optional hyperscan wheel; "default" uses the
        # wheel for keywords when it is installed; the last adds the rule regexes to it.
        outcomes = [run_safeship(work, False, args.rounds)]
        if hyperscan_module() is not None:
            outcomes += [run_safeship(work, None, args.rounds),
                         run_safeship(work, True, args.rounds)]
        theirs = run_detect_secrets(work, files)
        if theirs is None:
            print("detect-secrets is not installed: pip install detect-secrets==1.5.0")
        else:
            outcomes.append(theirs)
        rows = []
        print(f"{'scanner':<30} {'seconds':>8} {'MB/s':>8} {'files/s':>9} {'vs d-s':>7} "
              f"{'recall':>7} {'flags on negatives':>19}")
        for outcome in outcomes:
            recall = len(planted_pos & outcome.flagged_files) / len(planted_pos)
            noise = len(planted_neg & outcome.flagged_files) / len(planted_neg)
            ratio = theirs.seconds / outcome.seconds if theirs else float("nan")
            rows.append({"scanner": outcome.name, "seconds": round(outcome.seconds, 3),
                         "mb_per_s": round(size / 1e6 / outcome.seconds, 3),
                         "files_per_s": round(len(files) / outcome.seconds, 1),
                         "speedup_vs_detect_secrets": round(ratio, 2),
                         "recall": round(recall, 3), "negatives_flagged": round(noise, 3)})
            print(f"{outcome.name:<30} {outcome.seconds:8.2f} {size / 1e6 / outcome.seconds:8.2f} "
                  f"{len(files) / outcome.seconds:9.0f} {ratio:6.1f}x {recall:7.1%} "
                  f"{noise:19.1%}")
        print("targets: throughput >= 20x detect-secrets, recall >= 90 %, flags on "
              "negatives <= 10 %")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"files": len(files), "bytes": size,
                                             "results": rows}, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
