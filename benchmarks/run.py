"""Benchmarks: safeship's gates side by side with the tools people use without safeship.

* compile gate vs ``python -m compileall -q -f`` (what CI scripts usually run);
* lint gate vs a bare ``ruff check --output-format json`` (the gate's overhead);
* coverage gate vs ``coverage report --fail-under`` (reading the same data).

Each pair runs on the same input in the same process run, alternating, and the script prints
medians and the ratio safeship / alternative. Nothing here asserts: these are measurements.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from safeship.gates.compile import CompileGate, CompileOptions
from safeship.gates.coverage import CoverageGate, CoverageOptions
from safeship.gates.interface import GateContext
from safeship.gates.lint import LintGate, LintOptions

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 7


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def compare(name: str, ours: Callable[[], object], theirs: Callable[[], object],
            alternative: str) -> None:
    ours_t, theirs_t = [], []
    for _ in range(ROUNDS):
        ours_t.append(timed(ours))
        theirs_t.append(timed(theirs))
    a, b = statistics.median(ours_t), statistics.median(theirs_t)
    print(f"{name:<10} safeship {a * 1000:8.1f} ms   {alternative:<34} {b * 1000:8.1f} ms   "
          f"ratio {a / b:5.2f}")


def run(argv: list[str], cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=False, capture_output=True)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="safeship-bench-"))
    try:
        shutil.copytree(ROOT / "src", work / "src")
        shutil.copytree(ROOT / "tests", work / "tests")
        ctx = GateContext(project_root=work)
        files = len(list(work.rglob("*.py")))
        print(f"input: {files} Python files (safeship's own source and tests), "
              f"median of {ROUNDS} rounds")
        compile_gate = CompileGate(CompileOptions())
        compare("compile", lambda: compile_gate.evaluate(ctx),
                lambda: run([sys.executable, "-m", "compileall", "-q", "-f", "src", "tests"],
                            work), "python -m compileall -q -f")
        lint_gate = LintGate(LintOptions())
        compare("lint", lambda: lint_gate.evaluate(ctx),
                lambda: run([sys.executable, "-m", "ruff", "check", "--output-format", "json",
                             "--no-fix", "--exit-zero", "."], work), "ruff check (json)")
        run([sys.executable, "-m", "coverage", "run", "-m", "compileall", "-q", "src"], work)
        run([sys.executable, "-m", "coverage", "json", "-o", "coverage.json"], work)
        if (work / "coverage.json").exists():
            coverage_gate = CoverageGate(CoverageOptions(minimum="1%", report="coverage.json"))
            compare("coverage", lambda: coverage_gate.evaluate(ctx),
                    lambda: run([sys.executable, "-m", "coverage", "report", "--fail-under=1"],
                                work), "coverage report --fail-under")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
