"""Split SQL text into statements with their line numbers, and parse each one with sqlglot.

The text is tokenized once with the dialect's tokenizer (so semicolons inside strings,
dollar-quoted bodies and comments do not split anything), cut at each ``;``, and every
statement is parsed on its own: one statement sqlglot does not understand does not hide the
others. A statement that does not parse keeps its error; sqlglot's quiet fallback to a generic
``Command`` is kept too, and :mod:`.sql_operations` decides whether that is worth a look.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from sqlglot import Token, TokenType, exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from safeship.scanners.migrations.model import SqlDialect

_SQLGLOT_LOG = logging.getLogger("sqlglot")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_TOKEN_REPR = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+.*?>")


@dataclass(frozen=True)
class Statement:
    """One SQL statement: where it is, its text, and its syntax tree or why there is none."""

    line: int
    end_line: int
    text: str
    expression: exp.Expr | None
    error: str | None
    keywords: tuple[str, ...]
    """Upper-cased text of its tokens except string literals (for partly parsed statements)."""


class SqlTokenError(Exception):
    """The text could not even be split into tokens (an unterminated string or comment)."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(detail)
        self.line = line
        self.detail = detail


class _DropCommandFallbackWarning(logging.Filter):
    """Hide sqlglot's "falling back to parsing as a 'Command'" warning: we report it ourselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


_FILTER = _DropCommandFallbackWarning()
# Gates of one stage run in threads: the filter stays while any of them is parsing.
_FILTER_LOCK = threading.Lock()
_FILTER_USERS = [0]


@contextmanager
def _quiet_fallbacks() -> Iterator[None]:
    with _FILTER_LOCK:
        if _FILTER_USERS[0] == 0:
            _SQLGLOT_LOG.addFilter(_FILTER)
        _FILTER_USERS[0] += 1
    try:
        yield
    finally:
        with _FILTER_LOCK:
            _FILTER_USERS[0] -= 1
            if _FILTER_USERS[0] == 0:
                _SQLGLOT_LOG.removeFilter(_FILTER)


@cache
def _dialect(dialect: SqlDialect) -> Dialect:
    return Dialect.get_or_raise(dialect.value)


def parse_statements(text: str, dialect: SqlDialect) -> list[Statement]:
    """Every statement of ``text`` in order, parsed; raises :class:`SqlTokenError`."""
    engine = _dialect(dialect)
    try:
        tokens = engine.tokenize(text)
    except TokenError as exc:
        raise SqlTokenError(_failing_line(engine, text), str(exc)) from exc
    with _quiet_fallbacks():
        return [_parse(engine, group, text) for group in _split(tokens)]


def is_blank(text: str, dialect: SqlDialect) -> bool:
    """True when ``text`` holds no SQL at all (only whitespace, comments and semicolons)."""
    try:
        tokens = _dialect(dialect).tokenize(text)
    except TokenError:
        return False  # something is there, even if it is broken
    return all(token.token_type is TokenType.SEMICOLON for token in tokens)


def _split(tokens: list[Token]) -> Iterator[list[Token]]:
    group: list[Token] = []
    for token in tokens:
        if token.token_type is TokenType.SEMICOLON:
            if group:
                yield group
            group = []
        else:
            group.append(token)
    if group:
        yield group


def _parse(engine: Dialect, tokens: list[Token], text: str) -> Statement:
    first, last = tokens[0], tokens[-1]
    source = text[first.start:last.end + 1]
    end_line = first.line + source.count("\n")
    keywords = _keywords(tokens)
    try:
        trees = engine.parser().parse(tokens, text)
    except ParseError as exc:
        return Statement(first.line, end_line, source, None, _first_error(exc), keywords)
    except Exception as exc:  # any sqlglot failure on odd input means "could not parse"
        return Statement(first.line, end_line, source, None, f"{type(exc).__name__}: {exc}",
                         keywords)
    parsed = [tree for tree in trees if tree is not None]
    if len(parsed) != 1:
        return Statement(first.line, end_line, source, None,
                         f"expected one statement, sqlglot read {len(parsed)}", keywords)
    return Statement(first.line, end_line, source, parsed[0], None, keywords)


def _keywords(tokens: list[Token]) -> tuple[str, ...]:
    """Upper-cased words of the statement, string literals left out.

    Some statements (``REINDEX``, ``DO``...) tokenize as one command word and the rest of the
    text as a single string; that string's words are kept, so nothing hides in it.
    """
    words: list[str] = []
    previous: Token | None = None
    for token in tokens:
        if not token.token_type.name.endswith("STRING"):
            words.append(token.text.upper())
        elif previous is not None and previous.token_type is TokenType.COMMAND:
            words.extend(w.upper() for w in _WORD.findall(token.text))
        previous = token
    return tuple(words)


def _first_error(error: ParseError) -> str:
    details = error.errors[0] if error.errors else {}
    description = str(details.get("description") or error).splitlines()[0]
    # sqlglot puts a token's repr in some messages; people need only its text.
    description = _TOKEN_REPR.sub(lambda m: repr(m.group(1)), description)
    near = details.get("highlight")
    return f"{description} near '{near}'" if near else description


def _failing_line(engine: Dialect, text: str) -> int:
    """The line where tokenizing starts to fail: the first line whose prefix does not tokenize.

    A binary search over line prefixes (an unterminated string fails every prefix that holds
    its opening quote); exact for the usual case, a good hint otherwise.
    """
    lines = text.splitlines(keepends=True)
    good, bad = 0, len(lines)
    while bad - good > 1:
        middle = (good + bad) // 2
        try:
            engine.tokenize("".join(lines[:middle]))
        except TokenError:
            bad = middle
        else:
            good = middle
    return max(bad, 1)
