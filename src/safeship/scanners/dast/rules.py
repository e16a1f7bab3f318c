"""The DAST rule catalogue: ids compatible with OWASP ZAP, OWASP Top 10 2021, CWE, defaults.

Ids are ZAP's where ZAP has the same check, so a ZAP baseline rules file (``10038\tFAIL``)
configures this scanner too. Default levels: the rules that show an exploitable weakness
(injection, open redirect, exposed source or secrets, error and debug disclosure, directory
listing, credentialed CORS from any origin) FAIL; missing hardening headers and cookie flags
WARN. A rules file changes any of them.
"""

from __future__ import annotations

from safeship.scanners.dast.model import Kind, Level, Risk, Rule

A01 = "A01:2021-Broken Access Control"
A03 = "A03:2021-Injection"
A05 = "A05:2021-Security Misconfiguration"

_CATALOGUE = (
    # Passive: read what the application answers while crawling.
    Rule("10038", "Content Security Policy (CSP) header not set", Kind.PASSIVE, Risk.MEDIUM, A05,
         693, Level.WARN,
         "An HTML page is served without a Content-Security-Policy, so the browser has no "
         "second line of defence against injected script.",
         "Send a Content-Security-Policy on every HTML response, e.g. \"default-src 'self'; "
         "frame-ancestors 'none'\"."),
    Rule("10055", "Weak Content Security Policy", Kind.PASSIVE, Risk.MEDIUM, A05, 693,
         Level.WARN,
         "The Content-Security-Policy lets scripts run from anywhere, inline, or through eval, "
         "which undoes most of its protection.",
         "Remove 'unsafe-inline', 'unsafe-eval', wildcards and bare schemes from script-src / "
         "default-src; use nonces or hashes for inline scripts."),
    Rule("10035", "Strict-Transport-Security header missing or weak", Kind.PASSIVE, Risk.LOW,
         A05, 319, Level.WARN,
         "An HTTPS response has no HSTS header, or one with a short max-age, so a first "
         "visit over plain HTTP can be intercepted.",
         "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on HTTPS."),
    Rule("10021", "X-Content-Type-Options header missing", Kind.PASSIVE, Risk.LOW, A05, 693,
         Level.WARN,
         "Without X-Content-Type-Options: nosniff, browsers may guess a response's type and "
         "run content as script or style.",
         "Send X-Content-Type-Options: nosniff on every response."),
    Rule("10020", "Anti-clickjacking protection missing", Kind.PASSIVE, Risk.MEDIUM, A05, 1021,
         Level.WARN,
         "An HTML page has neither a CSP frame-ancestors directive nor X-Frame-Options "
         "DENY/SAMEORIGIN, so another site can frame it (clickjacking).",
         "Send Content-Security-Policy: frame-ancestors 'none' (or 'self'), and "
         "X-Frame-Options: DENY for old browsers."),
    Rule("10010", "Cookie without HttpOnly flag", Kind.PASSIVE, Risk.LOW, A05, 1004, Level.WARN,
         "A cookie is readable from JavaScript; an XSS flaw can steal it.",
         "Set HttpOnly on every cookie scripts do not need (always on session cookies)."),
    Rule("10011", "Cookie without Secure flag", Kind.PASSIVE, Risk.LOW, A05, 614, Level.WARN,
         "A cookie set over HTTPS lacks the Secure flag, so the browser also sends it over "
         "plain HTTP.",
         "Set Secure on every cookie of an HTTPS site."),
    Rule("10054", "Cookie without SameSite attribute", Kind.PASSIVE, Risk.LOW, A01, 1275,
         Level.WARN,
         "A cookie has no SameSite attribute (or SameSite=None), so it is sent on cross-site "
         "requests, which helps cross-site request forgery.",
         "Set SameSite=Lax or SameSite=Strict on cookies."),
    Rule("10036", "Server header discloses version", Kind.PASSIVE, Risk.LOW, A05, 497,
         Level.WARN,
         "The Server header names software and its version, which tells an attacker which "
         "known vulnerabilities to try.",
         "Remove the version from the Server header (or the header itself)."),
    Rule("10037", "X-Powered-By header discloses technology", Kind.PASSIVE, Risk.LOW, A05, 497,
         Level.WARN,
         "An X-Powered-By (or X-AspNet-Version) header names the framework behind the site.",
         "Remove X-Powered-By and similar headers."),
    Rule("90022", "Application error disclosure (stack trace)", Kind.PASSIVE, Risk.MEDIUM, A05,
         209, Level.FAIL,
         "A response contains a stack trace or raw exception, which shows code paths, "
         "libraries and sometimes data.",
         "Catch errors and show a generic error page; log details on the server only."),
    Rule("10023", "Debug page or debug header exposed", Kind.PASSIVE, Risk.HIGH, A05, 215,
         Level.FAIL,
         "A framework debug page or debug header is served (e.g. an interactive debugger, "
         "DEBUG=True error pages, phpinfo), which can expose secrets or run code.",
         "Turn debug mode off in every deployed environment."),
    Rule("10033", "Directory listing", Kind.PASSIVE, Risk.MEDIUM, A01, 548, Level.FAIL,
         "The server lists a directory's files, which exposes files never meant to be linked.",
         "Turn directory listing off in the web server."),
    Rule("10098", "CORS allows credentials from any origin", Kind.PASSIVE, Risk.HIGH, A01, 942,
         Level.FAIL,
         "Access-Control-Allow-Origin is '*' or echoes any Origin while credentials are "
         "allowed, so other sites may read responses meant for the logged-in user.",
         "Allow only named, trusted origins, and only allow credentials for them."),
    # Exposure: GET well-known paths that must never be served.
    Rule("41", "Exposed .git repository", Kind.EXPOSURE, Risk.HIGH, A05, 538, Level.FAIL,
         "The site serves its .git directory, from which the source code and history can be "
         "downloaded.",
         "Do not deploy .git; deny every path under /.git/ in the web server."),
    Rule("40034", "Exposed .env file", Kind.EXPOSURE, Risk.HIGH, A05, 215, Level.FAIL,
         "The site serves a .env file, which usually holds credentials and keys.",
         "Keep .env out of the web root and rotate every secret it held."),
    Rule("10095", "Backup file disclosure", Kind.EXPOSURE, Risk.MEDIUM, A05, 530, Level.FAIL,
         "A backup or old copy of a file (e.g. .bak, ~, .old, a dump or archive) is served, "
         "which can reveal source code or data.",
         "Remove backup files from the web root; deny their extensions in the web server."),
    # Active: safe GET probes with harmless markers; never a state-changing method.
    Rule("40012", "Cross-site scripting (reflected)", Kind.ACTIVE, Risk.HIGH, A03, 79,
         Level.FAIL,
         "A query parameter is written into an HTML page without encoding, so a link can run "
         "script in the victim's browser.",
         "Encode output for its HTML context; validate input; add a strict CSP."),
    Rule("40018", "SQL error leakage (possible SQL injection)", Kind.ACTIVE, Risk.HIGH, A03, 89,
         Level.FAIL,
         "A quote in a query parameter makes the page show a database error, so the value "
         "reaches an SQL statement unescaped.",
         "Use parameterised queries; never show database errors to users."),
    Rule("20019", "Open redirect", Kind.ACTIVE, Risk.MEDIUM, A01, 601, Level.FAIL,
         "A query parameter decides where the site redirects to, including other sites, which "
         "helps phishing and token theft.",
         "Redirect only to relative paths or an allow-list of hosts."),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _CATALOGUE}
"""Every rule by id, in catalogue order."""


def rule(rule_id: str) -> Rule:
    """The rule with ``rule_id`` (KeyError when unknown)."""
    return RULES[rule_id]
