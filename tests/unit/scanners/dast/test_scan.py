"""run_scan against in-memory sites: crawl bounds, probes, levels, limits, fail-closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from safeship.errors import EndpointUnavailable, UsageError
from safeship.scanners.dast import Level, ScanConfig, ScanReport, run_scan
from safeship.scanners.dast.active import PROBE_HOST
from safeship.scanners.dast.crawler import MAX_QUERY_VARIANTS

from .mock_site import HTML, Answer, MockSite, page_html

SAFE = {**HTML, "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff"}
TARGET = "http://shop.test/"


def safe(body: str, status: int = 200, **headers: str) -> Answer:
    return Answer(status, body, {**SAFE, **headers})


def scan(site: MockSite, **options: Any) -> ScanReport:
    options.setdefault("max_seconds", 30.0)
    return run_scan(ScanConfig(TARGET, **options), site.factory(), clock=site.clock,
                    token="t0k3n")


def rule_ids(report: ScanReport) -> list[str]:
    return [r.rule.id for r in report.results]


def test_clean_site_passes() -> None:
    site = MockSite({"/": safe(page_html("/a", "/b")), "/a": safe("<html>a</html>"),
                     "/b": safe("<html>b</html>")}, default=safe("<html>nope</html>", 404))
    report = scan(site)
    assert rule_ids(report) == []
    assert not report.failed
    assert report.pages == ("http://shop.test/", "http://shop.test/a", "http://shop.test/b")


def test_crawl_stays_on_origin_and_skips_static_files() -> None:
    site = MockSite({"/": safe(page_html(
        "/in", "http://shop.test:8080/other-port", "https://shop.test/other-scheme",
        "http://evil.test/", "//cdn.test/lib", "/logo.png", "/app.js", "mailto:x@y"))},
        default=safe("<html>x</html>"))
    scan(site)
    hosts = {request.url.host for request in site.requests}
    assert hosts == {"shop.test"}
    assert {r.url.port for r in site.requests} == {None}
    assert "/logo.png" not in site.paths()
    assert "/app.js" not in site.paths()
    assert "/in" in site.paths()


def test_only_get_and_scan_headers_on_every_request() -> None:
    site = MockSite({"/": safe(page_html("/a?x=1", extra='<form method="post" action="/buy">'
                                         '<input name="n"></form>'))},
                    default=safe("<html>x</html>"))
    scan(site, headers={"X-Safeship-Version": "canary"})
    assert site.methods() == {"GET"}
    assert "/buy" not in site.paths()
    assert all(r.headers.get("x-safeship-version") == "canary" for r in site.requests)


def test_max_pages_is_a_limit() -> None:
    links = [f"/p{i}" for i in range(30)]
    site = MockSite({"/": safe(page_html(*links))}, default=safe("<html>x</html>"))
    report = scan(site, max_pages=5, active=False)
    assert len(report.pages) == 5
    assert report.limits_reached == ("max_pages",)


def test_query_variants_of_one_path_are_capped() -> None:
    links = [f"/cal?day={i}" for i in range(20)]
    site = MockSite({"/": safe(page_html(*links))}, default=safe("<html>x</html>"))
    report = scan(site, active=False)
    calendar = [p for p in report.pages if "/cal" in p]
    assert len(calendar) == MAX_QUERY_VARIANTS


def test_same_origin_redirects_are_followed_and_others_are_not() -> None:
    site = MockSite({
        "/": safe(page_html("/old", "/away")),
        "/old": Answer(301, "", {"location": "/new"}),
        "/away": Answer(302, "", {"location": "http://evil.test/"}),
        "/new": safe("<html>new</html>"),
    }, default=safe("<html>x</html>", 404))
    scan(site, active=False)
    assert "/new" in site.paths()
    assert all(r.url.host == "shop.test" for r in site.requests)


def test_time_limit_stops_the_crawl_and_leaves_room_for_probes() -> None:
    links = [f"/p{i}" for i in range(50)]
    site = MockSite({"/": safe(page_html(*links))}, default=safe("<html>x</html>"),
                    seconds_per_request=1.0)
    report = scan(site, max_seconds=30.0)
    assert report.limits_reached == ("max_seconds",)
    # The crawl used at most 60% of the time; the probes ran in the rest.
    assert len(report.pages) <= 19
    assert any(path.endswith("/.env") for path in site.paths())
    assert report.skipped == ()


def test_probes_cut_short_make_the_scan_fail_closed() -> None:
    links = [f"/p{i}?next=/x" for i in range(40)]
    site = MockSite({"/": safe(page_html(*links))}, default=safe("<html>x</html>"),
                    seconds_per_request=1.0)
    report = scan(site, max_seconds=12.0)
    assert report.skipped
    assert report.failed


def test_request_limit() -> None:
    site = MockSite({"/": safe(page_html(*[f"/p{i}" for i in range(20)]))},
                    default=safe("<html>x</html>"))
    report = scan(site, max_requests=4, active=False)
    assert report.limits_reached == ("max_requests",)
    assert len(site.requests) == 4


def test_large_answers_are_truncated() -> None:
    big = "<html>" + "a" * 5000 + "<title>Index of /</title></html>"
    site = MockSite({"/": safe(page_html("/big")), "/big": safe(big)},
                    default=safe("<html>x</html>", 404))
    report = scan(site, max_response_bytes=1000, active=False)
    assert "10033" not in rule_ids(report)  # the marker lies past the cut
    assert report.bytes_read < 20_000


def test_unreachable_target_raises() -> None:
    site = MockSite(refuse=True)
    with pytest.raises(EndpointUnavailable, match="could not be reached") as caught:
        scan(site)
    assert caught.value.exit_code == 3


def test_unscannable_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="only http"):
        run_scan(ScanConfig("ftp://shop.test/"), MockSite().factory())


def test_unreachable_pages_after_the_start_are_reported() -> None:
    def broken(request: httpx.Request) -> Answer:
        raise httpx.ReadError("reset", request=request)

    site = MockSite({"/": safe(page_html("/broken")), "/broken": broken},
                    default=safe("<html>x</html>", 404))
    report = scan(site, active=False)
    assert report.errors == ("http://shop.test/broken: ReadError: reset",)


def test_catch_all_site_gives_no_exposure_false_positives() -> None:
    spa = safe("<!doctype html><html><div id=app></div></html>")
    site = MockSite({"/": safe(page_html("/index.php"))}, default=spa)
    assert rule_ids(scan(site, active=False)) == []
    # A catch-all that answers text/plain with the same body for every path.
    same = Answer(200, "PORT=80\n", {**SAFE, "content-type": "text/plain"})
    site = MockSite({"/": safe(page_html("/index.php"))}, default=same)
    assert rule_ids(scan(site, active=False)) == []


def test_exposures_are_found_and_secrets_stay_hidden() -> None:
    site = MockSite({
        "/": safe(page_html("/app.py")),
        "/app.py": safe("<html>x</html>"),
        "/app.py~": Answer(200, "print('source')", {"content-type": "text/plain"}),
        "/.git/HEAD": Answer(200, "0123456789abcdef0123456789abcdef01234567\n",
                             {"content-type": "text/plain"}),
        "/.env": Answer(200, "export API_TOKEN=tok-SECRET\nDEBUG=1\n# c\n",
                        {"content-type": "application/octet-stream"}),
        "/dump.sql": Answer(200, "CREATE TABLE users (pw text);",
                            {"content-type": "application/sql"}),
        "/backup.zip": Answer(200, b"not a zip", {"content-type": "application/zip"}),
    }, default=safe("<html>x</html>", 404))
    report = scan(site, active=False)
    assert rule_ids(report) == ["41", "40034", "10095"]
    by_rule = {r.rule.id: r for r in report.results}
    assert by_rule["41"].alerts[0].evidence == "a commit id"
    assert by_rule["40034"].alerts[0].evidence == "defines API_TOKEN, DEBUG (values hidden)"
    assert sorted(a.url for a in by_rule["10095"].alerts) == [
        "http://shop.test/app.py~", "http://shop.test/dump.sql"]
    assert "SECRET" not in repr(report)


def test_ignored_rules_send_no_probe() -> None:
    site = MockSite({"/": safe(page_html())}, default=safe("<html>x</html>", 404))
    levels = dict.fromkeys(("41", "40034", "10095"), Level.IGNORE)
    report = scan(site, levels=levels, active=False)
    assert site.paths() == ["/"]
    assert set(report.ignored_rules) == {"41", "40034", "10095"}


def test_active_probes() -> None:
    def search(request: httpx.Request) -> Answer:
        return safe(f"<html>{request.url.params.get('q', '')}</html>")

    def item(request: httpx.Request) -> Answer:
        value = request.url.params.get("id", "")
        return safe("ORA-01756: quoted string not properly terminated" if "'" in value
                    else "<html>item</html>")

    def go(request: httpx.Request) -> Answer:
        return Answer(302, "", {"location": request.url.params.get("to", "/")})

    def cors(request: httpx.Request) -> Answer:
        origin = request.headers.get("origin")
        extra = {"access-control-allow-origin": origin,
                 "access-control-allow-credentials": "true"} if origin else {}
        return safe(page_html("/search?q=a", "/item?id=1", "/go?to=/home"), **extra)

    site = MockSite({"/": cors, "/search": search, "/item": item, "/go": go},
                    default=safe("<html>x</html>", 404))
    report = scan(site)
    assert rule_ids(report) == ["10098", "40012", "40018", "20019"]
    by_rule = {r.rule.id: r for r in report.results}
    assert by_rule["40012"].alerts[0].param == "q"
    assert by_rule["40012"].alerts[0].evidence == "<safeshipt0k3n> reflected unencoded"
    assert by_rule["40018"].alerts[0].evidence == "ORA-01756"
    assert by_rule["20019"].alerts[0].evidence == f"redirects to https://{PROBE_HOST}/..."
    assert site.methods() == {"GET"}
    # Redirects are never followed: nothing was sent to the probe host.
    assert {r.url.host for r in site.requests} == {"shop.test"}


def test_passive_only_sends_no_marker() -> None:
    site = MockSite({"/": safe(page_html("/search?q=a"))}, default=safe("<html>x</html>"))
    scan(site, active=False)
    assert not any("safeship" in path and "absent" not in path for path in site.paths())
    assert not any(r.headers.get("origin") for r in site.requests)


def test_sql_error_already_on_the_page_is_not_an_alert() -> None:
    noisy = safe("<html>docs: You have an error in your SQL syntax (example)</html>")
    site = MockSite({"/": safe(page_html("/docs?id=1")), "/docs": noisy},
                    default=safe("<html>x</html>", 404))
    assert "40018" not in rule_ids(scan(site))


def test_levels_decide_failure() -> None:
    site = MockSite({"/": Answer(200, "<html>Traceback (most recent call last):</html>",
                                 dict(SAFE))}, default=safe("<html>x</html>", 404))
    assert scan(site).failed
    relaxed = scan(site, levels={"90022": Level.WARN})
    assert not relaxed.failed
    assert relaxed.counts() == {"FAIL": 0, "WARN": 1, "INFO": 0}
    assert rule_ids(scan(site, levels={"90022": Level.IGNORE})) == []


def test_openapi_paths_are_scanned(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text('{"openapi": "3.0.0", "servers": [{"url": "https://prod.example.com/v1"}],'
                    ' "paths": {"/users/{id}": {"get": {}, "delete": {}}}}')
    site = MockSite({"/": safe(page_html())}, default=safe("<html>x</html>"))
    report = scan(site, openapi=spec, active=False)
    assert "/v1/users/safeship" in site.paths()
    assert report.openapi_paths == 1
    assert site.methods() == {"GET"}
    assert {r.url.host for r in site.requests} == {"shop.test"}


def test_limits_must_be_positive_and_headers_stay_out_of_repr() -> None:
    with pytest.raises(UsageError, match="max_pages must be greater than zero"):
        run_scan(ScanConfig(TARGET, max_pages=0), MockSite().factory())
    config = ScanConfig(TARGET, headers={"Authorization": "Bearer SECRET"})
    assert "SECRET" not in repr(config)
