"""URL plumbing for the scanner: origins, normalisation, and display-safe URLs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Control characters and bidi overrides: a hostile server could put them in a header or link to
# rewrite what a person sees in a terminal or a report viewer.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """``text`` with control and bidi-override characters replaced by ``?``."""
    return _UNSAFE.sub("?", text)


class BadUrl(ValueError):
    """A URL the scanner cannot use."""


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL, host lowercased, default port filled in."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadUrl(f"not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise BadUrl("only http:// and https:// URLs with a host can be scanned")
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def same_origin(url: str, reference: tuple[str, str, int]) -> bool:
    """True when ``url`` is http(s) on exactly the origin ``reference``."""
    try:
        return origin(url) == reference
    except BadUrl:
        return False


def normalise(url: str) -> str:
    """``url`` without its fragment and with an empty path made ``/``."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def resolve(base: str, link: str) -> str | None:
    """``link`` resolved against ``base`` and normalised, or None when it is not http(s)."""
    link = link.strip()
    if not link or link.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        joined = urljoin(base, link)
        parts = urlsplit(joined)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return None
    return normalise(joined)


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with query parameter ``name`` set to ``value`` (other parameters kept)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    replaced = [(key, value if key == name else old) for key, old in pairs]
    if not any(key == name for key, _ in pairs):
        replaced.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(replaced), ""))


def query_params(url: str) -> list[tuple[str, str]]:
    """The query parameters of ``url`` in order, blanks kept."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def path_key(url: str) -> str:
    """``url`` without its query string: pages differing only in query share a path key."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def display_url(url: str) -> str:
    """``url`` safe to show: no user:password, and each query value replaced by ``...``.

    Query values can be tokens (password-reset links, API keys); names are kept because they say
    which parameter a finding is about.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    query = "&".join(f"{name}=..." for name in names) if names else ""
    if parts.query and not names:
        query = "..."
    return safe_text(urlunsplit((parts.scheme, f"{host}{port}", parts.path or "/", query, "")))
