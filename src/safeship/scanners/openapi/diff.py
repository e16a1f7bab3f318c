"""The entry point: :func:`diff_specs` compares a base spec with a revision."""

from __future__ import annotations

from safeship.scanners.openapi.changes import DiffReport, sort_key
from safeship.scanners.openapi.components import compare_components, compare_webhooks
from safeship.scanners.openapi.context import DiffContext, DiffOptions
from safeship.scanners.openapi.document import Spec
from safeship.scanners.openapi.paths import compare_paths
from safeship.scanners.openapi.schema_walk import SchemaWalker
from safeship.scanners.openapi.security import compare_global_security


def diff_specs(base: Spec, revision: Spec, options: DiffOptions) -> DiffReport:
    """Every change from ``base`` (the previous release) to ``revision``, most serious first."""
    ctx = DiffContext(base, revision, options)
    walker = SchemaWalker(base, revision, options)
    compare_paths(ctx, walker)
    compare_global_security(ctx)
    compare_webhooks(ctx)
    compare_components(ctx)
    return DiffReport(base.source, revision.source, tuple(sorted(ctx.changes, key=sort_key)))
