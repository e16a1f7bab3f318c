"""Webhooks and components: what exists outside ``paths`` and can be removed or changed.

Component schemas are compared where operations use them; here only their removal is recorded
(INFO). Security schemes are recorded when added, removed or retyped, and OAuth scopes when
added or removed (INFO: what breaks clients is an operation's requirements, which
:mod:`.security` judges). A removed webhook is breaking: subscribers stop receiving it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.document import Node


def _section(root: Node, *keys: str) -> Node | None:
    node: Node | None = root
    for key in keys:
        node = node.get(key) if node is not None else None
    return node


def _names(node: Node | None) -> Mapping[str, Any]:
    return node.mapping() if node is not None else {}


def compare_webhooks(ctx: DiffContext) -> None:
    """Report webhooks removed (ERR) and added (INFO)."""
    bnode, rnode = _section(ctx.base.root, "webhooks"), _section(ctx.revision.root, "webhooks")
    bnames, rnames = _names(bnode), _names(rnode)
    for name in bnames:
        if name not in rnames:
            ctx.emit("webhook-removed", Place(), f"the webhook {name} was removed; subscribers "
                     "stop receiving it", (*(bnode.ptr if bnode else ()), name),
                     rnode.ptr if rnode else ())
    for name in rnames:
        if name not in bnames:
            ctx.emit("webhook-added", Place(), f"the webhook {name} was added",
                     bnode.ptr if bnode else (), (*(rnode.ptr if rnode else ()), name))


def compare_components(ctx: DiffContext) -> None:
    """Report removed component schemas and changed security schemes (all INFO)."""
    bschemas = _section(ctx.base.root, "components", "schemas")
    rschemas = _section(ctx.revision.root, "components", "schemas")
    for name in _names(bschemas):
        if name not in _names(rschemas):
            ctx.emit("api-schema-removed", Place(), f"the schema {name} was removed from "
                     "components", (*(bschemas.ptr if bschemas else ()), name),
                     rschemas.ptr if rschemas else ())
    bsec = _section(ctx.base.root, "components", "securitySchemes")
    rsec = _section(ctx.revision.root, "components", "securitySchemes")
    bnames, rnames = _names(bsec), _names(rsec)
    bptr, rptr = (bsec.ptr if bsec else ()), (rsec.ptr if rsec else ())
    for name in bnames:
        if name not in rnames:
            ctx.emit("api-security-component-removed", Place(),
                     f"the security scheme {name} was removed", (*bptr, name), rptr)
    for name in rnames:
        if name not in bnames:
            ctx.emit("api-security-component-added", Place(),
                     f"the security scheme {name} was added", bptr, (*rptr, name))
    for name in bnames:
        if name in rnames:
            old = ctx.base.deref(Node((*bptr, name), bnames[name])).mapping()
            new = ctx.revision.deref(Node((*rptr, name), rnames[name])).mapping()
            if old.get("type") != new.get("type"):
                ctx.emit("api-security-component-type-changed", Place(),
                         f"the security scheme {name} changed type from {old.get('type')} to "
                         f"{new.get('type')}", (*bptr, name), (*rptr, name))
            _scopes(ctx, name, old, new, ((*bptr, name), (*rptr, name)))


def _scopes(ctx: DiffContext, name: str, old: Mapping[str, Any], new: Mapping[str, Any],
            ptrs: tuple[tuple[str | int, ...], tuple[str | int, ...]]) -> None:
    def scopes(scheme: Mapping[str, Any]) -> set[tuple[str, str]]:
        flows = scheme.get("flows")
        found: set[tuple[str, str]] = set()
        for flow, body in (flows.items() if isinstance(flows, Mapping) else ()):
            listed = body.get("scopes") if isinstance(body, Mapping) else None
            found.update((str(flow), str(s)) for s in (listed or {}))
        return found

    before, after = scopes(old), scopes(new)
    for flow, scope in sorted(before - after):
        ctx.emit("api-security-component-oauth-scope-removed", Place(),
                 f"the {flow} flow of the security scheme {name} lost the scope `{scope}`",
                 ptrs[0], ptrs[1], key=(flow, scope))
    for flow, scope in sorted(after - before):
        ctx.emit("api-security-component-oauth-scope-added", Place(),
                 f"the {flow} flow of the security scheme {name} gained the scope `{scope}`",
                 ptrs[0], ptrs[1], key=(flow, scope))
