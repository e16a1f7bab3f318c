"""Command templates of the ``local`` target: ``python -m app --port {port}`` -> argv.

A template is split into arguments *before* placeholders are filled in, so a value holding
spaces (an artifact path, say) stays one argument and nothing is ever handed to a shell.
Placeholders are ``{port}``, ``{version}``, ``{instance}`` and ``{artifact}``; ``{{`` and ``}}``
write literal braces. Anything else in braces is refused when the options are loaded, not
when an instance starts.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

PLACEHOLDERS = frozenset({"port", "version", "instance", "artifact"})
"""The names a command template may use."""

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{|\}")


class TemplateError(ValueError):
    """A command template that cannot be used; the message says why."""


def split_template(command: str | Sequence[str]) -> tuple[str, ...]:
    """The arguments of ``command``: a string is split like a POSIX shell would split it."""
    if isinstance(command, str):
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:
            raise TemplateError(f"cannot split the command into arguments: {exc}") from exc
    else:
        argv = tuple(command)
    if not argv or not argv[0].strip():
        raise TemplateError("the command is empty")
    return argv


def placeholders_in(argv: Sequence[str]) -> frozenset[str]:
    """Every placeholder ``argv`` uses; raises :class:`TemplateError` for unknown ones."""
    used: set[str] = set()
    for argument in argv:
        for match in _TOKEN.finditer(argument):
            text = match.group(0)
            if text in ("{{", "}}"):
                continue
            name = match.group(1)
            if name is None:
                raise TemplateError(
                    f"unbalanced brace in '{argument}'; write {{{{ or }}}} for a literal brace"
                )
            if name not in PLACEHOLDERS:
                known = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS))
                raise TemplateError(f"unknown placeholder {{{name}}} in '{argument}'; "
                                    f"use {known}")
            used.add(name)
    return frozenset(used)


def render(argv: Sequence[str], values: Mapping[str, str]) -> tuple[str, ...]:
    """Fill the placeholders of every argument with ``values``.

    Raises :class:`TemplateError` when a placeholder has no value (``{artifact}`` without an
    artifact) or is unknown.
    """
    placeholders_in(argv)

    def substitute(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "{{":
            return "{"
        if text == "}}":
            return "}"
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"the command uses {{{name}}} but no {name} was given")
        return values[name]

    return tuple(_TOKEN.sub(substitute, argument) for argument in argv)
