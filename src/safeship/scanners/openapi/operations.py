"""One operation in both specs: lifecycle, metadata, then parameters, body, responses, security.

Operations at stability level ``draft`` or ``alpha`` in the base may change freely (oasdiff's
rule): only their stability level itself is checked.
"""

from __future__ import annotations

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.parameters import ParameterComparer, effective_parameters
from safeship.scanners.openapi.request_body import compare_request_body
from safeship.scanners.openapi.responses import ResponseComparer
from safeship.scanners.openapi.schema_walk import SchemaWalker
from safeship.scanners.openapi.security import compare_operation_security
from safeship.scanners.openapi.sunset import (
    STABILITY_LEVELS,
    changes_allowed,
    lifecycle,
    stability,
    stability_rank,
)


class OperationComparer:
    """Compares operations that exist in both specs."""

    def __init__(self, ctx: DiffContext, walker: SchemaWalker) -> None:
        self._ctx = ctx
        self._walker = walker
        self._parameters = ParameterComparer(ctx, walker)
        self._responses = ResponseComparer(ctx, walker)

    def compare(self, place: Place, paths: tuple[str, str], items: tuple[Node, Node],
                ops: tuple[Node, Node]) -> None:
        """Compare operation ``ops[0]`` (base) with ``ops[1]`` (revision) at ``place``."""
        bop, rop = ops
        self._stability(place, bop, rop)
        if changes_allowed(bop.mapping()):
            return
        self._deprecation(place, bop, rop)
        self._metadata(place, bop, rop)
        self._parameters.compare(
            place, effective_parameters(self._ctx.base, paths[0], items[0], bop),
            effective_parameters(self._ctx.revision, paths[1], items[1], rop), (bop, rop))
        compare_request_body(self._ctx, self._walker, place, bop, rop)
        self._responses.compare(place, bop, rop)
        compare_operation_security(self._ctx, place, bop, rop)

    def _stability(self, place: Place, bop: Node, rop: Node) -> None:
        old, new = stability(bop.mapping()), stability(rop.mapping())
        old_rank, new_rank = stability_rank(old), stability_rank(new)
        if new_rank is None:
            self._ctx.emit("api-invalid-stability-level", place,
                           f"x-stability-level {new!r} is not one of "
                           f"{', '.join(STABILITY_LEVELS)}", bop.ptr,
                           (*rop.ptr, "x-stability-level"))
        elif old_rank is not None and new_rank < old_rank:
            self._ctx.emit("api-stability-decreased", place,
                           f"the stability level went down from {old or 'stable'} to {new}; "
                           "clients relying on its stability lose that promise",
                           bop.ptr, (*rop.ptr, "x-stability-level"))
        elif old_rank is not None and new_rank > old_rank:
            self._ctx.emit("api-stability-increased", place,
                           f"the stability level went up from {old} to {new or 'stable'}",
                           bop.ptr, rop.ptr)

    def _deprecation(self, place: Place, bop: Node, rop: Node) -> None:
        before, after = lifecycle(bop.mapping()), lifecycle(rop.mapping())
        days = self._ctx.options.deprecation_days
        today = self._ctx.options.today
        bptr, rptr = bop.ptr, (*rop.ptr, "deprecated")
        if after.deprecated and not before.deprecated:
            if after.sunset_invalid:
                self._ctx.emit("api-deprecated-sunset-parse", place,
                               f"the operation was deprecated with x-sunset "
                               f"{after.sunset_text!r}, which is not a date", bptr, rptr)
            elif after.sunset is None:
                if days > 0:
                    self._ctx.emit("api-deprecated-sunset-missing", place,
                                   "the operation was deprecated without a sunset date, but a "
                                   f"deprecation period of {days} days is required", bptr, rptr)
                else:
                    self._ctx.emit("endpoint-deprecated", place, "the operation was deprecated",
                                   bptr, rptr)
            elif (after.sunset - today).days < days:
                self._ctx.emit("api-sunset-date-too-small", place,
                               f"the operation was deprecated with the sunset date "
                               f"{after.sunset}, sooner than the required {days} days",
                               bptr, rptr)
            else:
                self._ctx.emit("endpoint-deprecated-with-sunset", place,
                               f"the operation was deprecated with the sunset date "
                               f"{after.sunset}", bptr, rptr)
        elif before.deprecated and not after.deprecated:
            self._ctx.emit("endpoint-reactivated", place, "the operation is no longer deprecated",
                           (*bop.ptr, "deprecated"), rop.ptr)
        elif before.deprecated and after.deprecated and before.sunset is not None:
            if after.sunset_text is None:
                self._ctx.emit("sunset-deleted", place,
                               f"the operation is still deprecated but lost its sunset date "
                               f"{before.sunset}", (*bop.ptr, "x-sunset"), rop.ptr)
            elif after.sunset is not None and after.sunset < before.sunset:
                self._ctx.emit("api-sunset-date-changed-too-small", place,
                               f"the operation's sunset date moved earlier, from "
                               f"{before.sunset} to {after.sunset}", (*bop.ptr, "x-sunset"),
                               (*rop.ptr, "x-sunset"))

    def _metadata(self, place: Place, bop: Node, rop: Node) -> None:
        bid, rid = bop.mapping().get("operationId"), rop.mapping().get("operationId")
        if bid is not None and bid != rid:
            self._ctx.emit("api-operation-id-removed", place,
                           f"operationId {bid} was removed" + (f" (now {rid})" if rid else "")
                           + "; generated clients may rename the method", (*bop.ptr,
                                                                           "operationId"),
                           rop.ptr)
        elif bid is None and rid is not None:
            self._ctx.emit("api-operation-id-added", place, f"operationId {rid} was added",
                           bop.ptr, (*rop.ptr, "operationId"))
        btags = [str(t) for t in bop.mapping().get("tags") or []]
        rtags = [str(t) for t in rop.mapping().get("tags") or []]
        for tag in btags:
            if tag not in rtags:
                self._ctx.emit("api-tag-removed", place, f"the tag {tag} was removed",
                               (*bop.ptr, "tags"), rop.ptr, key=tag)
        for tag in rtags:
            if tag not in btags:
                self._ctx.emit("api-tag-added", place, f"the tag {tag} was added",
                               bop.ptr, (*rop.ptr, "tags"), key=tag)
