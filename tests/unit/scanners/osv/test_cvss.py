"""The CVSS v3.x base-score calculator against the specification's examples and formulas."""

from __future__ import annotations

import math

import pytest

from safeship.scanners.osv.cvss import (
    CvssError,
    cvss3_base_score,
    parse_cvss3,
    roundup_30,
    roundup_31,
)

# Vector -> base score pairs from the CVSS v3.1 specification's worked examples (the same
# vectors are scored identically by NVD). Each exercises a different branch: scope changed,
# privileges under a changed scope, physical/adjacent vectors, user interaction.
SPEC_EXAMPLES = [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),  # e.g. CVE-2014-6271
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),  # reflected XSS
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),  # e.g. CVE-2014-0160
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
    ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8),
    ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8),
    ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
]


@pytest.mark.parametrize(("vector", "score"), SPEC_EXAMPLES)
def test_known_vectors_score_as_the_specification_says(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


def test_score_follows_the_formula_worked_by_hand() -> None:
    # AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N, worked with the spec's weights:
    iss = 1 - (1 - 0.22) * (1 - 0.0) * (1 - 0.0)
    impact = 6.42 * iss
    exploitability = 8.22 * 0.2 * 0.44 * 0.27 * 0.62
    expected = math.ceil((impact + exploitability) * 10) / 10  # 1.5335... -> 1.6
    assert expected == 1.6
    assert cvss3_base_score("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N") == expected


def test_temporal_and_environmental_metrics_do_not_change_the_base_score() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:R/CR:L/MAV:P"
    assert cvss3_base_score(vector) == 9.8


def test_roundup_31_is_immune_to_float_error_but_30_is_not() -> None:
    assert roundup_31(4.000000000000001) == 4.0
    assert roundup_30(4.000000000000001) == 4.1
    assert roundup_31(4.02) == 4.1
    assert roundup_31(10.0) == 10.0


def test_parse_keeps_version_and_scope() -> None:
    parsed = parse_cvss3("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    assert parsed.version == "3.0"
    assert parsed.scope_changed


@pytest.mark.parametrize("vector", [
    "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
    "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # bad value
    "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # twice
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",  # unknown metric
    "CVSS:3.1/AV",
    "",
])
def test_malformed_vectors_are_refused(vector: str) -> None:
    with pytest.raises(CvssError):
        cvss3_base_score(vector)
