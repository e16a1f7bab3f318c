"""Splitting SQL into statements: strings, dollar quotes and comments never split anything."""

from __future__ import annotations

import logging

import pytest

from safeship.scanners.migrations.model import SqlDialect
from safeship.scanners.migrations.sql_statements import (
    SqlTokenError,
    is_blank,
    parse_statements,
)

PG = SqlDialect.POSTGRES


def test_semicolons_inside_strings_bodies_and_comments_do_not_split() -> None:
    sql = ("INSERT INTO t VALUES ('a;b'); -- trailing; comment\n"
           "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql;\n"
           "/* ; */ SELECT 3")
    statements = parse_statements(sql, PG)
    assert [s.line for s in statements] == [1, 2, 3]
    assert statements[0].text == "INSERT INTO t VALUES ('a;b')"
    assert statements[2].text == "SELECT 3"
    assert all(s.error is None for s in statements)


def test_string_literals_are_left_out_of_keywords_but_command_tails_are_kept() -> None:
    (insert, reindex) = parse_statements("INSERT INTO t VALUES ('drop table');\n"
                                         "REINDEX INDEX ix;", PG)
    assert "DROP" not in insert.keywords
    assert reindex.keywords[:2] == ("REINDEX", "INDEX")


def test_a_parse_error_stays_with_its_statement() -> None:
    first, broken, last = parse_statements("SELECT 1;\nSELEC 2 FROM;\nSELECT 3;", PG)
    assert first.error is None
    assert last.error is None
    assert broken.expression is None
    assert broken.error
    assert broken.line == 2


def test_tokenizer_failure_raises_with_the_first_code_line() -> None:
    with pytest.raises(SqlTokenError) as caught:
        parse_statements("-- note\n\nSELECT 'open", PG)
    assert caught.value.line == 3


def test_sqlglot_fallback_warning_is_not_printed(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        (statement,) = parse_statements("ALTER TABLE t OWNER TO someone", PG)
    assert statement.expression is not None
    assert not [r for r in caplog.records if "Falling back" in r.getMessage()]
    # The filter is removed afterwards: sqlglot's own logging is not changed for good.
    assert not logging.getLogger("sqlglot").filters


@pytest.mark.parametrize(("text", "blank"), [
    ("", True),
    ("\n  \n", True),
    ("-- only a comment\n/* and a block */\n", True),
    (";\n", True),
    ("DROP TABLE t;", False),
    ("SELECT 'unterminated", False),
])
def test_is_blank(text: str, blank: bool) -> None:
    assert is_blank(text, PG) is blank
