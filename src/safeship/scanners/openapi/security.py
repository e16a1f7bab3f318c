"""Security requirements, globally and per operation.

A ``security`` list holds alternatives: a client satisfies any one of them. An empty list (or
an empty requirement ``{}`` among them) lets anonymous clients in. So removing an alternative
can lock clients out, adding one only offers another way in, and requiring credentials where
none were needed (``api-security-became-required``) breaks every anonymous client. An
operation's own ``security`` replaces the global one; when neither side has its own, the
global comparison already reports the change once for the whole API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.pointers import Ptr

Requirement = Mapping[str, frozenset[str]]


def _requirements(value: Any) -> list[Requirement]:
    if not isinstance(value, list):
        return []
    return [{str(k): frozenset(map(str, v or [])) for k, v in item.items()}
            for item in value if isinstance(item, Mapping)]


def anonymous(requirements: list[Requirement]) -> bool:
    """True when a client without credentials satisfies the requirements."""
    return not requirements or any(not requirement for requirement in requirements)


def _name(requirement: Requirement) -> str:
    return " + ".join(sorted(requirement)) or "{}"


def _compare(ctx: DiffContext, place: Place, base: list[Requirement], rev: list[Requirement],
             ptrs: tuple[Ptr, Ptr], prefix: str) -> None:
    bkeys = {frozenset(r): r for r in base}
    rkeys = {frozenset(r): r for r in rev}
    where = "the API" if prefix == "api-global-security" else "the operation"
    if not anonymous(rev):
        for key, requirement in bkeys.items():
            if key not in rkeys and key:
                ctx.emit(f"{prefix}-removed", place,
                         f"{where} no longer accepts the security requirement "
                         f"{_name(requirement)}; clients that authenticate that way are locked "
                         "out", ptrs[0], ptrs[1], key=_name(requirement))
    if not anonymous(base):
        for key, requirement in rkeys.items():
            if key not in bkeys and key:
                ctx.emit(f"{prefix}-added", place,
                         f"{where} also accepts the security requirement {_name(requirement)}",
                         ptrs[0], ptrs[1], key=_name(requirement))
    for key, old in bkeys.items():
        new = rkeys.get(key)
        if new is None:
            continue
        for scheme in sorted(old):
            for scope in sorted(new[scheme] - old[scheme]):
                ctx.emit(f"{prefix}-scope-added", place,
                         f"the security scheme {scheme} of {where} now also needs the scope "
                         f"`{scope}`; tokens without it are refused", ptrs[0], ptrs[1],
                         key=(scheme, scope))
            for scope in sorted(old[scheme] - new[scheme]):
                ctx.emit(f"{prefix}-scope-removed", place,
                         f"the security scheme {scheme} of {where} no longer needs the scope "
                         f"`{scope}`", ptrs[0], ptrs[1], key=(scheme, scope))


def _ptr(node: Node, key: str) -> Ptr:
    return (*node.ptr, key) if key in node.mapping() else node.ptr


def compare_global_security(ctx: DiffContext) -> None:
    """Report changes of the top-level ``security`` list."""
    base, rev = ctx.base.root, ctx.revision.root
    _compare(ctx, Place(), _requirements(base.mapping().get("security")),
             _requirements(rev.mapping().get("security")),
             (_ptr(base, "security"), _ptr(rev, "security")), "api-global-security")


def compare_operation_security(ctx: DiffContext, place: Place, bop: Node, rop: Node) -> None:
    """Report the security changes of one operation (its own list, or the global one)."""
    bglobal = _requirements(ctx.base.data.get("security"))
    rglobal = _requirements(ctx.revision.data.get("security"))
    bown, rown = "security" in bop.mapping(), "security" in rop.mapping()
    beff = _requirements(bop.mapping()["security"]) if bown else bglobal
    reff = _requirements(rop.mapping()["security"]) if rown else rglobal
    bptr = _ptr(bop, "security") if bown else _ptr(ctx.base.root, "security")
    rptr = _ptr(rop, "security") if rown else _ptr(ctx.revision.root, "security")
    if anonymous(beff) and not anonymous(reff):
        needed = " or ".join(_name(r) for r in reff)
        ctx.emit("api-security-became-required", place,
                 f"the operation accepted requests without credentials and now requires "
                 f"{needed}; anonymous clients are refused", bptr, rptr)
        return
    if not bown and not rown:
        return
    _compare(ctx, place, beff, reff, (bptr, rptr), "api-security")
