"""Links of an HTML page: anchors, frames and GET forms, as the crawler follows them.

Forms with ``method="post"`` (or any method but GET) are counted and never submitted: the scan
sends no request that could change state. A GET form becomes one URL with its fields filled
with their default values (or ``safeship`` for empty text fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

_LINK_ATTRS = {"a": "href", "area": "href", "iframe": "src", "frame": "src"}
_FIELD_TAGS = {"input", "select", "textarea"}
_NO_VALUE_TYPES = {"submit", "button", "image", "reset", "file"}


@dataclass
class _Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PageLinks:
    """What a page links to (raw, unresolved) and how many non-GET forms it has."""

    links: tuple[str, ...]
    base: str | None
    post_forms: int


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.base: str | None = None
        self.post_forms = 0
        self._form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag in _LINK_ATTRS and values.get(_LINK_ATTRS[tag]):
            self.links.append(values[_LINK_ATTRS[tag]])
        elif tag == "form":
            self._close_form()
            self._form = _Form(values.get("action", ""), values.get("method", "get").lower())
        elif tag in _FIELD_TAGS and self._form is not None:
            name = values.get("name")
            kind = values.get("type", "text").lower()
            if name and kind not in _NO_VALUE_TYPES:
                self._form.fields.append((name, values.get("value") or "safeship"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._close_form()

    def close(self) -> None:
        super().close()
        self._close_form()

    def _close_form(self) -> None:
        form, self._form = self._form, None
        if form is None:
            return
        if form.method != "get":
            self.post_forms += 1
            return
        action = form.action.split("?", 1)[0]
        query = urlencode(form.fields)
        self.links.append(f"{action}?{query}" if query else action or "?")


def extract_links(html: str) -> PageLinks:
    """The links of ``html``; malformed markup yields what could be read."""
    parser = _LinkParser()
    try:
        parser.feed(html)
        parser.close()
    except (ValueError, AssertionError):  # the parser gives up on some broken markup
        pass
    return PageLinks(tuple(parser.links), parser.base, parser.post_forms)
