"""RE2 (gitleaks) regex syntax translated into Python's re."""

from __future__ import annotations

import re

import pytest

from safeship.scanners.secrets.go_regex import RegexTranslationError, translate


@pytest.mark.parametrize(("go", "python"), [
    (r"(?i)abc", r"(?i)abc"),
    (r"abc(?i)def", r"abc(?i:def)"),
    (r"(?:x(?i)y)z", r"(?:x(?i:y))z"),
    (r"a(?i)b|c", r"a(?i:b)|(?i:c)"),
    (r"(?i:x)(?-i)Y", r"(?i:x)(?-i:Y)"),
    (r"foo\z", r"foo\Z"),
    (r"(?<name>a)", r"(?P<name>a)"),
    (r"[[:alpha:]_]+", r"[A-Za-z_]+"),
    (r"\Qa.b\E", r"a\.b"),
    (r"a{,3}", r"a\{,3}"),
    (r"[&&]", r"[\&\&]"),
])
def test_translation(go: str, python: str) -> None:
    assert translate(go) == python
    re.compile(translate(go))


def test_mid_pattern_flag_keeps_re2_meaning() -> None:
    pattern = re.compile(translate(r"KEY(?i)abc"))
    assert pattern.fullmatch("KEYABC")
    assert not pattern.fullmatch("keyabc")  # the flag starts after KEY, as in RE2


def test_flag_carries_into_later_alternatives() -> None:
    pattern = re.compile(translate(r"a(?i)b|c"))
    assert pattern.fullmatch("aB")
    assert pattern.fullmatch("C")
    assert not pattern.fullmatch("A")


def test_end_of_text() -> None:
    assert re.search(translate(r"abc\z"), "xabc")
    assert not re.search(translate(r"abc\z"), "abc\n")


def test_gitleaks_style_rule_compiles() -> None:
    # The shape of many gitleaks provider rules: a case-insensitive keyword part, a
    # case-sensitive value, and an end-of-text alternative.
    go = (r"""(?i)[\w.-]{0,50}?(?:adobe)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|"""
          r"""=>|\?=|,)[\x60'"\s=]{0,5}(?-i)([a-f0-9]{32})(?:[\x60'"\s;]|\\[nr]|$|\z)""")
    with pytest.raises(re.error):
        re.compile(go)
    pattern = re.compile(translate(go))
    assert pattern.search("ADOBE_KEY = '" + "ab" * 16 + "'")
    assert not pattern.search("ADOBE_KEY = '" + "AB" * 16 + "'")


@pytest.mark.parametrize("go", [r"(?U)a+", r"\p{Greek}", r"(a", r"a)", "[abc", "a\\"])
def test_unsupported_or_broken(go: str) -> None:
    with pytest.raises(RegexTranslationError):
        translate(go)
