"""CVE scan: safeship's indexed OSV matcher beside a naive linear matcher, on a PyPA-sized set.

A synthetic advisory database the size of the PyPA advisory-database (3,000 advisories over
1,500 packages, YAML in a zip, with ranges, ``versions`` lists, ``last_affected``, aliases,
withdrawn records and some CVSS vectors) is generated with a fixed seed, together with 500
pinned dependencies (most of them on packages that have advisories). The script reports:

* load time (reading and parsing the zip) and index build time;
* scan time: first scan (compiles each touched package's ranges) and warm scans, median;
* the same 500 dependencies through a naive matcher (every dependency against every advisory,
  versions parsed as it goes), and the ratio;
* that both matchers found the same (package, advisory) pairs.

The target is a scan under 1 s after load. Bounded (fixed sizes, a few rounds, a temp folder
removed at the end); the exit code is 0 whatever the numbers: this is a measurement.

    python benchmarks/cve_scan.py [--advisories 3000] [--packages 1500] [--deps 500]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from safeship.scanners.osv import AdvisoryIndex, ScanTarget, load_database, scan
from safeship.scanners.osv.loader import iter_files

SEED = 20241010
ROUNDS = 5
TARGET_S = 1.0
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def versions_of(rng: random.Random) -> list[str]:
    """A plausible release history: 1-4 majors, minors and patches."""
    out = []
    for major in range(rng.randint(0, 1), rng.randint(2, 5)):
        for minor in range(rng.randint(2, 8)):
            out.extend(f"{major}.{minor}.{patch}" for patch in range(rng.randint(1, 4)))
    return out


def generate(advisories: int, packages: int, deps: int) -> tuple[
        list[tuple[str, dict[str, Any]]], list[ScanTarget]]:
    """Records (name, OSV dict) and the dependencies to scan, from a fixed seed."""
    rng = random.Random(SEED)  # noqa: S311 - synthetic data, not security
    names = [f"pkg-{i:04d}" if i % 3 else f"Pkg_{i:04d}.Lib" for i in range(packages)]
    history = {name: versions_of(rng) for name in names}
    records = []
    for number in range(advisories):
        # Then skewed: popular packages collect many advisories, as in the real database.
        if number < packages:
            name = names[number]  # every package has at least one advisory
        else:
            name = names[min(int(rng.paretovariate(1.2)) - 1, packages - 1)]
        releases = history[name]
        start = rng.randrange(len(releases))
        end = min(len(releases) - 1, start + rng.randint(1, 12))
        events: list[dict[str, str]] = [{"introduced": "0" if start == 0 else releases[start]}]
        if number % 37 == 0:
            events.append({"last_affected": releases[end]})
            affected_versions = releases[start:end + 1]
        else:
            events.append({"fixed": releases[end]})
            affected_versions = releases[start:end]
        record: dict[str, Any] = {
            "id": f"PYSEC-2024-{number}",
            "modified": "2024-10-10T00:00:00Z",
            "aliases": [f"CVE-2024-{10000 + number}"] + (
                [f"GHSA-{number:04x}-aaaa-bbbb"] if number % 4 == 0 else []),
            "summary": f"synthetic advisory {number}",
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events},
                           {"type": "GIT", "repo": "https://example.invalid/r",
                            "events": [{"introduced": "0"}, {"fixed": "abc1234"}]}],
                "versions": affected_versions,
            }],
        }
        if number % 13 == 0:
            record["severity"] = [{"type": "CVSS_V3", "score": VECTOR}]
        if number % 300 == 0:
            record["withdrawn"] = "2024-10-11T00:00:00Z"
        records.append((f"vulns/{name}/PYSEC-2024-{number}.yaml", record))
    targets = []
    for index in range(deps):
        if index % 5 == 4:
            targets.append(ScanTarget(f"unrelated-{index}", "1.0.0"))
            continue
        name = names[rng.randrange(packages)]
        spelled = name.upper().replace("-", "_") if index % 7 == 0 else name
        targets.append(ScanTarget(spelled, rng.choice(history[name])))
    return records, targets


def write_zip(path: Path, records: list[tuple[str, dict[str, Any]]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, record in records:
            archive.writestr(name, yaml.safe_dump(record, sort_keys=False))


def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def naive_affected(version: Version, affected: dict[str, Any]) -> bool:
    """The OSV evaluation written the straightforward way: parse, sort, walk, every time."""
    if any(_parse(v) == version for v in affected.get("versions", [])):
        return True
    for rng in affected.get("ranges", []):
        if rng.get("type") != "ECOSYSTEM":
            continue
        events = []
        for event in rng.get("events", []):
            for kind, text in event.items():
                events.append((Version("0") if text == "0" else _parse(text), kind))
        if any(v is None for v, _ in events):
            continue
        affected_now = False
        for event_version, kind in sorted(events, key=lambda e: e[0]):  # type: ignore[arg-type, return-value]
            if kind == "introduced" and version >= event_version:
                affected_now = True
            elif (kind == "fixed" and version >= event_version) or (
                    kind == "last_affected" and version > event_version):
                affected_now = False
        if affected_now:
            return True
    return False


def naive_scan(raw: list[dict[str, Any]], targets: list[ScanTarget]) -> set[tuple[str, str]]:
    """Every dependency against every advisory (names normalised once per record)."""
    prepared = [(record, [(canonicalize_name(a["package"]["name"]), a)
                          for a in record.get("affected", [])])
                for record in raw if not record.get("withdrawn")]
    found = set()
    for target in targets:
        key = canonicalize_name(target.name)
        version = Version(target.version or "0")
        for record, affected in prepared:
            for name, entry in affected:
                if name == key and naive_affected(version, entry):
                    found.add((key, record["id"]))
    return found


def median_time(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--advisories", type=int, default=3000)
    parser.add_argument("--packages", type=int, default=1500)
    parser.add_argument("--deps", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="safeship-cve-bench-"))
    try:
        records, targets = generate(args.advisories, args.packages, args.deps)
        path = work / "all.zip"
        write_zip(path, records)
        print(f"input: {len(records)} advisories over {args.packages} packages "
              f"({path.stat().st_size / 1e6:.1f} MB zip of YAML), {len(targets)} pinned "
              f"dependencies")

        start = time.perf_counter()
        database = load_database(path)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        index = AdvisoryIndex(database.advisories)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        report = scan(targets, index)
        first_s = time.perf_counter() - start
        warm_s = median_time(lambda: scan(targets, index))
        fresh_s = median_time(lambda: scan(targets, AdvisoryIndex(database.advisories)))

        raw = [yaml.load(data, Loader=yaml.CSafeLoader) for _, data in iter_files(path)]
        naive_s = median_time(lambda: naive_scan(raw, targets), rounds=3)
        naive_pairs = naive_scan(raw, targets)
        ours = {(canonicalize_name(f.package), i) for f in report.findings
                for i in (f.id, *f.aliases) if i.startswith("PYSEC-")}

        print(f"load (read + parse zip)          {load_s * 1000:9.1f} ms   "
              f"({database.stats.records} usable, {database.stats.withdrawn} withdrawn)")
        print(f"index build                      {build_s * 1000:9.1f} ms   "
              f"({index.package_count} packages)")
        print(f"scan, first (compiles ranges)    {first_s * 1000:9.1f} ms")
        print(f"scan, warm (median of {ROUNDS})         {warm_s * 1000:9.1f} ms")
        print(f"index build + first scan (median){fresh_s * 1000:9.1f} ms")
        print(f"naive linear matcher (median of 3){naive_s * 1000:8.1f} ms   "
              f"ratio naive / safeship: {naive_s / first_s:.1f}x first scan, "
              f"{naive_s / warm_s:.1f}x warm")
        print(f"findings: {len(report.findings)} (aliases merged); same pairs as naive: "
              f"{'yes' if ours == naive_pairs else 'NO'} ({len(naive_pairs)} pairs)")
        verdict = "PASS" if build_s + first_s < TARGET_S else "FAIL"
        print(f"target: index build + scan of {len(targets)} deps < {TARGET_S:.0f} s after "
              f"load: {verdict} ({(build_s + first_s) * 1000:.1f} ms)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
