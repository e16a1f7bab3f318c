"""Bearer tokens of the flag service: who may read, who may write, and who did it.

Two kinds of token: a **read** token may evaluate flags, fetch snapshots, follow the stream
and read definitions and history; a **write** token may do all of that and change flags.
Tokens come from files (one per line, ``NAME:TOKEN`` or a bare ``TOKEN``; ``#`` starts a
comment) and from the ``SAFESHIP_FLAGS_READ_TOKEN`` / ``SAFESHIP_FLAGS_WRITE_TOKEN``
environment variables (one token each, same syntax). The name is what the history records as
the actor of a change made with that token.

Only SHA-256 digests of the tokens are kept in memory, and a presented token is compared with
every known digest by :func:`hmac.compare_digest`, without stopping at the first match, so
neither the comparison nor which token matched shows in the timing. Nothing here logs or
prints a token, and :class:`TokenSet`'s ``repr`` shows names only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from safeship.errors import ConfigError, ConfigProblem, NotFound, SourceLocation, UsageError

# Names of environment variables, not secrets.
READ_TOKEN_ENV = "SAFESHIP_FLAGS_READ_TOKEN"  # noqa: S105
WRITE_TOKEN_ENV = "SAFESHIP_FLAGS_WRITE_TOKEN"  # noqa: S105
#: Shorter tokens are refused: they can be guessed.
MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 1024
#: The name recorded as actor when the service runs with ``--unsafe-no-auth``.
ANONYMOUS = "anonymous"

_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")


class Access(StrEnum):
    """What a token (or an operation) allows: reading, or reading and writing."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Principal:
    """Who sent a request: the token's name and what it may do."""

    name: str
    access: Access

    def allows(self, needed: Access) -> bool:
        """True when this principal may perform an operation that needs ``needed``."""
        return needed is Access.READ or self.access is Access.WRITE


@dataclass(frozen=True)
class Credential:
    """A known token, as its name, its access and its SHA-256 digest (never the token)."""

    name: str
    access: Access
    digest: bytes = field(repr=False)

    @classmethod
    def of(cls, name: str, access: Access, token: str) -> Credential:
        """The credential of ``token``; the token itself is not kept."""
        return cls(name, access, _digest(token))


class TokenSet:
    """The tokens the service accepts (see the module docstring)."""

    def __init__(self, credentials: Sequence[Credential]) -> None:
        """Accept ``credentials``; a token listed as both read and write counts as write."""
        by_digest: dict[bytes, Credential] = {}
        for credential in credentials:
            known = by_digest.get(credential.digest)
            if known is None or credential.access is Access.WRITE:
                by_digest[credential.digest] = credential
        self._credentials = tuple(by_digest.values())

    def __repr__(self) -> str:
        names = ", ".join(f"{c.name}({c.access})" for c in self._credentials)
        return f"TokenSet([{names}])"

    @property
    def has_write_token(self) -> bool:
        """True when at least one token may write."""
        return any(c.access is Access.WRITE for c in self._credentials)

    @property
    def names(self) -> tuple[tuple[str, Access], ...]:
        """The name and access of every token, for a start-up summary."""
        return tuple((c.name, c.access) for c in self._credentials)

    def authenticate(self, token: str) -> Principal | None:
        """The principal ``token`` belongs to, or None. Compares against every token."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        presented = _digest(token)
        found: Credential | None = None
        for credential in self._credentials:
            # No early exit: the time taken must not depend on which token matched.
            if hmac.compare_digest(credential.digest, presented) and found is None:
                found = credential
        return None if found is None else Principal(found.name, found.access)

    @classmethod
    def load(cls, *, read_file: Path | None = None, write_file: Path | None = None,
             environ: Mapping[str, str] | None = None) -> TokenSet:
        """Tokens from the files and the environment variables (see the module docstring).

        Raises:
            NotFound: a token file does not exist.
            ConfigError: a token file or variable has a bad line (file:line, what is wrong).
        """
        credentials: list[Credential] = []
        for path, access in ((read_file, Access.READ), (write_file, Access.WRITE)):
            if path is not None:
                credentials += parse_token_file(path, access)
        env = environ or {}
        for variable, access in ((READ_TOKEN_ENV, Access.READ), (WRITE_TOKEN_ENV, Access.WRITE)):
            value = env.get(variable, "").strip()
            if value:
                credentials.append(_parse_line(value, access, f"env-{access}", variable, None))
        return cls(credentials)


def parse_token_file(path: Path, access: Access) -> list[Credential]:
    """The tokens in ``path``, one per line (``NAME:TOKEN`` or ``TOKEN``; ``#`` comments).

    Raises:
        NotFound: there is no such file.
        ConfigError: a line is not a usable token, or the file holds none.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such token file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read token file {path}: {exc}") from None
    credentials = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        credentials.append(
            _parse_line(line, access, f"{access}-{number}", str(path), number))
    if not credentials:
        raise ConfigError([ConfigProblem(SourceLocation(str(path)), "",
                                         f"the {access} token file holds no token")],
                          hint="write one token per line, optionally as NAME:TOKEN")
    return credentials


def _parse_line(line: str, access: Access, default_name: str, source: str,
                number: int | None) -> Credential:
    name, sep, token = line.partition(":")
    if not sep:
        name, token = default_name, line
    where = SourceLocation(source, number)

    def refuse(message: str, hint: str) -> ConfigError:
        # The message never quotes the token: it is a secret even when it is a bad one.
        return ConfigError([ConfigProblem(where, f"{access} token", message)], hint=hint)

    if not _NAME.match(name):
        raise refuse("the token's name may hold letters, digits and _ . @ + - (at most 64)",
                     "write NAME:TOKEN, e.g. deployer:<token>")
    if not _TOKEN.match(token):
        raise refuse("a token is printable ASCII without spaces",
                     "generate one with: python -c 'import secrets; "
                     "print(secrets.token_urlsafe(32))'")
    if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
        raise refuse(f"a token needs {MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH} characters",
                     "generate one with: python -c 'import secrets; "
                     "print(secrets.token_urlsafe(32))'")
    return Credential.of(name, access, token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
