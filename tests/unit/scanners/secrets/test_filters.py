"""Placeholders, look-alikes, code and inline allow comments stay quiet; redaction is safe."""

from __future__ import annotations

import pytest

from safeship.scanners.secrets import Detector
from safeship.scanners.secrets.assignment import name_is_secret, read_assignment
from safeship.scanners.secrets.entropy import shannon_entropy
from safeship.scanners.secrets.placeholders import is_placeholder
from safeship.scanners.secrets.redaction import fingerprint, redact

from .conftest import found
from .corpus import Gen, checksummed


@pytest.mark.parametrize("value", [
    "XXXXXXXXXXXXXXXX", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "AKIAIOSFODNN7" + "EXAMPLE",
    "${GITHUB_TOKEN}", "$API_KEY", "{{ .Values.password }}", "<token>", "<your-api-key>",
    "changeme", "your_api_key_here", "[REDACTED]", "********", "%(password)s", "%DB_PASS%",
    "$(vault read x)", "dummy-secret-123", "0000000000000000", "abcdef123456", "qwerty123",
    "\u2022\u2022\u2022\u2022\u2022\u2022",
])
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


def test_random_tokens_are_not_placeholders(gen: Gen) -> None:
    for _ in range(2000):
        assert not is_placeholder(gen.b62(40))
    for _ in range(300):
        assert not is_placeholder(gen.base64_bytes(1200))


@pytest.mark.parametrize("text", [
    "GITHUB_TOKEN=ghp_" + "X" * 36,
    'password = os.environ["DB_PASSWORD"]',
    "password: ${DB_PASSWORD}",
    "api_key = get_api_key()",
    'token = request.headers["Authorization"]',
    "password = None",
    'if password == "":',
    "secret: changeme",
    'max_tokens = 4096',
    'public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd9v2x8 ops@host"',
    'primary_key = "id"',
    "DATABASE_URL=postgres://user:password@localhost/db",
    "DATABASE_URL=postgres://postgres:postgres@localhost/db",
    "Authorization: Bearer <token>",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
])
def test_quiet_on_non_secrets(detector: Detector, text: str) -> None:
    assert found(detector, text + "\n", "app/config.py") == []


def test_unquoted_values_in_code_are_expressions(detector: Detector, gen: Gen) -> None:
    value = gen.password()
    assert found(detector, f"password = {value}\n", "app.py") == []  # a Python expression
    assert found(detector, f"password = {value}\n", "app.ini") == ["generic-password"]
    assert found(detector, f'password = "{value}"\n', "app.py") == ["generic-password"]


@pytest.mark.parametrize("marker", ["# safeship:allow", "# gitleaks:allow",
                                   "# pragma: allowlist secret"])
def test_inline_allow(detector: Detector, gen: Gen, marker: str) -> None:
    token = checksummed("ghp_", gen)
    result = detector.scan(f"GITHUB_TOKEN={token}  {marker}\nOTHER={checksummed('ghp_', gen)}\n",
                           ".env")
    assert [f.line for f in result.findings] == [2]
    assert result.suppressed["inline"] == 1


def test_reading_assignments() -> None:
    def value(text: str) -> str | None:
        start = text.lower().index("password")
        found_ = read_assignment(text, start, start + len("password"))
        return None if found_ is None else found_.value

    assert value('password = "a b"') == "a b"
    assert value("password: s3cret") == "s3cret"
    assert value('"password": "x1"') == "x1"
    assert value("PASSWORD=abc def") == "abc"
    assert value('config["password"] = "v"') == "v"
    assert value(".password('v2')") == "v2"
    assert value("password := \"go\"") == "go"
    assert value("password == other") is None
    assert value("password != other") is None
    assert value("password") is None


@pytest.mark.parametrize(("name", "secret"), [
    ("DB_PASSWORD", True), ("apiKey", True), ("client_secret", True), ("AZURE_DEVOPS_PAT", True),
    ("public_key", False), ("max_tokens", False), ("password_reset_url", False),
    ("monkey", False), ("key_id", False), ("sort_key", False), ("tokenizer", False),
    ("csrf_token", False), ("token_type", False),
])
def test_secret_names(name: str, secret: bool) -> None:
    assert name_is_secret(name) is secret


def test_entropy() -> None:
    assert shannon_entropy("") == 0
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("ab") == 1
    assert shannon_entropy("changeme") < 3


def test_redaction_never_shows_more_than_a_quarter() -> None:
    assert redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789") == "ghp_****"
    assert redact("hunter22") == "hu****"
    assert redact("abc") == "****"
    assert "secretvalue" not in redact("secretvalue")


def test_fingerprint_is_stable_and_salted() -> None:
    first = fingerprint("rule", "a.env", "s3cr3t-value")
    assert first == fingerprint("rule", "a.env", "s3cr3t-value")
    assert len(first) == 16
    assert first != fingerprint("rule", "b.env", "s3cr3t-value")
    assert first != fingerprint("other", "a.env", "s3cr3t-value")
    assert "s3cr3t" not in first
