"""Passive rules: judge each crawled answer by its headers and body, sending nothing more.

Each function takes a :class:`Page` and returns :class:`Alert` objects. Evidence is chosen so
that nothing secret leaves the scan: cookies are named, never valued; bodies are quoted only as
the short marker that matched (a stack-trace header line, a debugger title).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from safeship.scanners.dast.fetch import Page
from safeship.scanners.dast.model import Alert
from safeship.scanners.dast.urls import display_url, safe_text

MIN_HSTS_MAX_AGE = 15_552_000
"""180 days: an HSTS max-age below this is reported as weak."""

MAX_SCANNED_TEXT = 512 * 1024
"""Content rules read at most this many characters of a body."""

MAX_EVIDENCE = 120

_STACK_TRACES = (
    ("Python traceback", re.compile(r"Traceback \(most recent call last\):")),
    ("Java stack trace", re.compile(r"(?m)^\s*at [\w$.]+\([\w$]+\.java:\d+\)")),
    ("Java exception", re.compile(r"Exception in thread \"[^\"]*\" [\w.$]+(?:Exception|Error)")),
    (".NET error page", re.compile(r"Server Error in '[^']*' Application")),
    (".NET stack trace", re.compile(r"(?m)^\s*at [\w.`<>]+\(.*\) in .+:line \d+")),
    ("PHP error", re.compile(r"(?:<b>)?(?:PHP )?(?:Fatal|Parse) error(?:</b>)?:\s.+ on line")),
    ("PHP stack trace", re.compile(r"Stack trace:\s*(?:<br\s*/?>)?\s*#0 ")),
    ("Node.js stack trace", re.compile(r"(?m)^\s*at .+ \((?:/|[A-Za-z]:\\|node:)[^)]*:\d+:\d+\)")),
    ("Ruby backtrace", re.compile(r"\.rb:\d+:in [`'][\w<> ]+'")),
    ("Go panic", re.compile(r"goroutine \d+ \[running\]:")),
)

_DEBUG_BODIES = (
    ("Werkzeug interactive debugger", re.compile(r"Werkzeug Debugger|The debugger caught an "
                                                 r"exception in your WSGI application")),
    ("Django DEBUG page", re.compile(r"DEBUG = True</code>|You're seeing this error because you "
                                     r"have <code>DEBUG")),
    ("phpinfo() page", re.compile(r"<title>phpinfo\(\)</title>", re.IGNORECASE)),
    ("Whoops debug page", re.compile(r"<title>Whoops! There was an error\.</title>")),
    ("Rails exception page", re.compile(r"Action Controller: Exception caught")),
)

_DEBUG_HEADERS = ("x-debug-token", "x-debug-token-link", "x-chromelogger-data",
                  "x-debug-exception")

_DIRECTORY_LISTINGS = (
    re.compile(r"<title>\s*(?:Index of|Directory listing for) /", re.IGNORECASE),
    re.compile(r"<h1>\s*Index of /", re.IGNORECASE),
    re.compile(r"\[To Parent Directory\]"),
)

_VERSION = re.compile(r"\d+\.\d+|/\s*v?\d")
_MAX_AGE = re.compile(r"(?i)(?:^|;)\s*max-age\s*=\s*\"?(\d+)\"?")

Check = Callable[[Page, bool], Iterator[Alert]]


def cut(text: str, limit: int = MAX_EVIDENCE) -> str:
    """``text`` on one line, at most ``limit`` characters, without control characters."""
    line = safe_text(" ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _alert(rule_id: str, page: Page, evidence: str, detail: str) -> Alert:
    return Alert(rule_id, display_url(page.url), cut(evidence), cut(detail, 200),
                 status=page.status)


def _policies(page: Page) -> list[dict[str, list[str]]]:
    policies = []
    for value in page.header_all("content-security-policy"):
        for policy in value.split(","):
            directives: dict[str, list[str]] = {}
            for part in policy.split(";"):
                tokens = part.split()
                if tokens and tokens[0].lower() not in directives:
                    directives[tokens[0].lower()] = [t.lower() for t in tokens[1:]]
            if directives:
                policies.append(directives)
    return policies


def _script_weaknesses(policy: dict[str, list[str]]) -> set[str]:
    sources = policy.get("script-src", policy.get("default-src"))
    if sources is None:
        return {"no script-src or default-src: scripts may come from anywhere"}
    weak = set()
    hashed = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)
    if "'unsafe-inline'" in sources and not hashed:
        weak.add("'unsafe-inline' allows inline scripts")
    if "'unsafe-eval'" in sources:
        weak.add("'unsafe-eval' allows eval()")
    if "*" in sources:
        weak.add("'*' allows scripts from any host")
    if any(s in {"http:", "https:", "data:"} for s in sources):
        weak.add("a bare scheme (http:, https: or data:) allows scripts from anywhere")
    return weak


def check_csp(page: Page, https: bool) -> Iterator[Alert]:
    """10038 (no CSP on an HTML page) and 10055 (a CSP that does not restrict scripts)."""
    if not page.is_html or 300 <= page.status < 400:
        return
    policies = _policies(page)
    if not policies:
        only_report = page.header("content-security-policy-report-only") is not None
        evidence = ("only Content-Security-Policy-Report-Only (not enforced)" if only_report
                    else "no Content-Security-Policy header")
        yield _alert("10038", page, evidence, "HTML page without an enforced CSP")
        return
    # Every policy is enforced, so a weakness matters only when all policies share it.
    common = set.intersection(*(_script_weaknesses(p) for p in policies))
    for weakness in sorted(common):
        yield _alert("10055", page, weakness, "the CSP does not restrict scripts")


def check_framing(page: Page, https: bool) -> Iterator[Alert]:
    """10020: an HTML page that other sites may frame."""
    if not page.is_html or 300 <= page.status < 400:
        return
    for policy in _policies(page):
        ancestors = policy.get("frame-ancestors")
        if ancestors is not None and "*" not in ancestors:
            return
    frame_options = (page.header("x-frame-options") or "").strip().upper()
    if frame_options in {"DENY", "SAMEORIGIN"}:
        return
    evidence = (f"X-Frame-Options: {frame_options} (not supported by browsers)"
                if frame_options else "no frame-ancestors directive and no X-Frame-Options")
    yield _alert("10020", page, evidence, "the page can be framed by any site")


def check_content_type_options(page: Page, https: bool) -> Iterator[Alert]:
    """10021: X-Content-Type-Options is not ``nosniff``."""
    if 300 <= page.status < 400:
        return
    value = page.header("x-content-type-options")
    if value is None:
        yield _alert("10021", page, "no X-Content-Type-Options header", "MIME sniffing allowed")
    elif value.strip().lower() != "nosniff":
        yield _alert("10021", page, f"X-Content-Type-Options: {value}", "value is not nosniff")


def check_hsts(page: Page, https: bool) -> Iterator[Alert]:
    """10035: on HTTPS, HSTS is missing or its max-age is under 180 days."""
    if not https:
        return
    value = page.header("strict-transport-security")
    if value is None:
        yield _alert("10035", page, "no Strict-Transport-Security header", "HSTS not set")
        return
    match = _MAX_AGE.search(value)
    if match is None:
        yield _alert("10035", page, f"Strict-Transport-Security: {value}", "no max-age")
    elif int(match.group(1)) < MIN_HSTS_MAX_AGE:
        yield _alert("10035", page, f"Strict-Transport-Security: {value}",
                     f"max-age under {MIN_HSTS_MAX_AGE} seconds (180 days)")


def _cookie(value: str) -> tuple[str, dict[str, str]]:
    first, *rest = value.split(";")
    name = first.split("=", 1)[0].strip()
    attributes = {}
    for part in rest:
        key, _, attribute = part.partition("=")
        attributes[key.strip().lower()] = attribute.strip()
    return name, attributes


def _deleted(attributes: dict[str, str]) -> bool:
    max_age = attributes.get("max-age")
    if max_age is not None:
        try:
            return int(max_age) <= 0
        except ValueError:
            return False
    expires = attributes.get("expires")
    if expires:
        try:
            moment = parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return False
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return moment < datetime.now(UTC)
    return False


def check_cookies(page: Page, https: bool) -> Iterator[Alert]:
    """10010 (no HttpOnly), 10011 (no Secure, on HTTPS) and 10054 (no SameSite) per cookie."""
    for value in page.header_all("set-cookie"):
        name, attributes = _cookie(value)
        if not name or _deleted(attributes):
            continue
        shown = f"Set-Cookie: {name}=<value hidden>"
        if "httponly" not in attributes:
            yield _alert("10010", page, shown, f"cookie '{name}' has no HttpOnly flag")
        if https and "secure" not in attributes:
            yield _alert("10011", page, shown, f"cookie '{name}' has no Secure flag")
        same_site = attributes.get("samesite", "").lower()
        if same_site not in {"lax", "strict"}:
            why = "SameSite=None" if same_site == "none" else "no SameSite attribute"
            yield _alert("10054", page, shown, f"cookie '{name}' has {why}")


def check_disclosure_headers(page: Page, https: bool) -> Iterator[Alert]:
    """10036 (a version in Server) and 10037 (X-Powered-By and X-AspNet(Mvc)-Version)."""
    server = page.header("server")
    if server and _VERSION.search(server):
        yield _alert("10036", page, f"Server: {server}", "the Server header names a version")
    for name in ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version"):
        value = page.header(name)
        if value:
            yield _alert("10037", page, f"{name}: {value}", "the response names its framework")


def check_errors_and_debug(page: Page, https: bool) -> Iterator[Alert]:
    """90022 (stack traces) and 10023 (debug pages and debug headers)."""
    for name in _DEBUG_HEADERS:
        if page.header(name) is not None:
            yield _alert("10023", page, f"{name} header present", "a debug header is sent")
    if not page.is_textual:
        return
    text = page.text[:MAX_SCANNED_TEXT]
    for label, pattern in _DEBUG_BODIES:
        match = pattern.search(text)
        if match:
            yield _alert("10023", page, match.group(0), label)
            break
    for label, pattern in _STACK_TRACES:
        match = pattern.search(text)
        if match:
            yield _alert("90022", page, match.group(0).strip(), label)
            break


def check_directory_listing(page: Page, https: bool) -> Iterator[Alert]:
    """10033: the answer is a server-generated directory listing."""
    if not page.is_html or page.status != 200:
        return
    text = page.text[:MAX_SCANNED_TEXT]
    for pattern in _DIRECTORY_LISTINGS:
        match = pattern.search(text)
        if match:
            yield _alert("10033", page, match.group(0), "the server lists a directory")
            return


def check_cors(page: Page, https: bool) -> Iterator[Alert]:
    """10098: ``Access-Control-Allow-Origin: *`` together with allowed credentials."""
    allow_origin = (page.header("access-control-allow-origin") or "").strip()
    credentials = (page.header("access-control-allow-credentials") or "").strip().lower()
    if allow_origin == "*" and credentials == "true":
        yield _alert("10098", page, "Access-Control-Allow-Origin: *; "
                     "Access-Control-Allow-Credentials: true", "any origin, with credentials")


PASSIVE_CHECKS: tuple[Check, ...] = (
    check_csp,
    check_framing,
    check_content_type_options,
    check_hsts,
    check_cookies,
    check_disclosure_headers,
    check_errors_and_debug,
    check_directory_listing,
    check_cors,
)


def passive_alerts(page: Page, *, https: bool) -> list[Alert]:
    """Every passive rule's alerts for one answer."""
    return [alert for check in PASSIVE_CHECKS for alert in check(page, https)]
