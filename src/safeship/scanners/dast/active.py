"""Active probes: safe GET requests with harmless markers, one parameter at a time.

For each crawled URL with query parameters (at most :data:`MAX_PROBED_URLS`, and
:data:`MAX_PARAMS_PER_URL` parameters each):

* **40012 reflected XSS**: the value becomes ``"><safeship<token>>``; the probe hits when an HTML
  answer contains that tag unencoded;
* **40018 SQL error leakage**: a single quote is appended to the value; the probe hits when the
  answer shows a database error message that the original page did not;
* **20019 open redirect**, for parameters named like a redirect target or holding a URL or path:
  the value becomes ``https://safeship-probe.invalid/<token>`` (a reserved name that never
  resolves); the probe hits when the answer redirects there. Redirects are never followed.

And once per scan, **10098 CORS**: the start page is requested with
``Origin: https://safeship-probe.invalid``; the probe hits when that origin is echoed back with
credentials allowed.

Only GET is ever sent; no marker could change state or reach a host other than the target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from safeship.scanners.dast.fetch import Fetcher, FetchFailed, Page
from safeship.scanners.dast.model import Alert
from safeship.scanners.dast.passive import cut
from safeship.scanners.dast.urls import display_url, path_key, query_params, with_param

PROBE_HOST = "safeship-probe.invalid"
PROBE_ORIGIN = f"https://{PROBE_HOST}"
MAX_PROBED_URLS = 25
MAX_PARAMS_PER_URL = 8

REDIRECT_PARAMS = frozenset({
    "next", "url", "redirect", "redirect_to", "redirect_uri", "redirecturl", "return",
    "returnto", "return_to", "returnurl", "continue", "dest", "destination", "goto", "target",
    "to", "r", "u", "forward", "callback", "out", "view", "location",
})

_SQL_ERRORS = re.compile("|".join((
    r"You have an error in your SQL syntax",
    r"Warning: mysqli?_\w+\(",
    r"MySqlException",
    r"unterminated quoted string at or near",
    r"syntax error at or near",
    r"pg_query\(\)",
    r"psycopg2?\.(?:errors|ProgrammingError)",
    r"org\.postgresql\.util\.PSQLException",
    r"sqlite3\.OperationalError",
    r"SQLITE_ERROR",
    r"unrecognized token: \"",
    r"near \"[^\"]*\": syntax error",
    r"ORA-\d{5}",
    r"quoted string not properly terminated",
    r"Unclosed quotation mark after the character string",
    r"Microsoft OLE DB Provider for (?:SQL Server|ODBC Drivers)",
    r"\[ODBC SQL Server Driver\]",
    r"SQLSTATE\[\w+\]",
    r"java\.sql\.SQLException",
)))
_META_REFRESH = re.compile(r"(?is)<meta[^>]+http-equiv=[\"']?refresh[^>]+>")


class ActiveProbes:
    """Sends the probes of the enabled active rules."""

    def __init__(self, fetcher: Fetcher, enabled: Callable[[str], bool], token: str,
                 until: float | None = None) -> None:
        self.fetcher = fetcher
        self.enabled = enabled
        self.token = token
        self.until = until

    def run(self, start: Page, pages: Iterable[Page]) -> list[Alert]:
        """Probe the start page for CORS, then each parameterised page."""
        alerts: list[Alert] = []
        if self.enabled("10098"):
            alerts += self._cors(start)
        for page in _probe_targets(pages):
            for name, value in query_params(page.url)[:MAX_PARAMS_PER_URL]:
                alerts += self._parameter(page, name, value)
        return alerts

    def _get(self, url: str, headers: dict[str, str] | None = None) -> Page | None:
        try:
            return self.fetcher.get(url, extra_headers=headers, until=self.until)
        except FetchFailed:
            return None

    def _cors(self, start: Page) -> list[Alert]:
        answer = self._get(start.url, {"Origin": PROBE_ORIGIN})
        if answer is None:
            return []
        echoed = (answer.header("access-control-allow-origin") or "").strip()
        credentials = (answer.header("access-control-allow-credentials") or "").strip().lower()
        if echoed == PROBE_ORIGIN and credentials == "true":
            return [Alert("10098", display_url(answer.url),
                          f"Origin {PROBE_ORIGIN} echoed with credentials allowed",
                          "any origin is trusted, with credentials", status=answer.status)]
        return []

    def _parameter(self, page: Page, name: str, value: str) -> list[Alert]:
        alerts: list[Alert] = []
        shown = display_url(page.url)
        label = cut(name, 60)
        if self.enabled("40012") and page.is_html:
            tag = f"<safeship{self.token}>"
            answer = self._get(with_param(page.url, name, f'">{tag}'))
            if answer is not None and answer.is_html and tag in answer.text:
                alerts.append(Alert("40012", shown, f"{tag} reflected unencoded",
                                    f"parameter '{label}' is written into HTML unencoded",
                                    param=label, status=answer.status))
        if self.enabled("40018"):
            answer = self._get(with_param(page.url, name, value + "'"))
            if answer is not None and answer.is_textual:
                match = _SQL_ERRORS.search(answer.text)
                if match and not (page.is_textual and _SQL_ERRORS.search(page.text)):
                    alerts.append(Alert("40018", shown, cut(match.group(0)),
                                        f"a quote in '{label}' produces a database error",
                                        param=label, status=answer.status))
        if self.enabled("20019") and _redirect_candidate(name, value):
            target = f"{PROBE_ORIGIN}/{self.token}"
            answer = self._get(with_param(page.url, name, target))
            if answer is not None and _redirects_to_probe(answer):
                alerts.append(Alert("20019", shown, f"redirects to {PROBE_ORIGIN}/...",
                                    f"parameter '{label}' decides the redirect target",
                                    param=label, status=answer.status))
        return alerts


def _probe_targets(pages: Iterable[Page]) -> list[Page]:
    """Parameterised pages, one per path and parameter-name set, at most the limit."""
    chosen: dict[tuple[str, tuple[str, ...]], Page] = {}
    for page in pages:
        names = tuple(sorted({name for name, _ in query_params(page.url)}))
        if names and page.status < 500 and (path_key(page.url), names) not in chosen:
            chosen[(path_key(page.url), names)] = page
    return list(chosen.values())[:MAX_PROBED_URLS]


def _redirect_candidate(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    return (name.lower() in REDIRECT_PARAMS or lowered.startswith(("http://", "https://", "//"))
            or (lowered.startswith("/") and len(lowered) > 0))


def _redirects_to_probe(answer: Page) -> bool:
    if 300 <= answer.status < 400:
        location = answer.header("location") or ""
        try:
            host = urlsplit(urljoin(answer.url, location.strip())).hostname
        except ValueError:
            return False
        return host == PROBE_HOST
    if answer.is_html:
        return any(PROBE_HOST in tag for tag in _META_REFRESH.findall(answer.text[:65536]))
    return False
