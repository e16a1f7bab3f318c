"""Every provider the issue names is detected on a realistic synthetic credential.

Each credential is generated here with the provider's documented shape (prefix, alphabet,
length, and checksum where the format has one), so no real-looking secret is committed.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable

import pytest

from safeship.scanners.secrets import Detector

from .conftest import found
from .corpus import B62, BASE32, Gen, base62, checksummed, jwt, pem

Case = tuple[str, str, Callable[[Gen], str]]


def macaroon(location: str, g: Gen) -> str:
    """A PyPI-style macaroon: version 2, a location field, then random caveats and a
    signature, base64url without padding."""
    raw = bytes([2, 1, len(location)]) + location.encode() + bytes(
        g.rng.randrange(256) for _ in range(110))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")

REQUIRED: list[Case] = [
    ("aws-access-key-id", ".env", lambda g: "AWS_ACCESS_KEY_ID=AKIA" + g.s(BASE32, 16)),
    ("aws-secret-access-key", ".env", lambda g: "AWS_SECRET_ACCESS_KEY=" + g.b64(40)),
    ("gcp-api-key", "src/maps.js", lambda g: "const key = 'AIza" + g.b64u(35) + "';"),
    ("private-key", "sa.json", lambda g: json.dumps(
        {"type": "service_account", "private_key": pem(g, "PRIVATE KEY")})
        .replace("\\n", "\n")),
    ("azure-storage-account-key", "appsettings.json", lambda g: (
        '"Storage": "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey='
        + g.base64_bytes(64) + ';EndpointSuffix=core.windows.net"')),
    ("azure-ad-client-secret", ".env", lambda g: "AZURE_CLIENT_SECRET=" + g.b62(3)
     + g.s("0123456789", 1) + "Q~" + g.s(B62 + "_~.-", 34)),
    ("github-pat", ".env", lambda g: "GITHUB_TOKEN=" + checksummed("ghp_", g)),
    ("github-fine-grained-pat", ".env",
     lambda g: "GH_PAT=github_pat_" + g.b62(22) + "_" + g.b62(59)),
    ("gitlab-pat", ".gitlab-ci.yml", lambda g: "  GITLAB_TOKEN: glpat-" + g.b64u(20)),
    ("bitbucket-app-password", ".env", lambda g: "BITBUCKET_APP_PASSWORD=ATBB" + g.b62(32)),
    ("slack-bot-token", ".env", lambda g: "SLACK_BOT_TOKEN=xoxb-" + g.digits(12) + "-"
     + g.digits(13) + "-" + g.b62(24)),
    ("slack-webhook", "notify.py", lambda g: 'URL = "https://hooks.slack.com/services/T'
     + g.up(10) + "/B" + g.up(10) + "/" + g.b62(24) + '"'),
    ("stripe-secret-key", "pay.py", lambda g: 'stripe.api_key = "sk_live_' + g.b62(99) + '"'),
    ("twilio-api-key", ".env", lambda g: "TWILIO_API_KEY=SK" + g.hex(32)),
    ("twilio-auth-token", ".env", lambda g: "TWILIO_AUTH_TOKEN=" + g.hex(32)),
    ("sendgrid-api-key", ".env",
     lambda g: "SENDGRID_API_KEY=SG." + g.b64u(22) + "." + g.b64u(43)),
    ("npm-access-token", ".npmrc",
     lambda g: "//registry.npmjs.org/:_authToken=" + checksummed("npm_", g)),
    ("pypi-token", ".pypirc", lambda g: "[pypi]\nusername = __token__\npassword = pypi-"
     + macaroon("pypi.org", g)),
    ("pypi-token", ".env", lambda g: "TWINE_PASSWORD=pypi-" + macaroon("test.pypi.org", g)),
    ("dockerhub-pat", ".env", lambda g: "DOCKER_TOKEN=dckr_pat_" + g.b64u(27)),
    ("openai-api-key", ".env",
     lambda g: "OPENAI_API_KEY=sk-proj-" + g.b64u(74) + "T3Blbk" + "FJ" + g.b64u(74)),
    ("jwt", "client.py", lambda g: 'TOKEN = "' + jwt(g) + '"'),
    ("private-key", "id_rsa", lambda g: pem(g, "RSA PRIVATE KEY")),
    ("openssh-private-key", "id_ed25519", lambda g: pem(g, "OPENSSH PRIVATE KEY", 400)),
    ("pgp-private-key", "key.asc", lambda g: pem(g, "PGP PRIVATE KEY BLOCK", 900)),
    ("database-url-password", ".env",
     lambda g: "DATABASE_URL=postgres://app:" + g.password() + "@db.internal:5432/shop"),
    ("database-url-password", "docker-compose.yml",
     lambda g: "MONGO: mongodb+srv://svc:" + g.b62(20) + "@cluster0.mongodb.net/prod"),
    ("generic-password", "settings.py", lambda g: 'DB_PASSWORD = "' + g.password() + '"'),
    ("generic-password", "config.yaml", lambda g: "database:\n  password: " + g.password()),
    ("generic-secret", "config.json",
     lambda g: json.dumps({"client_secret": g.b62(32)})),
    ("generic-key", "app.js", lambda g: "const cookieKey = '" + g.b64(44) + "';"),
]


@pytest.mark.parametrize(("rule_id", "path", "make"), REQUIRED,
                         ids=[f"{case[0]}-{n}" for n, case in enumerate(REQUIRED)])
def test_required_provider_detected(detector: Detector, gen: Gen, rule_id: str, path: str,
                                    make: Callable[[Gen], str]) -> None:
    text = make(gen) + "\n"
    assert rule_id in found(detector, text, path)


def test_github_token_checksum_is_the_documented_crc32(gen: Gen) -> None:
    # The generator builds GitHub tokens the way GitHub documents them: 30 random base62
    # characters and their CRC32, in base62, padded to 6.
    token = checksummed("ghp_", gen)
    body, check = token[4:34], token[34:]
    assert len(token) == 40
    assert check == base62(zlib.crc32(body.encode())).rjust(6, "0")


def test_secret_found_in_its_place(detector: Detector, gen: Gen) -> None:
    token = checksummed("ghp_", gen)
    text = "# header\n\nexport GITHUB_TOKEN=" + token + "\n"
    [finding] = detector.scan(text, "deploy.sh").findings
    assert (finding.file, finding.line, finding.column) == ("deploy.sh", 3, 21)
    assert finding.redacted == "ghp_****"
    assert token not in repr(finding)


def test_specific_rule_wins_over_generic(detector: Detector, gen: Gen) -> None:
    text = 'api_token = "' + checksummed("ghp_", gen) + '"\n'
    assert found(detector, text, "app.py") == ["github-pat"]


def test_basic_auth_header_decodes(detector: Detector, gen: Gen) -> None:
    credentials = base64.b64encode(("deploy:" + gen.password()).encode()).decode()
    assert found(detector, f"Authorization: Basic {credentials}\n", "req.http") == [
        "basic-auth-header"]
