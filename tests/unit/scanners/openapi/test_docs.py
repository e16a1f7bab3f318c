"""docs/api-contract.md lists the whole rule catalogue with the levels the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from safeship.scanners.openapi import RULES, Level

DOC = Path(__file__).resolve().parents[4] / "docs" / "api-contract.md"
ROW = re.compile(r"^\| `([a-z0-9-]+)`(?: \*\(safeship\)\*)? \| (ERR|WARN|INFO) \| (.+) \|$")


def test_the_catalogue_table_matches_the_rules() -> None:
    catalogue_part = DOC.read_text().split("\n## Rule catalogue\n", 1)[1]
    rows = {m[1]: (m[2], m[3]) for line in catalogue_part.splitlines()
            if (m := ROW.match(line))}
    catalogue = {rule_id: (rule.level.value, rule.description) for rule_id, rule in RULES.items()}
    assert rows == catalogue


def test_the_counts_in_the_text_are_the_catalogues() -> None:
    counts = {level: sum(1 for r in RULES.values() if r.level is level) for level in Level}
    text = DOC.read_text()
    assert (f"{len(RULES)} rules: {counts[Level.ERR]} ERR, {counts[Level.WARN]} WARN, "
            f"{counts[Level.INFO]} INFO") in text
