"""JSON pointers (RFC 6901) for places in an OpenAPI document.

Inside the diff a place is a tuple of keys and list indexes, the same shape
:mod:`safeship.config.yaml_source` uses for line numbers; it becomes a pointer string only for
output.
"""

from __future__ import annotations

from urllib.parse import unquote

Ptr = tuple[str | int, ...]


def to_pointer(ptr: Ptr) -> str:
    """``("paths", "/pets/{id}", "get")`` -> ``/paths/~1pets~1{id}/get`` (the root is ``""``)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in ptr)


def from_ref(ref: str) -> Ptr | None:
    """The place a local ``$ref`` (``#/components/schemas/Pet``) names, or None if not local."""
    if not ref.startswith("#"):
        return None
    fragment = ref[1:]
    if fragment == "":
        return ()
    if not fragment.startswith("/"):
        return None
    # Percent-escapes are legal in the URI fragment; decode them before the pointer escapes.
    parts = unquote(fragment[1:]).split("/")
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in parts)
