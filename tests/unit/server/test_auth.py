"""Tokens: files and environment variables, names, digests, and what may read or write."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.errors import ConfigError, NotFound, UsageError
from safeship.server.auth import (
    READ_TOKEN_ENV,
    WRITE_TOKEN_ENV,
    Access,
    Credential,
    Principal,
    TokenSet,
    bearer_token,
)

READER = "r" * 24
WRITER = "w" * 24


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_tokens_from_files_and_environment(tmp_path: Path) -> None:
    reads = write(tmp_path / "read", f"# SDK tokens\n\nsdk:{READER}\n{'s' * 16}\n")
    writes = write(tmp_path / "write", f"deployer:{WRITER}\n")
    tokens = TokenSet.load(read_file=reads, write_file=writes, environ={
        WRITE_TOKEN_ENV: "ci:" + "c" * 20, READ_TOKEN_ENV: "e" * 20, "OTHER": "x"})
    assert tokens.has_write_token
    assert sorted(tokens.names) == sorted([
        ("sdk", Access.READ), ("read-4", Access.READ), ("deployer", Access.WRITE),
        ("ci", Access.WRITE), ("env-read", Access.READ)])
    assert tokens.authenticate(READER) == Principal("sdk", Access.READ)
    assert tokens.authenticate(WRITER) == Principal("deployer", Access.WRITE)
    assert tokens.authenticate("c" * 20) == Principal("ci", Access.WRITE)
    assert tokens.authenticate("s" * 16) == Principal("read-4", Access.READ)
    assert tokens.authenticate("e" * 20) == Principal("env-read", Access.READ)


def test_unknown_empty_and_oversized_tokens_are_nobody() -> None:
    tokens = TokenSet([Credential.of("a", Access.WRITE, WRITER)])
    assert tokens.authenticate(WRITER + "x") is None
    assert tokens.authenticate("") is None
    assert tokens.authenticate("w" * 5000) is None


def test_a_token_listed_as_read_and_write_may_write() -> None:
    tokens = TokenSet([Credential.of("a", Access.READ, WRITER),
                       Credential.of("b", Access.WRITE, WRITER),
                       Credential.of("c", Access.READ, WRITER)])
    assert tokens.authenticate(WRITER) == Principal("b", Access.WRITE)


def test_nothing_shows_the_tokens(tmp_path: Path) -> None:
    tokens = TokenSet.load(write_file=write(tmp_path / "w", f"deployer:{WRITER}\n"))
    assert WRITER not in repr(tokens)
    assert "deployer(write)" in repr(tokens)
    credential = Credential.of("x", Access.READ, READER)
    assert READER not in repr(credential)
    assert READER.encode() not in credential.digest


def test_principals_allow_by_access() -> None:
    reader, writer = Principal("r", Access.READ), Principal("w", Access.WRITE)
    assert reader.allows(Access.READ)
    assert not reader.allows(Access.WRITE)
    assert writer.allows(Access.READ)
    assert writer.allows(Access.WRITE)


@pytest.mark.parametrize(("text", "message"), [
    ("short\n", "16 to 1024 characters"),
    ("has space " + "x" * 20 + "\n", "printable ASCII"),
    ("bad name!:" + "x" * 20 + "\n", "the token's name"),
    ("# only a comment\n\n", "holds no token"),
])
def test_bad_token_files_are_refused_at_their_line(tmp_path: Path, text: str,
                                                   message: str) -> None:
    path = write(tmp_path / "tokens", "# header\n" + text)
    with pytest.raises(ConfigError) as caught:
        TokenSet.load(write_file=path)
    rendered = "\n".join(caught.value.diagnostics())
    assert message in rendered
    assert str(path) in rendered
    if "holds no token" not in message:
        assert f"{path}:2" in rendered
    # A refused token is still a secret: the message never quotes it.
    assert "x" * 20 not in rendered


def test_a_short_token_in_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match=WRITE_TOKEN_ENV):
        TokenSet.load(environ={WRITE_TOKEN_ENV: "tooshort"})


def test_missing_and_unreadable_token_files(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such token file"):
        TokenSet.load(read_file=tmp_path / "absent")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="cannot read token file"):
        TokenSet.load(read_file=binary)


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"),
    ("bearer   abc  ", "abc"),
    ("Basic abc", None),
    ("Bearer", None),
    ("", None),
    (None, None),
])
def test_bearer_token_parsing(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
