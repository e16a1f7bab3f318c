"""Command-line times: absolute, ISO 8601 and relative to now."""

from __future__ import annotations

import pytest

from safeship._internal.timestamps import TimestampSyntaxError, parse_timestamp

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("text", "expected"), [
    ("now", NOW),
    ("now-30m", NOW - 1800),
    ("now - 1h", NOW - 3600),
    ("now+5m", NOW + 300),
    ("-90s", NOW - 90),
    ("1732600000", 1732600000.0),
    ("1732600000.5", 1732600000.5),
    ("2026-11-26T07:00:00Z", 1795676400.0),
    ("2026-11-26T08:00:00+01:00", 1795676400.0),
    ("2026-11-26T07:00:00", 1795676400.0),
])
def test_accepted_forms(text: str, expected: float) -> None:
    assert parse_timestamp(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "now-soon", "26/11/2026", ""])
def test_rejected_forms(text: str) -> None:
    with pytest.raises(TimestampSyntaxError):
        parse_timestamp(text, NOW)
