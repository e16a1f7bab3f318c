"""The responses of an operation: status codes, headers, media types and body schemas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.media_types import Relation, match_media
from safeship.scanners.openapi.schema_report import SchemaSite, report_schema
from safeship.scanners.openapi.schema_walk import SchemaWalker


def _success(code: str) -> bool:
    return code.startswith("2")


class ResponseComparer:
    """Compares the responses of one operation in the base and in the revision."""

    def __init__(self, ctx: DiffContext, walker: SchemaWalker) -> None:
        self._ctx = ctx
        self._walker = walker

    def compare(self, place: Place, bop: Node, rop: Node) -> None:
        """Report every response change between operations ``bop`` and ``rop``."""
        bresp, rresp = bop.get("responses"), rop.get("responses")
        bcodes = bresp.mapping() if bresp is not None else {}
        rcodes = rresp.mapping() if rresp is not None else {}
        banchor = bresp.ptr if bresp is not None else bop.ptr
        ranchor = rresp.ptr if rresp is not None else rop.ptr
        for code in bcodes:
            if code in rcodes:
                continue
            if _success(code):
                self._ctx.emit("response-success-status-removed", place,
                               f"the {code} response was removed; clients that expect it will "
                               "get something else", (*banchor, code), ranchor)
            else:
                self._ctx.emit("response-non-success-status-removed", place,
                               f"the {code} response was removed", (*banchor, code), ranchor)
        for code in rcodes:
            if code not in bcodes:
                rule = ("response-success-status-added" if _success(code)
                        else "response-non-success-status-added")
                self._ctx.emit(rule, place, f"the {code} response was added", banchor,
                               (*ranchor, code))
        for code in bcodes:
            if code in rcodes:
                b = self._ctx.base.deref(Node((*banchor, code), bcodes[code]))
                r = self._ctx.revision.deref(Node((*ranchor, code), rcodes[code]))
                self._headers(place, code, b, r)
                self._content(place, code, b, r)

    def _headers(self, place: Place, code: str, b: Node, r: Node) -> None:
        bh, rh = _headers(self._ctx.base.deref, b), _headers(self._ctx.revision.deref, r)
        for key, (name, node) in bh.items():
            if key in rh:
                continue
            if node.mapping().get("required") is True:
                self._ctx.emit("required-response-header-removed", place,
                               f"the required response header `{name}` was removed from the "
                               f"{code} response; clients that read it will miss it",
                               node.ptr, r.ptr)
            else:
                self._ctx.emit("optional-response-header-removed", place,
                               f"the optional response header `{name}` was removed from the "
                               f"{code} response; clients that use it may miss it",
                               node.ptr, r.ptr)
        for key, (name, node) in rh.items():
            if key not in bh:
                self._ctx.emit("response-header-added", place,
                               f"the response header `{name}` was added to the {code} response",
                               b.ptr, node.ptr)
        for key, (name, old) in bh.items():
            if key not in rh:
                continue
            new = rh[key][1]
            if old.mapping().get("required") is True and new.mapping().get("required") is not True:
                self._ctx.emit("response-header-became-optional", place,
                               f"the response header `{name}` of the {code} response became "
                               "optional; clients that rely on it may not get it",
                               (*old.ptr, "required"), new.ptr)
            bs, rs = old.get("schema"), new.get("schema")
            if bs is not None and rs is not None:
                site = SchemaSite("response", "header", where=f" in the {code} response",
                                  name=name)
                report_schema(self._ctx, place, site, self._walker.compare(bs, rs))

    def _content(self, place: Place, code: str, b: Node, r: Node) -> None:
        bc, rc = b.get("content"), r.get("content")
        bmedia = bc.mapping() if bc is not None else {}
        rmedia = rc.mapping() if rc is not None else {}
        matched = match_media(bmedia, rmedia)
        banchor = bc.ptr if bc is not None else b.ptr
        ranchor = rc.ptr if rc is not None else r.ptr
        for media in matched.removed:
            self._ctx.emit("response-media-type-removed", place,
                           f"the {code} response no longer has the media type {media}; "
                           "clients that ask for it will not get it", (*banchor, media), ranchor)
        for media in matched.added:
            self._ctx.emit("response-media-type-added", place,
                           f"the {code} response also has the media type {media}", banchor,
                           (*ranchor, media))
        for bname, rname, relation in matched.pairs:
            bm, rm = Node((*banchor, bname), bmedia[bname]), Node((*ranchor, rname), rmedia[rname])
            self._relation(place, code, bname, rname, relation, bm, rm)
            bs, rs = bm.get("schema"), rm.get("schema")
            if bs is not None and rs is None:
                self._ctx.emit("response-body-media-type-schema-removed", place,
                               f"the {code} response ({rname}) no longer has a schema, so it "
                               "may now hold anything", bs.ptr, rm.ptr)
            elif bs is None and rs is not None:
                self._ctx.emit("response-body-media-type-schema-added", place,
                               f"the {code} response ({rname}) got a schema", bm.ptr, rs.ptr)
            elif bs is not None and rs is not None:
                site = SchemaSite("response", "body", where=f" in the {code} response ({rname})")
                report_schema(self._ctx, place, site, self._walker.compare(bs, rs))

    def _relation(self, place: Place, code: str, bname: str, rname: str, relation: Relation,
                  bm: Node, rm: Node) -> None:
        if relation is Relation.RENAMED:
            self._ctx.emit("response-media-type-name-changed", place,
                           f"the {code} response's media type {bname} became {rname}",
                           bm.ptr, rm.ptr)
        elif relation is Relation.GENERALIZED:
            self._ctx.emit("response-media-type-name-generalized", place,
                           f"the {code} response's media type {bname} became the more general "
                           f"{rname}; clients may get a format they cannot read", bm.ptr, rm.ptr)
        elif relation is Relation.SPECIALIZED:
            self._ctx.emit("response-media-type-name-specialized", place,
                           f"the {code} response's media type {bname} became the more specific "
                           f"{rname}", bm.ptr, rm.ptr)


def _headers(deref: Callable[[Node], Node], response: Node) -> dict[str, tuple[str, Node]]:
    holder = response.get("headers")
    if holder is None:
        return {}
    found: dict[str, tuple[str, Node]] = {}
    headers: Mapping[str, Any] = holder.mapping()
    for name, raw in headers.items():
        if name.lower() == "content-type":
            continue  # OpenAPI says a Content-Type header definition is ignored
        found[name.lower()] = (name, deref(Node((*holder.ptr, name), raw)))
    return found
