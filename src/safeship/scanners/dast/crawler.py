"""The bounded, same-origin crawler.

Breadth first from the start URL, then the OpenAPI seeds, following anchors, frames, GET forms
and same-origin redirects. It stays on the start URL's exact origin (scheme, host and port),
skips static assets (images, styles, scripts, fonts, archives), fetches at most ``max_pages``
answers and at most :data:`MAX_QUERY_VARIANTS` query-string variants of one path (so a calendar
or a paginated list cannot eat the budget), and stops at the fetcher's budget (time, requests,
bytes). Every fetched answer is handed to ``visit`` as it arrives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from safeship.scanners.dast.fetch import BudgetExhausted, Fetcher, FetchFailed, Page
from safeship.scanners.dast.links import extract_links
from safeship.scanners.dast.urls import display_url, origin, path_key, resolve, same_origin

MAX_QUERY_VARIANTS = 3
STATIC_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp", ".css", ".js", ".mjs",
    ".map", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".webm", ".avi",
    ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".exe", ".dmg", ".iso",
)


@dataclass
class CrawlResult:
    """What the crawl fetched, what it could not, and which limit stopped it (if any)."""

    pages: list[Page] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    post_forms: int = 0


def crawl(fetcher: Fetcher, start: Page, seeds: Iterable[str], *, max_pages: int,
          visit: Callable[[Page], None], until: float | None = None) -> CrawlResult:
    """Crawl from ``start`` (already fetched and visited) and the extra ``seeds``."""
    home = origin(start.url)
    result = CrawlResult(pages=[start])
    seen: set[str] = {start.url}
    variants: dict[str, int] = {path_key(start.url): 1}
    queue: deque[str] = deque()

    def enqueue(url: str | None) -> None:
        if url is None or url in seen or not same_origin(url, home):
            return
        key = path_key(url)
        if key.lower().endswith(STATIC_SUFFIXES):
            return
        if variants.get(key, 0) >= MAX_QUERY_VARIANTS:
            return
        seen.add(url)
        variants[key] = variants.get(key, 0) + 1
        queue.append(url)

    def follow(page: Page) -> None:
        location = page.header("location")
        if 300 <= page.status < 400 and location:
            enqueue(resolve(page.url, location))
        if page.is_html and page.body:
            found = extract_links(page.text)
            result.post_forms += found.post_forms
            base = resolve(page.url, found.base) if found.base else page.url
            for link in found.links:
                enqueue(resolve(base or page.url, link))

    for seed in seeds:
        enqueue(resolve(start.url, seed))
    # Seeds (OpenAPI paths) go first; links found on the start page after them.
    follow(start)
    while queue:
        if len(result.pages) >= max_pages:
            result.limits.append("max_pages")
            break
        url = queue.popleft()
        try:
            page = fetcher.get(url, until=until)
        except BudgetExhausted as exc:
            result.limits.append(exc.limit)
            break
        except FetchFailed as exc:
            result.errors.append(f"{display_url(url)}: {exc}")
            continue
        result.pages.append(page)
        visit(page)
        follow(page)
    return result
