"""Following ``make TARGET`` into its recipe, prerequisites and ``$(MAKE)`` calls."""

from __future__ import annotations

from safeship.assess.ci_evidence import runs_gates
from safeship.assess.makefile_recipes import (
    MAX_TARGETS_VISITED,
    find_in_recipes,
    make_targets,
    parse_makefile,
)

MAKEFILE = """\
# A project Makefile.
BIN := .venv/bin
CHECK = $(BIN)/safeship gates run --no-store

.PHONY: test lint ci

$(BIN)/python:
\tpython3 -m venv .venv

lint: $(BIN)/python
\t$(BIN)/ruff check src

test: lint | $(BIN)/python
\t$(BIN)/pytest -q \\
\t    --cov=src
\t$(BIN)/safeship \\
\t    gates run --no-store

ci:
\t$(MAKE) test
quick: ; echo quick
"""


def test_rules_recipes_and_the_default_goal() -> None:
    rules, default = parse_makefile(MAKEFILE)
    assert default == "$(BIN)/python"  # the first ordinary target, as GNU make picks it
    assert rules["test"].prerequisites == ("lint", "$(BIN)/python")
    # A continued line is one recipe line, numbered by its first physical line.
    assert rules["test"].recipe == ((14, "$(BIN)/pytest -q --cov=src"),
                                    (16, "$(BIN)/safeship gates run --no-store"))
    assert rules["quick"].recipe == ((21, "echo quick"),)
    assert "BIN" not in rules  # assignments are not rules
    assert "CHECK" not in rules


def test_a_target_reaches_the_command_through_prerequisites_and_sub_makes() -> None:
    rules, _ = parse_makefile(MAKEFILE)
    hit = find_in_recipes(rules, ["ci"], runs_gates)
    assert hit is not None
    assert (hit.target, hit.line) == ("test", 16)
    assert find_in_recipes(rules, ["lint"], runs_gates) is None
    assert find_in_recipes(rules, ["nonexistent"], runs_gates) is None


def test_a_variable_holding_the_command_is_not_expanded() -> None:
    rules, _ = parse_makefile("check:\n\t$(CHECK)\n")
    assert find_in_recipes(rules, ["check"], runs_gates) is None


def test_cycles_and_long_chains_end() -> None:
    rules, _ = parse_makefile("a: b\n\techo a\nb: a\n\techo b\n")
    assert find_in_recipes(rules, ["a"], runs_gates) is None
    chain = "".join(f"t{i}: t{i + 1}\n\techo {i}\n" for i in range(MAX_TARGETS_VISITED + 5))
    chain += f"t{MAX_TARGETS_VISITED + 5}:\n\tsafeship gates run\n"
    rules, _ = parse_makefile(chain)
    assert find_in_recipes(rules, ["t0"], runs_gates) is None  # beyond the bound
    assert find_in_recipes(rules, [f"t{MAX_TARGETS_VISITED}"], runs_gates) is not None


def test_make_arguments() -> None:
    assert make_targets("-j4 test lint") == ["test", "lint"]
    assert make_targets("-C sub -f other.mk VAR=1 all") == ["all"]
    assert make_targets("--directory sub") == []
    assert make_targets("") == []


def test_runs_gates_matches_invocations_not_comments_or_other_commands() -> None:
    for line in ("safeship gates run", "  .venv/bin/safeship -v gates run --format junit",
                 "python -m safeship gates run", "- run: safeship gates run --risk high",
                 "$(BIN)/safeship gates run --no-store"):
        assert runs_gates(line), line
    for line in ("# safeship gates run", "safeship gates list", "safeship assess; gates run",
                 "echo safeship && gates run", "safeshipper gates run"):
        assert not runs_gates(line), line
