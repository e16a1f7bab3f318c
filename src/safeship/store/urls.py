"""Database URLs of the state store: the default SQLite location and password-free display text."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

#: Folder under the project root that holds safeship's local state.
STATE_DIR = ".safeship"
#: SQLite file inside :data:`STATE_DIR`.
STATE_FILE = "state.db"

_MASK = "***"
# Query parameters that libpq and friends accept as credentials.
_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "passfile_password"})
# Last resort for text that is not even a parseable URL: hide what sits between "user:" and "@".
_USERINFO_PASSWORD = re.compile(r"(?P<head>://[^/:@?#]*:)[^/@?#]*@")


def default_database_url(project_root: Path) -> str:
    """The SQLite URL of ``<project_root>/.safeship/state.db``, absolute and properly escaped."""
    path = project_root.resolve() / STATE_DIR / STATE_FILE
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def masked_url(url: str) -> str:
    """``url`` fit to show a person: every password (user info or query parameter) is ``***``."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return _USERINFO_PASSWORD.sub(rf"\g<head>{_MASK}@", url)
    query = {
        key: (_MASK if key.lower() in _SECRET_QUERY_KEYS else value)
        for key, value in parsed.query.items()
    }
    text = parsed.set(query=query).render_as_string(hide_password=True)
    # render_as_string percent-escapes the mask inside the query string; show it plainly.
    return text.replace("%2A%2A%2A", _MASK)


def url_secrets(url: str) -> list[str]:
    """The passwords inside ``url``, so that they can be scrubbed from any text about it."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        match = _USERINFO_PASSWORD.search(url)
        return [url[match.end("head") : match.end() - 1]] if match else []
    found: list[str] = []
    if parsed.password:
        found.append(str(parsed.password))
    for key, value in parsed.query.items():
        if key.lower() in _SECRET_QUERY_KEYS:
            found.extend([value] if isinstance(value, str) else list(value))
    return [secret for secret in found if secret]


def scrub(text: str, url: str) -> str:
    """``text`` with every password of ``url`` (raw or percent-escaped) replaced by ``***``."""
    for secret in url_secrets(url):
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, _MASK)
    return text


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    database = parsed.database
    if database == ":memory:" or database.startswith("file::memory:"):
        return None
    if database.startswith("file:"):  # a SQLite URI filename (?uri=true)
        database = database.removeprefix("file:")
    return Path(database)
