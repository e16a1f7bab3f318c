"""``safeship cve db update``: download the OSV PyPI export to a local file, atomically.

HTTP goes only through the injected :data:`~safeship._internal.http.HttpClientFactory`. The
download is streamed to a temporary file beside the target, checked (a zip holding at least one
readable OSV record) and only then moved over the old database, so a failed or partial download
never replaces a good database. Without network the result is a clear
:class:`~safeship.errors.EndpointUnavailable` (exit code 3) that says how to proceed offline.
"""

from __future__ import annotations

import contextlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from safeship._internal.http import HttpClientFactory
from safeship.errors import EndpointUnavailable, UsageError
from safeship.scanners.osv.loader import DatabaseUnavailable, LoadStats, iter_advisories

OSV_PYPI_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
DEFAULT_DB_PATH = Path(".safeship") / "osv" / "PyPI-all.zip"
"""Where ``db update`` writes and the scan looks by default (relative to the project root)."""
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
OFFLINE_HINT = (
    "without network, copy an OSV database from a machine that has it (the file "
    f"{OSV_PYPI_EXPORT.rsplit('/', 2)[-2]}/all.zip, or a PyPA advisory-database checkout) and "
    "pass it with --db"
)


@dataclass(frozen=True)
class DownloadResult:
    """What ``db update`` wrote."""

    path: Path
    bytes: int
    records: int
    withdrawn: int


def download_database(
    dest: Path,
    http: HttpClientFactory,
    *,
    url: str = OSV_PYPI_EXPORT,
    timeout_s: float = 300.0,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> DownloadResult:
    """Download ``url`` to ``dest`` (replacing it only when the download is a usable database)."""
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"--url must be an http(s) URL, not {url!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.with_name(f".{dest.name}.download")
    size = 0
    try:
        with http(timeout_s) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise EndpointUnavailable(
                    f"{url} answered HTTP {response.status_code}", hint=OFFLINE_HINT
                )
            with temp.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise EndpointUnavailable(
                            f"{url} sent more than {max_bytes} bytes; refusing it",
                            hint=OFFLINE_HINT,
                        )
                    out.write(chunk)
        stats = _check(temp, url)
        temp.replace(dest)
    except httpx.HTTPError as exc:
        raise EndpointUnavailable(
            f"cannot download the OSV database from {url}: {type(exc).__name__}: {exc}",
            hint=OFFLINE_HINT,
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return DownloadResult(dest, size, stats.records, stats.withdrawn)


def _check(path: Path, url: str) -> LoadStats:
    if not zipfile.is_zipfile(path):
        raise EndpointUnavailable(f"{url} did not send a zip file", hint=OFFLINE_HINT)
    stats = LoadStats()
    try:
        for _ in iter_advisories(path, stats):
            pass
    except DatabaseUnavailable as exc:
        raise EndpointUnavailable(f"{url} sent an unreadable zip: {exc.message}",
                                  hint=OFFLINE_HINT) from exc
    if stats.records + stats.withdrawn == 0:
        raise EndpointUnavailable(f"{url} sent a zip with no OSV record", hint=OFFLINE_HINT)
    return stats
