"""``cve db update``: download through the injected HTTP factory; offline is a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship.errors import EndpointUnavailable, UsageError
from safeship.scanners.osv.db_update import OSV_PYPI_EXPORT, download_database
from safeship.scanners.osv.loader import load_database

from .osv_fixtures import USABLE_RECORDS, write_osv_zip


def zip_bytes(tmp_path: Path) -> bytes:
    return write_osv_zip(tmp_path / "source.zip").read_bytes()


def test_download_writes_a_checked_database(tmp_path: Path) -> None:
    payload = zip_bytes(tmp_path)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=payload)

    dest = tmp_path / "out" / "PyPI-all.zip"
    result = download_database(dest, client_factory_with_transport(httpx.MockTransport(handler)))
    assert seen == [OSV_PYPI_EXPORT]
    assert result.records == USABLE_RECORDS
    assert result.bytes == len(payload)
    assert len(load_database(dest).advisories) == USABLE_RECORDS
    assert not list(dest.parent.glob(".*download"))


def test_offline_is_endpoint_unavailable_with_a_hint(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    with pytest.raises(EndpointUnavailable) as caught:
        download_database(tmp_path / "db.zip",
                          client_factory_with_transport(httpx.MockTransport(handler)))
    assert "ConnectError" in caught.value.message
    assert "--db" in (caught.value.hint or "")
    assert not (tmp_path / "db.zip").exists()


@pytest.mark.parametrize(("status", "body", "message"), [
    (404, b"", "HTTP 404"),
    (200, b"<html>captive portal</html>", "did not send a zip"),
])
def test_bad_answers_keep_the_old_database(tmp_path: Path, status: int, body: bytes,
                                           message: str) -> None:
    dest = tmp_path / "db.zip"
    dest.write_bytes(b"old")
    factory = client_factory_with_transport(
        httpx.MockTransport(lambda request: httpx.Response(status, content=body)))
    with pytest.raises(EndpointUnavailable, match=message):
        download_database(dest, factory)
    assert dest.read_bytes() == b"old"


def test_zip_without_records_is_refused(tmp_path: Path) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.md", "nothing")
    factory = client_factory_with_transport(
        httpx.MockTransport(lambda request: httpx.Response(200, content=buffer.getvalue())))
    with pytest.raises(EndpointUnavailable, match="no OSV record"):
        download_database(tmp_path / "db.zip", factory)


def test_size_limit(tmp_path: Path) -> None:
    factory = client_factory_with_transport(
        httpx.MockTransport(lambda request: httpx.Response(200, content=b"x" * 100)))
    with pytest.raises(EndpointUnavailable, match="more than 10 bytes"):
        download_database(tmp_path / "db.zip", factory, max_bytes=10)


def test_only_http_urls(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        download_database(tmp_path / "db.zip", client_factory_with_transport(
            httpx.MockTransport(lambda r: httpx.Response(200))), url="file:///etc/passwd")
