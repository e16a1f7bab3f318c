"""URL helpers and link extraction."""

from __future__ import annotations

import pytest

from safeship.scanners.dast.links import extract_links
from safeship.scanners.dast.urls import (
    BadUrl,
    display_url,
    normalise,
    origin,
    path_key,
    query_params,
    resolve,
    same_origin,
    with_param,
)


def test_origin_and_same_origin() -> None:
    assert origin("http://Shop.Test/x") == ("http", "shop.test", 80)
    assert origin("https://shop.test:8443/") == ("https", "shop.test", 8443)
    home = origin("http://127.0.0.1:8080/")
    assert same_origin("http://127.0.0.1:8080/a?b=c", home)
    assert not same_origin("http://127.0.0.1:8081/", home)
    assert not same_origin("https://127.0.0.1:8080/", home)
    assert not same_origin("http://localhost:8080/", home)
    assert not same_origin("ftp://127.0.0.1:8080/", home)
    for bad in ("ftp://x/", "http:///nohost", "http://x:99999/", "not a url"):
        with pytest.raises(BadUrl):
            origin(bad)


def test_normalise_and_resolve() -> None:
    assert normalise("HTTP://Shop.Test#frag") == "http://shop.test/"
    assert resolve("http://a.test/dir/page", "../x?y=1#z") == "http://a.test/x?y=1"
    assert resolve("http://a.test/", "//b.test/") == "http://b.test/"
    for skipped in ("#top", "javascript:alert(1)", "mailto:a@b", "tel:1", "data:x", "",
                    "ftp://a.test/", "http://a.test:bad/"):
        assert resolve("http://a.test/", skipped) is None


def test_params() -> None:
    url = "http://a.test/s?q=1&page=2"
    assert query_params(url) == [("q", "1"), ("page", "2")]
    assert with_param(url, "q", '"><x>') == "http://a.test/s?q=%22%3E%3Cx%3E&page=2"
    assert with_param("http://a.test/s", "n", "1") == "http://a.test/s?n=1"
    assert path_key(url) == "http://a.test/s"


def test_display_url_hides_credentials_and_query_values() -> None:
    assert display_url("http://user:pw@a.test:8080/reset?token=SECRET&x=") == (
        "http://a.test:8080/reset?token=...&x=...")
    assert display_url("http://a.test") == "http://a.test/"
    assert display_url("http://[::1]:8080/") == "http://[::1]:8080/"
    assert display_url("http://a.test:bad/") == "<invalid URL>"
    assert "\x1b" not in display_url("http://a.test/\x1b[31m")


def test_extract_links() -> None:
    html = """<html><head><base href="/app/"></head><body>
      <a href="one">1</a> <area href="/two"> <iframe src="three"></iframe>
      <frame src="four"> <a>no href</a>
      <form action="/search" method="GET"><input name="q"><input name="lang" value="en">
        <input type="submit" name="go"><select name="sort"></select></form>
      <form action="/login" method="post"><input name="user"></form>
      <form action="/delete" method="DELETE"></form>
    </body></html>"""
    found = extract_links(html)
    assert found.base == "/app/"
    assert found.links == ("one", "/two", "three", "four",
                           "/search?q=safeship&lang=en&sort=safeship")
    assert found.post_forms == 2


def test_extract_links_survives_broken_markup() -> None:
    found = extract_links('<a href="x">ok</a><form action="/f"><input name="a"')
    assert "x" in found.links
