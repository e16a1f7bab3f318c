"""Every rule of the catalogue: a change that triggers it and a similar one that does not.

Schema rules are generated from their ids (see :mod:`schema_cases`); the others are written out
in :mod:`explicit_cases`. Together they must cover the whole catalogue, so a rule nothing can
trigger, or one the diff reports under another id, fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from safeship.scanners.openapi import RULES, SAFESHIP_RULES, Change, DiffReport, Level
from tests.unit.scanners.openapi.explicit_cases import CASES, Case
from tests.unit.scanners.openapi.schema_cases import (
    KINDS,
    SYMMETRIC,
    documented,
    guarded,
    place_schema,
    split_rule,
)
from tests.unit.scanners.openapi.specs import diff, ids, parse, pointer_target

GENERATED = sorted(r for r in RULES if split_rule(r) is not None)


def _schema_docs(rule: str, *, twin: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    place, guard, kind = split_rule(rule)  # type: ignore[misc]
    base, rev, version = KINDS[kind]
    if twin:
        base, rev = (base, documented(base)) if kind in SYMMETRIC else (rev, base)
    return (place_schema(place, guarded(base, guard), version),
            place_schema(place, guarded(rev, guard), version))


def _the(report: DiffReport, rule: str) -> Change:
    return next(c for c in report.changes if c.id == rule)


@pytest.mark.parametrize("rule", GENERATED)
def test_schema_rule_fires_for_its_change_and_not_for_the_opposite(rule: str) -> None:
    report = diff(*_schema_docs(rule), validate=False)
    assert rule in ids(report)
    found = _the(report, rule)
    assert found.level is RULES[rule].level
    assert found.operation in ("GET /x", "POST /x")
    assert found.message
    assert rule not in ids(diff(*_schema_docs(rule, twin=True), validate=False))


def test_generated_documents_are_valid_openapi() -> None:
    # One place per kind: validity depends on the fragment, the places are fixed shapes.
    seen: set[str] = set()
    for rule in GENERATED:
        _, _, kind = split_rule(rule)  # type: ignore[misc]
        if kind in seen:
            continue
        seen.add(kind)
        base, rev = _schema_docs(rule)
        parse(base)
        parse(rev)
    assert seen == {split_rule(r)[2] for r in GENERATED}  # type: ignore[index]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fires_for_its_change_and_not_for_its_twin(case: Case) -> None:
    report = diff(case.base, case.rev, deprecation_days=case.deprecation_days)
    assert case.rule in ids(report)
    assert _the(report, case.rule).level is RULES[case.rule].level
    base, rev = case.twin_pair()
    assert case.rule not in ids(diff(base, rev, deprecation_days=case.deprecation_days))


def test_every_rule_has_cases() -> None:
    explicit = [c.rule for c in CASES]
    assert len(explicit) == len(set(explicit))
    assert set(GENERATED).isdisjoint(explicit)
    assert set(GENERATED) | set(explicit) == set(RULES)


@pytest.mark.parametrize("case", CASES[::7], ids=[c.rule for c in CASES[::7]])
def test_pointers_and_lines_name_real_places(case: Case) -> None:
    base, rev = parse(case.base, "base.json"), parse(case.rev, "rev.json")
    report = diff(case.base, case.rev, deprecation_days=case.deprecation_days)
    for change in report.changes:
        assert change.base_pointer is not None
        assert change.revision_pointer is not None
        assert pointer_target(base, change.base_pointer) is not None
        assert pointer_target(rev, change.revision_pointer) is not None
        assert (change.base_line or 0) >= 1
        assert (change.revision_line or 0) >= 1


@pytest.mark.parametrize(("rule", "level"), [
    ("api-path-removed-without-deprecation", Level.ERR),
    ("request-parameter-became-required", Level.ERR),
    ("response-property-became-optional", Level.ERR),
    ("new-required-request-property-with-default", Level.ERR),
    ("request-parameter-removed", Level.WARN),
    ("response-property-enum-value-added", Level.WARN),
    ("request-property-removed", Level.WARN),
    ("optional-response-header-removed", Level.WARN),
    ("request-parameter-property-type-changed", Level.WARN),
    ("new-optional-request-property", Level.INFO),
    ("endpoint-added", Level.INFO),
])
def test_levels_are_oasdiffs(rule: str, level: Level) -> None:
    assert RULES[rule].level is level
    assert RULES[rule].origin == "oasdiff"


def test_safeship_rules_are_marked_and_described() -> None:
    assert {r.id for r in RULES.values() if r.origin == "safeship"} == SAFESHIP_RULES
    for rule in RULES.values():
        assert rule.description
        assert rule.description != rule.id
