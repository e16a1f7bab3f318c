"""Translate Go RE2 regular expressions (gitleaks' dialect) into Python :mod:`re` syntax.

RE2 and Python agree on most syntax. The differences that real gitleaks rules hit:

* flags in the middle of a pattern, ``abc(?i)def``: Python allows global flags only at the very
  start. RE2 applies them from that point to the end of the enclosing group, which is exactly
  Python's scoped form, so ``abc(?i)def`` becomes ``abc(?i:def)``;
* ``\\z`` (end of text) is Python's ``\\Z``;
* ``(?<name>...)`` is Python's ``(?P<name>...)``;
* ``\\Q...\\E`` quotes a literal;
* ``\\x{10FFFF}`` code points, ``\\pL``/``\\p{Lu}`` classes and ``[[:alpha:]]`` POSIX classes;
* ``{,n}`` is a literal in RE2 but a quantifier in Python, so its brace is escaped.

RE2's ungreedy flag ``U`` and Unicode scripts (``\\p{Greek}``) have no Python equivalent: they
raise :class:`RegexTranslationError` naming what is unsupported.
"""

from __future__ import annotations

import re

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
# Unicode general categories Python's re can express; anything else is refused.
_UNICODE_CLASSES = {
    "L": ("[^\\W\\d_]", "\\W\\d_"), "N": ("\\d", "0-9"), "Nd": ("\\d", "0-9"),
}
_FLAG_CHARS = frozenset("imsU-")


class RegexTranslationError(ValueError):
    """The pattern uses RE2 syntax that Python's re cannot express."""


def translate(pattern: str) -> str:
    """``pattern`` (RE2 syntax) rewritten for Python's :mod:`re`."""
    return _Translator(pattern).run()


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        # For each open group: the flags of the scoped groups we opened inside it and must close.
        self.pending: list[list[str]] = [[]]

    def run(self) -> str:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "\\":
                self.out.append(self._escape(in_class=False))
            elif char == "[":
                self.out.append(self._char_class())
            elif char == "(":
                self._open_group()
            elif char == ")":
                if len(self.pending) == 1:
                    raise RegexTranslationError(f"unbalanced ')' at position {self.pos}")
                self.out.append(")" * len(self.pending.pop()))
                self.out.append(")")
                self.pos += 1
            elif char == "|" and self.pending[-1]:
                # An alternative ends the scope of (?i) for this branch; RE2 carries the flags
                # into the next branch of the same group, so reopen them there.
                flags = self.pending[-1]
                self.out.append(")" * len(flags) + "|" + "".join(f"(?{f}:" for f in flags))
                self.pos += 1
            elif char == "{" and self.src.startswith("{,", self.pos):
                self.out.append("\\{")
                self.pos += 1
            else:
                self.out.append(char)
                self.pos += 1
        if len(self.pending) != 1:
            raise RegexTranslationError("missing ')'")
        self.out.append(")" * len(self.pending[0]))
        return "".join(self.out)

    def _open_group(self) -> None:
        src, pos = self.src, self.pos
        if src.startswith("(?<", pos) and not src.startswith(("(?<=", "(?<!"), pos):
            self.out.append("(?P<")
            self.pos += 3
            self.pending.append([])
            return
        flags = re.match(r"\(\?([a-zA-Z-]*)([:)])", src[pos:])
        if flags is None or not src.startswith("(?", pos) or not flags.group(1):
            self.out.append("(")
            self.pos += 1
            self.pending.append([])
            return
        letters, closer = flags.group(1), flags.group(2)
        if not set(letters) <= _FLAG_CHARS:
            # (?P<...>, (?=, (?!, (?# and friends: pass through as they are.
            self.out.append("(")
            self.pos += 1
            self.pending.append([])
            return
        if "U" in letters:
            raise RegexTranslationError("RE2's ungreedy flag (?U) has no Python equivalent")
        self.pos += len(flags.group(0))
        if closer == ":":
            self.out.append(f"(?{letters}:")
            self.pending.append([])
            return
        at_start = not self.out and len(self.pending) == 1 and "-" not in letters
        if at_start:
            self.out.append(f"(?{letters})")
            return
        # (?i) in the middle: scope it to the rest of the enclosing group.
        self.out.append(f"(?{letters}:")
        self.pending[-1].append(letters)

    def _escape(self, *, in_class: bool) -> str:
        src, pos = self.src, self.pos
        if pos + 1 >= len(src):
            raise RegexTranslationError("pattern ends with a lone backslash")
        nxt = src[pos + 1]
        self.pos += 2
        if nxt == "z" and not in_class:
            return "\\Z"
        if nxt == "Q":
            end = src.find("\\E", self.pos)
            literal = src[self.pos:] if end < 0 else src[self.pos:end]
            self.pos = len(src) if end < 0 else end + 2
            return re.escape(literal)
        if nxt == "x" and src.startswith("{", self.pos):
            end = src.find("}", self.pos)
            if end < 0:
                raise RegexTranslationError("unterminated \\x{...}")
            code = int(src[self.pos + 1:end], 16)
            self.pos = end + 1
            return f"\\U{code:08x}"
        if nxt in "pP":
            return self._unicode_class(negated=nxt == "P", in_class=in_class)
        if nxt == "C":
            return "."
        return "\\" + nxt

    def _unicode_class(self, *, negated: bool, in_class: bool) -> str:
        src = self.src
        if src.startswith("{", self.pos):
            end = src.find("}", self.pos)
            name = src[self.pos + 1:end]
            self.pos = end + 1
        else:
            name = src[self.pos:self.pos + 1]
            self.pos += 1
        if name.startswith("^"):
            negated, name = not negated, name[1:]
        if name not in _UNICODE_CLASSES:
            raise RegexTranslationError(f"Unicode class \\p{{{name}}} is not supported")
        whole, inner_negated = _UNICODE_CLASSES[name]
        if in_class:
            if negated or name == "L":
                raise RegexTranslationError(
                    f"\\p{{{name}}} inside a character class is not supported")
            return inner_negated
        if negated:
            return f"[{inner_negated}]" if name != "L" else "[\\W\\d_]"
        return whole

    def _char_class(self) -> str:
        src = self.src
        out = ["["]
        self.pos += 1
        if src.startswith("^", self.pos):
            out.append("^")
            self.pos += 1
        if src.startswith("]", self.pos):
            out.append("\\]")
            self.pos += 1
        while self.pos < len(src):
            char = src[self.pos]
            if char == "]":
                self.pos += 1
                out.append("]")
                return "".join(out)
            if char == "\\":
                out.append(self._escape(in_class=True))
                continue
            if char == "[":
                posix = re.match(r"\[:(\^?)([a-z]+):\]", src[self.pos:])
                if posix is not None:
                    if posix.group(2) not in _POSIX_CLASSES or posix.group(1):
                        raise RegexTranslationError(
                            f"POSIX class {posix.group(0)} is not supported")
                    out.append(_POSIX_CLASSES[posix.group(2)])
                    self.pos += len(posix.group(0))
                    continue
                out.append("\\[")
                self.pos += 1
                continue
            # Python warns about '&&', '~~', '||' and '--' inside sets (future set operations);
            # in RE2 they are plain characters, so escape the repeated ones.
            if char in "&~|" or (char == "-" and src.startswith("--", self.pos)):
                out.append("\\" + char)
                self.pos += 1
                continue
            out.append(char)
            self.pos += 1
        raise RegexTranslationError("unterminated character class '['")
