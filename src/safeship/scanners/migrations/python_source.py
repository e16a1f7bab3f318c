"""Reading Python migrations without importing them: small questions asked of an ``ast`` tree.

Migration files are parsed, never executed (importing one would run the project's code). The
helpers here answer what the Alembic and Django readers need: is a function body empty, what
string does an argument hold, which keyword was passed.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping


class PythonSyntaxError(Exception):
    """The file is not valid Python."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(detail)
        self.line = line
        self.detail = detail


def parse_module(text: str, filename: str) -> ast.Module:
    """The syntax tree of ``text``; raises :class:`PythonSyntaxError`."""
    try:
        return ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise PythonSyntaxError(exc.lineno or 1, exc.msg) from exc
    except ValueError as exc:  # NUL bytes in the source
        raise PythonSyntaxError(1, str(exc)) from exc


def is_empty_body(body: list[ast.stmt]) -> bool:
    """True when a body does nothing: only ``pass``, ``...`` and string literals (docstrings)."""
    return all(
        isinstance(node, ast.Pass)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and (node.value.value is Ellipsis or isinstance(node.value.value, str)))
        for node in body
    )


def only_raises(body: list[ast.stmt]) -> bool:
    """True when a body does nothing but raise (``raise NotImplementedError`` and the like)."""
    meaningful = [node for node in body if not is_empty_body([node])]
    return bool(meaningful) and all(isinstance(node, ast.Raise) for node in meaningful)


def module_functions(module: ast.Module) -> dict[str, ast.FunctionDef]:
    """Top-level functions by name."""
    return {node.name: node for node in module.body if isinstance(node, ast.FunctionDef)}


def module_strings(module: ast.Module) -> dict[str, str]:
    """Top-level ``NAME = "text"`` (or annotated) assignments: constants used as names."""
    found: dict[str, str] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(
                value.value, str):
            found[target.id] = value.value
    return found


def assigned_names(module: ast.Module) -> set[str]:
    """Names assigned at the top level (with or without annotation)."""
    names: set[str] = set()
    for node in module.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def string_of(node: ast.expr | None, constants: Mapping[str, str]) -> str | None:
    """The string ``node`` stands for: a literal, a module constant, or ``text("...")``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Call) and dotted_name(node.func).rsplit(".", 1)[-1] == "text" and (
            len(node.args) == 1):
        return string_of(node.args[0], constants)
    return None


def dotted_name(node: ast.expr) -> str:
    """``a.b.c`` for an attribute chain or name, ``""`` for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def argument(call: ast.Call, position: int | None, name: str) -> ast.expr | None:
    """The argument passed as keyword ``name`` or at ``position`` (``None`` when absent)."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if position is not None and position < len(call.args):
        arg = call.args[position]
        return None if isinstance(arg, ast.Starred) else arg
    return None


def is_none(node: ast.expr | None) -> bool:
    """True for a missing argument or a literal ``None``."""
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def is_true(node: ast.expr | None) -> bool:
    """True for a literal ``True``."""
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.expr | None) -> bool:
    """True for a literal ``False``."""
    return isinstance(node, ast.Constant) and node.value is False


def first_docstring_line(module: ast.Module) -> str:
    """The first line of the module docstring, or ``""``."""
    doc = ast.get_docstring(module)
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""
