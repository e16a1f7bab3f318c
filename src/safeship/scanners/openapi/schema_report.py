"""Reports the changes of one schema, used at one place of one operation, as rule findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.levels import Level
from safeship.scanners.openapi.rules import RULES
from safeship.scanners.openapi.schema_change import SchemaChange
from safeship.scanners.openapi.schema_messages import describe, subject
from safeship.scanners.openapi.schema_rules import rule_for

_CONSEQUENCE = {
    "request": "; clients that send what the old contract allowed may now be refused",
    "response": "; clients written against the old contract may not handle what they now "
                "receive",
}


@dataclass(frozen=True)
class SchemaSite:
    """Where a schema is used: request or response, body/parameter/header, and which."""

    direction: str
    root: str
    """``body``, ``parameter`` or ``header``."""
    where: str = ""
    """Appended to messages, e.g. `` in the 200 response (application/json)``."""
    name: str = ""
    """The parameter's or header's name."""
    param_in: str = ""


def report_schema(ctx: DiffContext, place: Place, site: SchemaSite,
                  changes: Iterable[SchemaChange]) -> None:
    """Give every change its rule for ``site`` and record it; changes without one are dropped."""
    for c in changes:
        rule = rule_for(c, site.direction, site.root, site.param_in)
        if rule is None:
            continue
        who = subject(site.direction, site.root, c.path, site.name, site.param_in)
        message = describe(c, who) + site.where
        if RULES[rule].level is not Level.INFO:
            message += _CONSEQUENCE[site.direction]
        ctx.emit(rule, place, message, c.base_ptr, c.rev_ptr, key=(c.kind, c.path, c.details))
