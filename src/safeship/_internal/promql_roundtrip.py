"""Parse PromQL with ``promql_parser`` and refuse text its printer cannot reproduce.

safeship never rewrites PromQL with regular expressions: it parses the query, works on the tree
and prints it back. ``promql_parser``'s printer is not faithful for every construct (quotes and
backslashes inside strings, default-step subqueries, sub-second durations; see
:mod:`safeship.metrics.promql_scope`), so a query is only accepted when it survives
parse -> print -> parse with an identical tree. Trees are compared through ``repr()``, which shows
the parser's whole internal tree.

This is the layer-neutral copy of the check in ``metrics/promql_scope.py`` (config and slo may
not import metrics); both apply the same rule.
"""

from __future__ import annotations

import promql_parser as pp


class PromQLTextError(ValueError):
    """The text is not PromQL, or the parser could not print it back unchanged."""


def parse_faithful(query: str) -> pp.Expr:
    """Parse ``query`` and check that it prints back to the same tree; return the tree.

    Raises :class:`PromQLTextError` with a message naming the problem otherwise.
    """
    try:
        tree = pp.parse(query)
    except ValueError as exc:
        raise PromQLTextError(f"not valid PromQL: {exc}") from exc
    printed = str(tree)
    try:
        again = pp.parse(printed)
    except ValueError as exc:
        raise PromQLTextError(
            f"the PromQL printer cannot reproduce this query (it prints {printed!r}); avoid "
            "quotes and backslashes inside label values"
        ) from exc
    if repr(again) != repr(tree):
        raise PromQLTextError(
            f"the PromQL printer changes the meaning of this query (it prints {printed!r}); "
            "avoid quotes and backslashes inside label values"
        )
    return tree


def vector_selectors(tree: pp.Expr) -> list[pp.VectorSelector]:
    """Every vector selector of ``tree``, in walk order (those inside range vectors too)."""
    found: list[pp.VectorSelector] = []

    def visit(node: pp.Expr) -> None:
        if isinstance(node, pp.VectorSelector):
            found.append(node)

    pp.walk(tree, visit)
    return found


def selector_text(selector: pp.VectorSelector) -> str:
    """``selector`` printed, without the empty braces the printer adds to a bare name."""
    text = str(selector)
    # "x{}" and "x" select the same series; the shorter form is what people write.
    if selector.name and text == f"{selector.name}{{}}":
        return selector.name
    return text
