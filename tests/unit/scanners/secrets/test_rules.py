"""The default rule set and gitleaks-style TOML rule files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safeship.errors import ConfigError, NotFound, UsageError
from safeship.scanners.secrets import Detector, default_ruleset, load_ruleset
from safeship.scanners.secrets.rules import AllowTarget, Condition, RuleSet
from safeship.scanners.secrets.ruleset import PATTERN_RULE_ID

from .corpus import Gen


def test_default_rules_are_broad_and_well_formed() -> None:
    rules = default_ruleset().rules
    assert len(rules) >= 220  # gitleaks ships about 220, Nosey Parker about 190
    ids = [rule.id for rule in rules]
    assert len(ids) == len(set(ids))
    for rule in rules:
        assert rule.description
        assert all(keyword == keyword.lower() for keyword in rule.keywords), rule.id
        assert rule.regex is not None or rule.path is not None, rule.id
        assert rule.keywords or rule.regex is None, f"{rule.id} runs on every file"


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GITLEAKS_TOML = r"""
title = "team rules"

[extend]
useDefault = true
disabledRules = ["generic-key"]

[[rules]]
id = "acme-token"
description = "ACME internal token"
regex = '''(?i)acme[\w.-]{0,20}[\s'"]{0,3}(?:=|:)\s{0,3}(?-i)(acme_[a-z0-9]{24})(?:['"\s]|$|\z)'''
secretGroup = 1
entropy = 3.0
keywords = ["ACME"]
tags = ["internal"]

[[rules.allowlists]]
description = "fixtures"
paths = ['''^tests/fixtures/''']

[[rules.allowlists]]
condition = "AND"
regexTarget = "line"
regexes = ['''rotated''']
stopwords = ["acme_0000"]

[[rules]]
id = "github-pat"
entropy = 4.2

[rules.allowlist]
regexes = ['''ghp_[A-Za-z0-9]{30}AAAAAA''']

[[allowlists]]
description = "vendored code"
paths = ['''(?:^|/)vendor/''']

[[allowlists]]
targetRules = ["acme-token"]
stopwords = ["sandbox"]
"""


def test_gitleaks_toml_with_allowlists(tmp_path: Path, gen: Gen) -> None:
    ruleset = load_ruleset(write(tmp_path, GITLEAKS_TOML))
    ids = {rule.id for rule in ruleset.rules}
    assert "acme-token" in ids
    assert "generic-key" not in ids  # disabledRules
    assert "aws-access-key-id" in ids  # useDefault keeps the defaults
    acme = ruleset.rule("acme-token")
    assert acme.secret_group == 1
    assert acme.keywords == ("acme",)
    assert acme.tags == ("internal",)
    assert len(acme.allowlists) == 2
    assert acme.allowlists[1].condition is Condition.AND
    assert acme.allowlists[1].regex_target is AllowTarget.LINE
    # An existing id overrides the fields it sets and adds its allowlists.
    github = ruleset.rule("github-pat")
    assert github.entropy == 4.2
    assert github.regex is not None
    assert github.regex.pattern.startswith("(?<![A-Za-z0-9])")
    assert len(github.allowlists) == 1
    assert len(ruleset.allowlists) == 2

    detector = Detector(ruleset)
    token = "acme_" + gen.low(24)
    assert [f.rule_id for f in detector.scan(f"ACME_TOKEN={token}\n", "app/.env").findings] \
        == ["acme-token"]
    assert not detector.scan(f"ACME_TOKEN={token}\n", "tests/fixtures/a.env").findings
    assert not detector.scan(f"ACME_TOKEN={token}\n", "vendor/lib/a.env").findings
    sandbox = "acme_sandbox" + gen.low(17)
    assert not detector.scan(f"ACME_TOKEN={sandbox}\n", "app/.env").findings


def test_and_allowlist_needs_every_condition(tmp_path: Path) -> None:
    ruleset = load_ruleset(write(tmp_path, GITLEAKS_TOML))
    detector = Detector(ruleset)
    stop = "acme_0000" + "k3j9x2m4p7q1w8e5r6tz"
    # The AND allowlist needs both the stopword and "rotated" on the line.
    assert detector.scan(f"ACME_KEY={stop}\n", "a.env").findings
    assert not detector.scan(f"ACME_KEY={stop}  # rotated\n", "a.env").findings


def test_file_without_extend_replaces_defaults(tmp_path: Path) -> None:
    path = write(tmp_path,
                 '[[rules]]\nid = "only"\nregex = "only_[0-9]{8}"\nkeywords = ["only_"]\n')
    ruleset = load_ruleset(path)
    assert [rule.id for rule in ruleset.rules] == ["only"]


def test_extend_path_chains_files(tmp_path: Path) -> None:
    write(tmp_path, '[[rules]]\nid = "base"\nregex = "base_[0-9]{8}"\n', "base.toml")
    path = write(tmp_path, '[extend]\npath = "base.toml"\n\n[[rules]]\nid = "top"\n'
                           'regex = "top_[0-9]{8}"\n')
    assert [rule.id for rule in load_ruleset(path).rules] == ["base", "top"]


def test_skip_report_rules_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rules]]\nid = "part"\nregex = "x"\nskipReport = true\n'
                           '[[rules]]\nid = "kept"\nregex = "y"\n')
    assert [rule.id for rule in load_ruleset(path).rules] == ["kept"]


def test_bad_regex_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rules]]\nid = "ok"\nregex = "a"\n\n[[rules]]\nid = "bad"\n'
                           'description = "x"\nregex = "(unclosed"\n')
    with pytest.raises(ConfigError) as caught:
        load_ruleset(path)
    [problem] = caught.value.problems
    assert problem.location.path == str(path)
    assert problem.location.line == 8
    assert "rules[bad].regex" in problem.render()


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rules]]\nid = "a"\nregex = "x\n')
    with pytest.raises(ConfigError) as caught:
        load_ruleset(path)
    location = caught.value.problems[0].location
    assert (location.path, location.line) == (str(path), 3)
    assert location.column is not None


@pytest.mark.parametrize(("body", "message"), [
    ('[[rules]]\ndescription = "no id"\nregex = "x"\n', "needs an `id`"),
    ('[[rules]]\nid = "a"\n', "needs `regex`, `path` or both"),
    ('[[rules]]\nid = "a"\nregex = "x"\nregexx = "y"\n', "unknown key"),
    ('[[rules]]\nid = "a"\nregex = "(x)"\nsecretGroup = 2\n', "1 capture groups"),
    ('[[rules]]\nid = "a"\nregex = "x"\nentropy = -1\n', "number >= 0"),
    ('[[rules]]\nid = "a"\nregex = "x"\nkeywords = "x"\n', "list of strings"),
    ('[[rules]]\nid = "a"\nregex = "x"\n[rules.allowlist]\ncondition = "XOR"\n', "OR or AND"),
    ('[[rules]]\nid = "a"\nregex = "x"\nvalidator = "nope"\n', "unknown validator"),
    ('bogus = 1\n', "unknown top-level key"),
])
def test_invalid_rule_files(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_ruleset(write(tmp_path, body))
    assert message in "\n".join(caught.value.diagnostics())


def test_missing_rule_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_ruleset(tmp_path / "nope.toml")


def test_path_only_rule(tmp_path: Path) -> None:
    ruleset = default_ruleset()
    detector = Detector(ruleset)
    [finding] = detector.path_findings("certs/client.p12")
    assert finding.rule_id == "pkcs12-file"
    assert finding.line == 0
    assert not detector.path_findings("certs/client.pem")


def test_guide_pattern_adds_one_rule(gen: Gen) -> None:
    ruleset = load_ruleset(pattern="(?i)(password|secret|key).*=.+")
    assert len(ruleset.rules) == len(default_ruleset().rules) + 1
    rule = ruleset.rule(PATTERN_RULE_ID)
    detector = Detector(RuleSet((rule,)))
    value = gen.password()
    assert [f.rule_id for f in detector.scan(f'db_password = "{value}"\n', "app.py").findings] \
        == [PATTERN_RULE_ID]
    for quiet in ('if password == other:\n', "key = None\n", "monkey = 3\n",
                  'password = os.environ["DB_PASSWORD"]\n', 'secret = "changeme"\n',
                  "key_id = 42\n"):
        assert not detector.scan(quiet, "app.py").findings, quiet


def test_invalid_pattern_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        load_ruleset(pattern="(unclosed")


def test_every_default_regex_is_python_and_hyperscan_loosenable() -> None:
    from safeship.scanners.secrets.prefilter import loosen_for_hyperscan

    for rule in default_ruleset().rules:
        if rule.regex is not None:
            re.compile(loosen_for_hyperscan(rule.regex.pattern))
