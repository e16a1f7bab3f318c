"""The request body of an operation: added, removed, required, media types and schemas."""

from __future__ import annotations

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.media_types import match_media
from safeship.scanners.openapi.schema_report import SchemaSite, report_schema
from safeship.scanners.openapi.schema_walk import SchemaWalker


def compare_request_body(ctx: DiffContext, walker: SchemaWalker, place: Place, bop: Node,
                         rop: Node) -> None:
    """Report the request body changes between operations ``bop`` and ``rop``."""
    braw, rraw = bop.get("requestBody"), rop.get("requestBody")
    if braw is None and rraw is not None:
        body = ctx.revision.deref(rraw)
        if body.mapping().get("required") is True:
            ctx.emit("request-body-added-required", place,
                     "a required request body was added; existing clients do not send one",
                     bop.ptr, body.ptr)
        else:
            ctx.emit("request-body-added-optional", place, "an optional request body was added",
                     bop.ptr, body.ptr)
        return
    if rraw is None and braw is not None:
        ctx.emit("request-body-removed", place,
                 "the request body was removed; clients still send one", braw.ptr, rop.ptr)
        return
    if braw is None or rraw is None:
        return
    bb, rb = ctx.base.deref(braw), ctx.revision.deref(rraw)
    was, now = bb.mapping().get("required") is True, rb.mapping().get("required") is True
    if now and not was:
        ctx.emit("request-body-became-required", place,
                 "the request body became required; existing clients may not send one",
                 bb.ptr, (*rb.ptr, "required"))
    elif was and not now:
        ctx.emit("request-body-became-optional", place, "the request body became optional",
                 (*bb.ptr, "required"), rb.ptr)
    bc, rc = bb.get("content"), rb.get("content")
    bmedia = bc.mapping() if bc is not None else {}
    rmedia = rc.mapping() if rc is not None else {}
    matched = match_media(bmedia, rmedia, allow_specialized=False)
    for media in matched.removed:
        ctx.emit("request-body-media-type-removed", place,
                 f"the request body no longer accepts {media}; clients that send it will be "
                 "refused", (*bb.ptr, "content", media), rc.ptr if rc is not None else rb.ptr)
    for media in matched.added:
        ctx.emit("request-body-media-type-added", place,
                 f"the request body also accepts {media}", bc.ptr if bc is not None else bb.ptr,
                 (*rb.ptr, "content", media))
    for bname, rname, _ in matched.pairs:
        bm = Node((*bb.ptr, "content", bname), bmedia[bname])
        rm = Node((*rb.ptr, "content", rname), rmedia[rname])
        bs, rs = bm.get("schema"), rm.get("schema")
        if bs is None and rs is not None:
            ctx.emit("request-body-media-type-schema-added", place,
                     f"the request body ({rname}) got a schema where anything was accepted",
                     bm.ptr, rs.ptr)
        elif bs is not None and rs is None:
            ctx.emit("request-body-media-type-schema-removed", place,
                     f"the request body ({rname}) no longer has a schema", bs.ptr, rm.ptr)
        elif bs is not None and rs is not None:
            site = SchemaSite("request", "body", where=f" ({rname})")
            report_schema(ctx, place, site, walker.compare(bs, rs))
