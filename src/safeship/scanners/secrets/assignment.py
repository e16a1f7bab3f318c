"""Reading ``name = value`` assignments, and telling a literal secret from code.

Generic rules match a *name* (``password``, ``api_key``, the guide's ``(password|secret|key)``);
this module reads the value assigned to it, in the syntaxes people write configuration in::

    password = "s3cr3t"        # Python, Ruby, Terraform, INI, TOML
    "password": "s3cr3t"       # JSON, JS objects
    password: s3cr3t           # YAML
    PASSWORD=s3cr3t            # .env, shell, Dockerfile ENV
    $password = 's3cr3t';      # PHP
    password := "s3cr3t"       # Go
    :password => 's3cr3t'      # Ruby hashes
    .password("s3cr3t")        # builders and setters
    config["password"] = "..." # subscripts

and then decides whether that value is a literal secret or something else: an expression
(``os.environ["X"]``, ``self.password``), a reference (``${DB_PASSWORD}``), a path, a URL, a
number, a word, a placeholder. An unquoted value in a programming language is an expression,
never a literal, so in code files only quoted values count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from safeship.scanners.secrets.entropy import shannon_entropy
from safeship.scanners.secrets.placeholders import placeholder_reason

_NAME_RUN = re.compile(r"[\w.\-]*")
_QUOTES = "\"'`"
_OPERATORS = (":=", "=>", "||=", "??=", "?=", "=", ":")
_UNQUOTED_END = re.compile(r"[\s,;)\]}\"'`<>]")
_STRING_PREFIX = re.compile(r"[rRbBuUfF]{1,2}(?=[\"'])")

# Files whose unquoted right-hand sides are expressions, not literals.
CODE_SUFFIXES = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".java", ".kt", ".kts",
    ".scala", ".groovy", ".gradle", ".go", ".rb", ".php", ".cs", ".fs", ".vb", ".c", ".h",
    ".cc", ".cpp", ".hpp", ".cxx", ".rs", ".swift", ".m", ".mm", ".dart", ".lua", ".pl", ".pm",
    ".r", ".jl", ".ex", ".exs", ".erl", ".clj", ".hs", ".ml", ".tf", ".hcl", ".nix", ".vue",
    ".svelte", ".sol", ".zig", ".nim", ".cr", ".v", ".coffee",
})

# The words that make a name a secret's name, and the words that make it something else.
_SECRET_WORDS = ("password", "passwd", "passphrase", "pwd", "pass", "secret", "token", "key",
                 "apikey", "credential", "credentials", "auth")
# Short words that name a secret only on their own: AZURE_DEVOPS_PAT, HUAWEICLOUD_SDK_SK.
_SECRET_ABBREVIATIONS = frozenset({"pat", "pw", "sk", "psk", "ak", "pin"})
_NOT_SECRET_TAIL = frozenset({
    "id", "ids", "name", "names", "path", "paths", "file", "filename", "dir", "url", "uri",
    "urls", "endpoint", "host", "type", "types", "size", "length", "len", "count", "field",
    "fields", "label", "prompt", "hint", "policy", "reset", "ref", "arn", "version", "format",
    "algorithm", "alg", "header", "prefix", "suffix", "env", "var", "placeholder", "regex",
    "pattern", "expiry", "expires", "expiration", "ttl", "timeout", "lifetime", "age", "mode",
    "location", "provider", "manager", "store", "storage", "source", "required", "enabled",
    "disabled", "min", "max", "limit", "rotation", "index", "hash", "hashed", "digest",
    "salt", "question", "strength", "confirm", "confirmation", "input", "error", "errors",
    "message", "msg", "text", "title", "description", "column", "col",
    "attribute", "attr", "property", "prop", "param", "parameter", "arg", "option", "callback",
    "handler", "class", "schema", "validator", "mask", "selector", "template", "step",
    "page", "view", "route", "action", "button", "link", "icon", "color", "style", "event",
    "list", "map", "set", "dict", "cache", "bits", "usage", "usages", "spec", "kind",
    "command", "cmd", "script", "generator", "lookup", "scope", "scopes", "audience", "issuer",
    "policies", "rules", "rule",
})
_NOT_SECRET_WORD = frozenset({
    "public", "pub", "publishable", "max", "min", "num", "sort", "primary", "foreign",
    "partition", "row", "monkey", "donkey", "turkey", "hockey", "jockey", "whiskey", "keyboard",
    "keyword", "keywords", "keys", "keypress", "keydown", "keyup", "keystroke", "hotkey",
    "tokenizer", "tokens", "tokenize", "tokenized", "passthrough", "passed", "passing",
    "bypass", "compass", "surpass", "passenger", "csrf", "xsrf", "idempotency",
    "dedup", "dedupe", "unique", "cache", "lookup", "map", "dict", "sort_key", "shortcut",
    "next", "page", "cursor", "continuation", "pagination", "forgot", "show", "toggle",
    "visible", "visibility", "is", "has", "use", "uses", "should", "enable", "enabled",
    "allow", "check", "validate", "verify", "get", "fetch", "load", "read", "generate",
    "random", "confirm", "repeat", "sample", "example", "mock", "fake", "dummy",
})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NUMBER = re.compile(r"[-+]?(?:\d[\d_]*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERAL_WORDS = frozenset({
    "true", "false", "null", "none", "nil", "undefined", "yes", "no", "on", "off", "nan",
    "empty", "required", "optional", "string", "str", "bytes", "int", "secret", "password",
    "token", "key", "sensitive", "unset",
})
_PATH = re.compile(r"^(?:\.{0,2}/|~/|[A-Za-z]:\\|\\\\)|\.(?:pem|key|crt|cer|der|p12|pfx|jks|"
                   r"json|ya?ml|toml|txt|env|cfg|conf|ini|properties|pub|gpg|asc|keystore|"
                   r"kdbx|db|sqlite|log)$", re.IGNORECASE)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_WORDY = re.compile(r"^[A-Za-z]+(?:[_.\-:/ ][A-Za-z]+)*$")
_CHUNK = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_DOTTED_CODE = re.compile(
    r"^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)*(?:(?:\.|::|->)[A-Za-z_$][\w$]*|[(\[].*)$")


@dataclass(frozen=True)
class Assignment:
    """A value assigned to a name, with where the value sits in the text."""

    name: str
    value: str
    start: int
    end: int
    quoted: bool


def read_assignment(text: str, name_start: int, name_end: int,
                    line_end: int | None = None) -> Assignment | None:
    """The value assigned to the name around ``text[name_start:name_end]``, if any."""
    if line_end is None:
        found = text.find("\n", name_end)
        line_end = len(text) if found < 0 else found
    start = name_start
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
        start -= 1
    run = _NAME_RUN.match(text, name_end, line_end)
    pos = run.end() if run is not None else name_end
    name = text[start:pos]
    # A key in quotes or a subscript: "password": ..., config['password'] = ...
    while pos < line_end and text[pos] in "\"'`]":
        pos += 1
    pos = _skip_blanks(text, pos, line_end)
    operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
    if operator is None:
        if pos < line_end and text[pos] == "(":
            # A setter or builder call: password("..."), .withPassword('...')
            inner = _skip_blanks(text, pos + 1, line_end)
            if inner < line_end and (text[inner] in _QUOTES or _STRING_PREFIX.match(text, inner)):
                return _value(text, name, inner, line_end)
        return None
    if operator == "=" and pos > 0 and text[pos - 1] in "!<>=":
        return None
    after = pos + len(operator)
    if after < line_end and text[after] in "=~>" and operator in ("=", ":"):
        return None  # ==, =~, => handled above, :: is a path separator
    if operator == ":" and after < line_end and text[after] == ":":
        return None
    return _value(text, name, _skip_blanks(text, after, line_end), line_end)


def _skip_blanks(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos] in " \t":
        pos += 1
    return pos


def _value(text: str, name: str, pos: int, line_end: int) -> Assignment | None:
    if pos >= line_end:
        return None
    prefix = _STRING_PREFIX.match(text, pos)
    if prefix is not None:
        pos = prefix.end()
    quote = text[pos]
    if quote in _QUOTES:
        end = pos + 1
        while end < line_end and text[end] != quote:
            end += 2 if text[end] == "\\" else 1
        if end >= line_end:
            return None
        return Assignment(name, text[pos + 1:end], pos + 1, end, True)
    found = _UNQUOTED_END.search(text, pos, line_end)
    end = line_end if found is None else found.start()
    if end == pos:
        return None
    return Assignment(name, text[pos:end], pos, end, False)


def name_is_secret(name: str, *, require_secret_word: bool = True) -> bool:
    """True when the identifier ``name`` reads like a secret's name (not ``public_key``).

    ``require_secret_word=False`` only rules out names that say they are something else
    (``public_key``, ``key_id``, ``monkey``): for rules whose author chose the names.
    """
    words = [w for w in re.split(r"[^A-Za-z0-9]+", _CAMEL.sub("_", name).lower()) if w]
    if not words:
        return False
    if any(word in _NOT_SECRET_WORD for word in words):
        return False
    if words[-1] in _NOT_SECRET_TAIL:
        return False
    if not require_secret_word:
        return True
    return any(word in _SECRET_ABBREVIATIONS or word.endswith(_SECRET_WORDS) for word in words)


def literal_reason(assignment: Assignment, path: str) -> str | None:
    """Why the assigned value is not a literal secret, or None when it may be one."""
    value = assignment.value
    if not assignment.quoted:
        if PurePosixPath(path).suffix.lower() in CODE_SUFFIXES:
            return "an expression in code"
        if value[0] in "$@!&*%<{[(|>":
            return "a reference or a YAML/template construct"
    if _NUMBER.fullmatch(value):
        return "a number"
    if value.lower() in _LITERAL_WORDS:
        return "a keyword"
    if any(ch.isspace() for ch in value):
        return "text with spaces"
    if _URL.match(value):
        return "a URL"
    if _PATH.search(value):
        return "a path or file name"
    if _DOTTED_CODE.match(value):
        return "an attribute access or call"
    if _WORDY.match(value) or _identifier_like(value):
        return "a word or an identifier"
    reason = placeholder_reason(value)
    if reason is not None:
        return reason
    if assignment.name and value.lower() in assignment.name.lower():
        return "the variable's own name"
    return None


def _identifier_like(value: str) -> bool:
    # "safeshipFindingHash/v1", "userProfileCacheV2": mostly words of three or more letters.
    # A random token splits into short pieces, since its capitals and digits fall anywhere.
    alnum = sum(ch.isalnum() for ch in value)
    if alnum < 8:
        return False
    wordy = sum(len(chunk) for chunk in _CHUNK.findall(value) if len(chunk) >= 3)
    return wordy / alnum >= 0.8


def char_classes(value: str) -> int:
    """How many of lower case, upper case, digits and symbols ``value`` uses."""
    return sum((
        any(c.islower() for c in value), any(c.isupper() for c in value),
        any(c.isdigit() for c in value), any(not c.isalnum() for c in value),
    ))


def generic_value_ok(assignment: Assignment, path: str, *, min_length: int,
                     min_entropy: float, require_secret_word: bool = True) -> bool:
    """True when a generic rule should report this assignment."""
    value = assignment.value
    if len(value) < min_length or not name_is_secret(
            assignment.name, require_secret_word=require_secret_word):
        return False
    if literal_reason(assignment, path) is not None:
        return False
    if char_classes(value) < 2:
        return False
    return shannon_entropy(value) >= min_entropy
