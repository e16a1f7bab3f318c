"""Small OpenAPI documents built in code, parsed and validated like files, for the diff tests."""

from __future__ import annotations

import copy
import datetime as dt
import json
from functools import lru_cache
from typing import Any

from safeship.scanners.openapi import DiffOptions, DiffReport, Spec, diff_specs, parse_spec
from safeship.scanners.openapi.document import Spec as _Spec
from safeship.scanners.openapi.pointers import from_ref
from safeship.scanners.openapi.yaml_fast import parse_fast

TODAY = dt.date(2030, 6, 1)
OK = {"200": {"description": "ok"}}


def doc(paths: dict[str, Any], *, version: str = "3.0.3", **top: Any) -> dict[str, Any]:
    """An OpenAPI document with ``paths`` and any other top-level sections."""
    return {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths, **top}


def op(**fields: Any) -> dict[str, Any]:
    """An operation with a 200 response unless ``responses`` is given."""
    return {"responses": copy.deepcopy(OK), **fields}


def json_body(schema: Any) -> dict[str, Any]:
    """A content map with one application/json schema."""
    return {"application/json": {"schema": schema}}


def parse(data: dict[str, Any], name: str = "spec.json", *, validate: bool = True) -> Spec:
    """``data`` as a loaded spec (JSON text goes through the real loader).

    ``validate=False`` skips openapi-spec-validator, which is most of the cost; the generated
    rule tables use it and check their documents' validity once per kind instead.
    """
    return _parse(json.dumps(data, indent=1), name, validate)


@lru_cache(maxsize=4096)
def _parse(text: str, name: str, validate: bool) -> Spec:
    # Specs are immutable, and the rule tables diff the same documents both ways round.
    if validate:
        return parse_spec(text, name)
    document = parse_fast(text, name)
    return _Spec(name, ".".join(str(document.data["openapi"]).split(".")[:2]), document)


def diff(base: dict[str, Any], rev: dict[str, Any], *, today: dt.date = TODAY,
         deprecation_days: int = 0, validate: bool = True) -> DiffReport:
    """The diff of two documents."""
    return diff_specs(parse(base, "base.json", validate=validate),
                      parse(rev, "rev.json", validate=validate),
                      DiffOptions(today=today, deprecation_days=deprecation_days))


def ids(report: DiffReport) -> set[str]:
    """The rule ids of a report."""
    return {c.id for c in report.changes}


def pointer_target(spec: Spec, pointer: str) -> Any:
    """The node a JSON pointer of a change names (None when it names nothing)."""
    ptr = from_ref("#" + pointer)
    return spec.at(ptr) if ptr is not None else None
