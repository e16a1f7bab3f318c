"""Values that stand in for a secret rather than being one.

Documentation, templates and tests are full of ``XXXX``, ``EXAMPLE``, ``${VAR}``, ``<token>``,
``changeme`` and redacted values. Each check below says why a value is a stand-in; a random
token of the same shape trips none of them by chance except with negligible probability (a
specific four-letter word inside a 40-character base62 token: about 1 in 25,000).
"""

from __future__ import annotations

import re
from collections import Counter

# Words that only appear in stand-ins. "test" is not one: Stripe's sk_test_ keys are real
# credentials, and so are many test-environment passwords.
_WORDS = (
    "example", "sample", "placeholder", "changeme", "change_me", "change-me", "changeit",
    "your_", "your-", "yourkey", "yourtoken", "yoursecret", "yourpassword", "your api",
    "redacted", "dummy", "xxxx", "insert", "replace_me", "replaceme", "replace-me",
    "fixme", "todo", "foobar", "lorem", "ipsum", "masked", "hidden", "notreal", "not_real",
    "not-real", "not_a_real", "fake", "mock", "invalid", "demo", "filtered", "omitted",
    "secret_here", "key_here", "token_here", "password_here", "here>", "...", "\u2026",
    "****", "\u2022\u2022", "####", "????",
)
_WORD_RE = re.compile("|".join(re.escape(word) for word in _WORDS), re.IGNORECASE)
# In a long random token (a 1,700-character private key body) a four-letter word turns up by
# chance about once in a hundred keys; long values are checked without those short words.
_LONG = 64
_SHORT_WORDS = frozenset({"xxxx", "todo", "fake", "mock", "demo"})
_LONG_WORD_RE = re.compile(
    "|".join(re.escape(word) for word in _WORDS if word not in _SHORT_WORDS) + "|x{8,}",
    re.IGNORECASE,
)

# References and templates: ${VAR}, $VAR, {{ x }}, {x}, %(x)s, %VAR%, <x>, $(cmd), #{x}, @{x}.
_TEMPLATE_RE = re.compile(
    r"\$\{[^}]*\}?|^\$[A-Za-z_][A-Za-z0-9_]*$|\{\{.*?\}\}|\{[A-Za-z0-9_.\[\]\"' -]*\}"
    r"|%\([A-Za-z0-9_]+\)[sd]|^%[A-Za-z_][A-Za-z0-9_]*%$|<[^<>]{1,64}>|\$\([^)]*\)?"
    r"|[#@]\{[^}]*\}"
)
_SEQUENCE = "0123456789abcdefghijklmnopqrstuvwxyz"
_REVERSED = _SEQUENCE[::-1]
_KEYBOARD = ("qwerty", "asdfgh", "zxcvbn", "qwertz", "azerty")
_SEQUENCE_RUN = 6


def placeholder_reason(value: str) -> str | None:
    """Why ``value`` is a stand-in for a secret, or None when it may be real."""
    if not value.strip():
        return "empty"
    word = (_LONG_WORD_RE if len(value) > _LONG else _WORD_RE).search(value)
    if word is not None:
        return f"contains '{word.group(0).lower()}'"
    if _TEMPLATE_RE.search(value):
        return "a template or variable reference"
    if _dominated(value):
        return "mostly one repeated character"
    lowered = value.lower()
    if any(pattern in lowered for pattern in _KEYBOARD):
        return "a keyboard pattern"
    if _has_sequence(lowered):
        return "a character sequence"
    return None


def is_placeholder(value: str) -> bool:
    """True when ``value`` is a stand-in for a secret."""
    return placeholder_reason(value) is not None


def _dominated(value: str) -> bool:
    # A secret may contain runs ("AAAAAAAAAA" starts every Twitter bearer token), but a value
    # that is mostly one character (xxxxxxxx, 00000000, ********) carries no secret.
    if len(value) < 4:
        return False
    most = Counter(value).most_common(1)[0][1]
    return most / len(value) > 0.5


def _has_sequence(lowered: str) -> bool:
    for alphabet in (_SEQUENCE, _REVERSED):
        for start in range(len(lowered) - _SEQUENCE_RUN + 1):
            if lowered[start:start + _SEQUENCE_RUN] in alphabet:
                return True
    return False
