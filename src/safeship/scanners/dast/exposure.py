"""Exposure probes: GET a few well-known paths that must never be served.

``/.git/HEAD`` and ``/.git/config`` (rule 41), ``/.env`` (40034), and backup copies (10095):
``.bak``, ``~``, ``.old`` and ``.orig`` next to crawled files, plus a few usual dump and archive
names. Each probe is a plain GET; nothing is sent that could change state.

Sites that answer 200 to every path (single-page apps) would make every probe a hit, so before
probing the scanner asks for a path that cannot exist and remembers that answer: a probe whose
answer is the same body, or HTML, does not count. Content must also look like what it claims
(a ``ref:`` line, ``KEY=value`` lines, an archive's magic number).

Evidence never quotes a ``.env`` value: only the variable names are reported.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from safeship.scanners.dast.fetch import Fetcher, FetchFailed, Page
from safeship.scanners.dast.model import Alert
from safeship.scanners.dast.passive import cut
from safeship.scanners.dast.urls import display_url

BACKUP_SUFFIXES = (".bak", "~", ".old", ".orig")
BACKUP_NAMES = ("backup.zip", "backup.tar.gz", "backup.sql", "database.sql", "dump.sql")
MAX_BACKUP_SOURCES = 5
"""Backup copies are tried next to at most this many crawled files."""

_GIT_HEAD = re.compile(r"\A(?:ref: refs/\S+|[0-9a-f]{40})\s*\Z")
_GIT_CONFIG = re.compile(r"^\s*\[core\]", re.MULTILINE)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", re.MULTILINE)
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"BZh")
_SQL_DUMP = re.compile(rb"(?i)\b(?:CREATE TABLE|INSERT INTO|DROP TABLE)\b")
_FILE_LIKE = re.compile(r"/[^/]+\.[A-Za-z0-9]{1,5}$")


@dataclass(frozen=True)
class _Soft404:
    status: int
    digest: str


def _digest(page: Page) -> str:
    return hashlib.sha256(page.body).hexdigest()


class ExposureProbes:
    """Runs the probes of the enabled exposure rules from one or more base paths."""

    def __init__(self, fetcher: Fetcher, enabled: Callable[[str], bool], token: str,
                 until: float | None = None) -> None:
        self.fetcher = fetcher
        self.enabled = enabled
        self.token = token
        self.until = until
        self._soft404: dict[str, _Soft404 | None] = {}

    def run(self, bases: Iterable[str], crawled: Iterable[str]) -> list[Alert]:
        """Probe under every base URL (``scheme://host:port/dir/``) and next to crawled files."""
        alerts: list[Alert] = []
        for base in dict.fromkeys(bases):
            if self.enabled("41"):
                alerts += self._git(base)
            if self.enabled("40034"):
                alerts += self._env(base)
            if self.enabled("10095"):
                alerts += self._named_backups(base)
        if self.enabled("10095"):
            alerts += self._backups_of(crawled)
        return alerts

    def _get(self, url: str) -> Page | None:
        try:
            return self.fetcher.get(url, until=self.until)
        except FetchFailed:
            return None

    def _missing(self, base: str) -> _Soft404 | None:
        """What the site answers for a path that cannot exist (once per base)."""
        if base not in self._soft404:
            page = self._get(f"{base}safeship-{self.token}-absent.bak")
            self._soft404[base] = (
                _Soft404(page.status, _digest(page)) if page is not None and page.status == 200
                else None
            )
        return self._soft404[base]

    def _served(self, page: Page | None, base: str) -> Page | None:
        """``page`` when it is a real, non-HTML 200 answer (not the site's soft 404)."""
        if page is None or page.status != 200 or not page.body.strip() or page.is_html:
            return None
        soft = self._missing(base)
        return page if soft is None or _digest(page) != soft.digest else None

    def _git(self, base: str) -> list[Alert]:
        head = self._served(self._get(f"{base}.git/HEAD"), base)
        if head is not None and _GIT_HEAD.match(head.text.strip()):
            text = head.text.strip()
            evidence = text if text.startswith("ref:") else "a commit id"
            return [Alert("41", display_url(head.url), cut(evidence), ".git/HEAD is served",
                          status=head.status)]
        config = self._served(self._get(f"{base}.git/config"), base)
        if config is not None and _GIT_CONFIG.search(config.text):
            return [Alert("41", display_url(config.url), "[core] section of .git/config",
                          ".git/config is served", status=config.status)]
        return []

    def _env(self, base: str) -> list[Alert]:
        page = self._served(self._get(f"{base}.env"), base)
        if page is None:
            return []
        names = list(dict.fromkeys(_ENV_LINE.findall(page.text)))
        if not names:
            return []
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return [Alert("40034", display_url(page.url), cut(f"defines {shown} (values hidden)", 200),
                      ".env is served", status=page.status)]

    def _named_backups(self, base: str) -> list[Alert]:
        alerts = []
        for name in BACKUP_NAMES:
            page = self._backup(self._get(f"{base}{name}"), base, name)
            if page is not None:
                alerts.append(self._backup_alert(page))
        return alerts

    def _backups_of(self, crawled: Iterable[str]) -> list[Alert]:
        sources = []
        for url in crawled:
            parts = urlsplit(url)
            if _FILE_LIKE.search(parts.path):
                sources.append(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
        alerts = []
        for source in list(dict.fromkeys(sources))[:MAX_BACKUP_SOURCES]:
            base = source.rsplit("/", 1)[0] + "/"
            for suffix in BACKUP_SUFFIXES:
                page = self._backup(self._get(source + suffix), base, suffix)
                if page is not None:
                    alerts.append(self._backup_alert(page))
                    break
        return alerts

    def _backup(self, page: Page | None, base: str, name: str) -> Page | None:
        served = self._served(page, base)
        if served is None:
            return None
        if name.endswith((".zip", ".gz")):
            return served if served.body.startswith(_ARCHIVE_MAGIC) else None
        if name.endswith(".sql"):
            return served if _SQL_DUMP.search(served.body[:65536]) else None
        return served

    @staticmethod
    def _backup_alert(page: Page) -> Alert:
        kind = page.content_type or "no content type"
        size = f"{len(page.body)}{'+' if page.truncated else ''} bytes"
        return Alert("10095", display_url(page.url), cut(f"200 {kind}, {size}"),
                     "a backup copy is served", status=page.status)


def probe_bases(target: str) -> list[str]:
    """The site root, and the target's own directory when it is not the root."""
    parts = urlsplit(target)
    root = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    directory = parts.path.rsplit("/", 1)[0] + "/" if parts.path else "/"
    bases = [root]
    if directory != "/":
        bases.append(urlunsplit((parts.scheme, parts.netloc, directory, "", "")))
    return bases
