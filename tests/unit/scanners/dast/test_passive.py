"""The passive rules, one answer at a time."""

from __future__ import annotations

import pytest

from safeship.scanners.dast.fetch import Page
from safeship.scanners.dast.passive import MIN_HSTS_MAX_AGE, passive_alerts

HARDENED = (
    ("content-type", "text/html; charset=utf-8"),
    ("content-security-policy", "default-src 'self'; frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("server", "nginx"),
)


def page(*headers: tuple[str, str], body: str = "<html><body>hi</body></html>",
         status: int = 200, base: tuple[tuple[str, str], ...] = HARDENED) -> Page:
    names = {name for name, _ in headers}
    kept = tuple(h for h in base if h[0] not in names)
    return Page("https://shop.test/p?token=abc", status, kept + tuple(headers), body.encode())


def rules(answer: Page, *, https: bool = True) -> list[str]:
    return [alert.rule_id for alert in passive_alerts(answer, https=https)]


def evidence(answer: Page, rule_id: str, *, https: bool = True) -> list[str]:
    return [a.evidence for a in passive_alerts(answer, https=https) if a.rule_id == rule_id]


def test_hardened_answer_has_no_alert() -> None:
    assert rules(page()) == []


def test_alert_urls_hide_query_values() -> None:
    alerts = passive_alerts(page(("x-content-type-options", "")), https=True)
    assert alerts[0].url == "https://shop.test/p?token=..."


def test_missing_csp_on_html_only() -> None:
    missing = page(base=tuple(h for h in HARDENED if h[0] != "content-security-policy"))
    assert "10038" in rules(missing)
    assert "10020" in rules(missing)  # no frame-ancestors either
    report_only = page(("content-security-policy-report-only", "default-src 'self'"),
                       base=tuple(h for h in HARDENED if h[0] != "content-security-policy"))
    assert evidence(report_only, "10038") == [
        "only Content-Security-Policy-Report-Only (not enforced)"]
    json_answer = page(("content-type", "application/json"), body="{}",
                       base=tuple(h for h in HARDENED if h[0] != "content-security-policy"))
    assert "10038" not in rules(json_answer)
    redirect = page(status=302, base=tuple(h for h in HARDENED
                                           if h[0] != "content-security-policy"))
    assert "10038" not in rules(redirect)


@pytest.mark.parametrize(
    ("policy", "weak"),
    [
        ("default-src 'self'", []),
        ("script-src 'self' 'unsafe-inline'", ["'unsafe-inline' allows inline scripts"]),
        ("script-src 'self' 'unsafe-inline' 'nonce-abc'", []),
        ("default-src *", ["'*' allows scripts from any host"]),
        ("script-src https:", ["a bare scheme (http:, https: or data:) allows scripts from "
                               "anywhere"]),
        ("default-src 'self'; script-src 'unsafe-eval'", ["'unsafe-eval' allows eval()"]),
        ("img-src 'self'; frame-ancestors 'none'",
         ["no script-src or default-src: scripts may come from anywhere"]),
        # Two policies are both enforced: a strict one makes a weak one harmless.
        ("script-src *, script-src 'self'", []),
    ],
)
def test_weak_csp(policy: str, weak: list[str]) -> None:
    answer = page(("content-security-policy", policy + "; frame-ancestors 'none'"
                   if "frame-ancestors" not in policy and "," not in policy else policy),
                  ("x-frame-options", "DENY"))
    assert evidence(answer, "10055") == sorted(weak)


@pytest.mark.parametrize(
    ("headers", "alerted"),
    [
        ((("content-security-policy", "default-src 'self'; frame-ancestors 'self'"),), False),
        ((("content-security-policy", "default-src 'self'; frame-ancestors *"),), True),
        ((("content-security-policy", "default-src 'self'"), ("x-frame-options", "DENY")), False),
        ((("content-security-policy", "default-src 'self'"), ("x-frame-options", "sameorigin")),
         False),
        ((("content-security-policy", "default-src 'self'"),
          ("x-frame-options", "ALLOW-FROM https://a.test")), True),
        ((("content-security-policy", "default-src 'self'"),), True),
    ],
)
def test_clickjacking(headers: tuple[tuple[str, str], ...], alerted: bool) -> None:
    assert ("10020" in rules(page(*headers))) is alerted


def test_content_type_options() -> None:
    assert evidence(page(("x-content-type-options", "sniff")), "10021") == [
        "X-Content-Type-Options: sniff"]
    gone = page(base=tuple(h for h in HARDENED if h[0] != "x-content-type-options"))
    assert evidence(gone, "10021") == ["no X-Content-Type-Options header"]
    assert "10021" not in rules(page(status=301, base=gone.headers))


def test_hsts_only_on_https() -> None:
    gone = page(base=tuple(h for h in HARDENED if h[0] != "strict-transport-security"))
    assert "10035" in rules(gone)
    assert "10035" not in rules(gone, https=False)
    assert "10035" in rules(page(("strict-transport-security", "max-age=0")))
    assert "10035" in rules(page(("strict-transport-security", "includeSubDomains")))
    short = f"max-age={MIN_HSTS_MAX_AGE - 1}"
    assert "10035" in rules(page(("strict-transport-security", short)))
    assert "10035" not in rules(page(("strict-transport-security",
                                      f'max-age="{MIN_HSTS_MAX_AGE}"')))


def test_cookie_flags_and_no_cookie_values() -> None:
    answer = page(("set-cookie", "sid=SECRET-VALUE; Path=/"),
                  ("set-cookie", "pref=1; Secure; HttpOnly; SameSite=Lax"),
                  ("set-cookie", "csrf=SECRET2; Secure; HttpOnly; SameSite=None"),
                  ("set-cookie", "old=gone; Max-Age=0"),
                  ("set-cookie", "older=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT"))
    alerts = [a for a in passive_alerts(answer, https=True) if a.rule_id in
              {"10010", "10011", "10054"}]
    assert sorted((a.rule_id, a.detail) for a in alerts) == [
        ("10010", "cookie 'sid' has no HttpOnly flag"),
        ("10011", "cookie 'sid' has no Secure flag"),
        ("10054", "cookie 'csrf' has SameSite=None"),
        ("10054", "cookie 'sid' has no SameSite attribute"),
    ]
    shown = repr(passive_alerts(answer, https=True))
    assert "SECRET" not in shown
    assert "Set-Cookie: sid=<value hidden>" in shown
    # Secure is only judged on HTTPS.
    plain = [a.rule_id for a in passive_alerts(answer, https=False)]
    assert "10011" not in plain
    assert "10010" in plain


def test_version_disclosure() -> None:
    assert evidence(page(("server", "nginx/1.25.3")), "10036") == ["Server: nginx/1.25.3"]
    assert evidence(page(("server", "BaseHTTP/0.6 Python/3.11.7")), "10036")
    assert "10036" not in rules(page(("server", "cloudfront")))
    assert evidence(page(("x-powered-by", "Express")), "10037") == ["x-powered-by: Express"]
    assert evidence(page(("x-aspnet-version", "4.0.30319")), "10037")


@pytest.mark.parametrize(
    "trace",
    [
        'Traceback (most recent call last):\n  File "/app/x.py", line 3, in f',
        "java.lang.NullPointerException\n\tat com.shop.Cart.total(Cart.java:42)",
        'Exception in thread "main" java.lang.IllegalStateException: boom',
        "<h1>Server Error in '/' Application.</h1>",
        "   at Shop.Cart.Total() in C:\\src\\Cart.cs:line 17",
        "<b>Fatal error</b>:  Uncaught Error in /var/www/x.php on line 3",
        "Stack trace:\n#0 /var/www/index.php(3): f()",
        "TypeError: x is undefined\n    at handler (/srv/app/index.js:10:5)",
        "app/models/cart.rb:12:in `total'",
        "panic: boom\n\ngoroutine 1 [running]:\nmain.main()",
    ],
)
def test_stack_traces(trace: str) -> None:
    answer = page(("content-type", "text/plain"), body=f"oops\n{trace}\n", status=500)
    assert "90022" in rules(answer)


def test_no_stack_trace_in_normal_text() -> None:
    assert "90022" not in rules(page(body="<p>We are at the store (open 9:00:00)</p>"))


@pytest.mark.parametrize(
    "marker",
    [
        "<title>Werkzeug Debugger</title>",
        "You're seeing this error because you have <code>DEBUG = True</code>",
        "<title>phpinfo()</title>",
        "<title>Whoops! There was an error.</title>",
        "<h1>Action Controller: Exception caught</h1>",
    ],
)
def test_debug_pages(marker: str) -> None:
    assert "10023" in rules(page(body=f"<html>{marker}</html>"))


def test_debug_headers() -> None:
    assert evidence(page(("x-debug-token", "abc")), "10023") == ["x-debug-token header present"]


@pytest.mark.parametrize(
    "listing",
    [
        "<html><head><title>Index of /files</title></head>",
        "<title>Directory listing for /static/</title>",
        "<html><body><h1>Index of /backup</h1>",
        "<pre>[To Parent Directory]</pre>",
    ],
)
def test_directory_listing(listing: str) -> None:
    assert "10033" in rules(page(body=listing))
    assert "10033" not in rules(page(body=listing, status=404))


def test_cors() -> None:
    both = (("access-control-allow-origin", "*"), ("access-control-allow-credentials", "true"))
    assert "10098" in rules(page(*both))
    assert "10098" not in rules(page(both[0]))
    assert "10098" not in rules(page(("access-control-allow-origin", "https://a.test"), both[1]))


def test_evidence_is_terminal_safe_and_short() -> None:
    answer = page(("server", "evil/1.0 \x1b[31mred\x1b[0m" + "x" * 300))
    (shown,) = evidence(answer, "10036")
    assert "\x1b" not in shown
    assert len(shown) <= 120
    assert shown.endswith("...")
