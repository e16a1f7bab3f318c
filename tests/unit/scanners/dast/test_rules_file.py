"""The rules file: ZAP's tab-separated config and YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.errors import ConfigError, ConfigSyntaxError, NotFound
from safeship.scanners.dast import RULES, Level, load_rules_file
from safeship.scanners.dast.rules_file import parse_rules_tsv, parse_rules_yaml

ZAP_STYLE = """\
# zap-baseline rule configuration file
# Change WARN to IGNORE to ignore rule or FAIL to fail if rule matches
10010\tWARN\t(Cookie No HttpOnly Flag)
10038\tFAIL\t(Content Security Policy (CSP) Header Not Set)
10036\tIGNORE\t(Server Leaks Version Information via "Server" HTTP Response Header Field)
10015\tWARN\t(Re-examine Cache-control Directives)
90022  info
"""


def test_zap_style_tsv() -> None:
    config = parse_rules_tsv(ZAP_STYLE, "rules.tsv")
    assert dict(config.levels) == {"10010": Level.WARN, "10038": Level.FAIL,
                                   "10036": Level.IGNORE, "10015": Level.WARN,
                                   "90022": Level.INFO}
    assert config.not_implemented == ("10015",)


def test_yaml_forms() -> None:
    nested = parse_rules_yaml('rules:\n  "10038": fail\n  10036: IGNORE\n', "r.yaml")
    assert dict(nested.levels) == {"10038": Level.FAIL, "10036": Level.IGNORE}
    flat = parse_rules_yaml("10021: WARN\n", "r.yaml")
    assert dict(flat.levels) == {"10021": Level.WARN}
    assert dict(parse_rules_yaml("", "r.yaml").levels) == {}
    assert dict(parse_rules_yaml("rules:\n", "r.yaml").levels) == {}


def test_problems_name_file_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules_tsv("10038\tFAIL\n10021\tMAYBE\nabc\tWARN\n99999\tFAIL\n10020\n", "r.tsv")
    lines = caught.value.diagnostics()
    assert lines[0] == "r.tsv:2:1: 10021: level 'MAYBE' is not one of FAIL, WARN, INFO, IGNORE"
    assert lines[1] == "r.tsv:3:1: abc: a rule id is a number, e.g. 10038"
    assert lines[2].startswith("r.tsv:4:1: 99999: this scanner does not implement the rule")
    assert lines[3] == "r.tsv:5:1: expected '<rule id>\\t<level>', got '10020'"


def test_yaml_problems() -> None:
    with pytest.raises(ConfigSyntaxError, match="YAML syntax error"):
        parse_rules_yaml("rules: [\n", "r.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_rules_yaml("- 10038\n", "r.yaml")
    with pytest.raises(ConfigError) as caught:
        parse_rules_yaml("rules:\n  10038: fail\n  10021: nope\n", "r.yaml")
    assert caught.value.diagnostics()[0].startswith("r.yaml:3:3: 10021: level 'nope'")


def test_load_by_extension(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text("10038: IGNORE\n")
    (tmp_path / "r.conf").write_text("10038\tIGNORE\n")
    assert load_rules_file(tmp_path / "r.yml").levels == {"10038": Level.IGNORE}
    assert load_rules_file(tmp_path / "r.conf").levels == {"10038": Level.IGNORE}
    with pytest.raises(NotFound):
        load_rules_file(tmp_path / "missing.tsv")


def test_catalogue_facts() -> None:
    assert len(RULES) == 20
    for rule in RULES.values():
        assert rule.id.isdigit()
        assert rule.owasp.split(":")[0] in {"A01", "A03", "A05"}
        assert rule.owasp.endswith(("Broken Access Control", "Injection",
                                    "Security Misconfiguration"))
        assert rule.cwe > 0
        assert rule.default_level in {Level.FAIL, Level.WARN}
        assert rule.description.endswith(".")
        assert rule.solution.endswith(".")
