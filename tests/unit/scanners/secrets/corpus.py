"""A labelled corpus for the secret scanner, generated at run time.

``positives()`` builds one realistic credential per provider format (about 200 formats):
the documented prefix, alphabet and length, and the checksum where the format has one (GitHub
and npm tokens end in a base62 CRC32 of their random part), placed in the kind of file where
people leak it (``.env``, YAML, JSON, Python, Terraform, shell). ``negatives()`` builds what a
scanner must stay quiet on: placeholders, templates, references, code expressions, redacted
values and look-alikes (hashes, ids, wrong lengths, public keys).

Nothing here is a real credential, and no credential-shaped literal is committed: every value
is drawn from a seeded random generator (or assembled by concatenation) when the corpus is
built, so secret scanners of this repository see no secrets in it.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass

HEX = "0123456789abcdef"
HEXU = "0123456789ABCDEF"
DIGITS = string.digits
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = B62 + "+/"
B64U = B62 + "-_"
UP_NUM = UPPER + DIGITS
LOW_NUM = LOWER + DIGITS
BASE32 = UPPER + "234567"


@dataclass(frozen=True)
class Sample:
    """One labelled text: a file name, its content and whether it holds a secret."""

    label: str
    path: str
    text: str
    secret: str
    positive: bool


class Gen:
    """Seeded random credential parts."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311  (reproducible test data)

    def s(self, alphabet: str, n: int) -> str:
        """``n`` characters from ``alphabet``."""
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def hex(self, n: int) -> str:
        return self.s(HEX, n)

    def b62(self, n: int) -> str:
        return self.s(B62, n)

    def b64(self, n: int) -> str:
        return self.s(B64, n)

    def b64u(self, n: int) -> str:
        return self.s(B64U, n)

    def up(self, n: int) -> str:
        return self.s(UP_NUM, n)

    def low(self, n: int) -> str:
        return self.s(LOW_NUM, n)

    def digits(self, n: int) -> str:
        return self.s(DIGITS[1:], 1) + self.s(DIGITS, n - 1)

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def base64_bytes(self, n: int) -> str:
        return base64.b64encode(bytes(self.rng.randrange(256) for _ in range(n))).decode()

    def password(self) -> str:
        parts = [self.s(UPPER, 2), self.s(LOWER, 4), self.s(DIGITS, 3), self.s("!#%&*+-=?@^_", 2),
                 self.s(B62, 3)]
        chars = list("".join(parts))
        self.rng.shuffle(chars)
        return "".join(chars)


def base62(number: int) -> str:
    """``number`` in base 62 (0-9, A-Z, a-z)."""
    out = ""
    while number:
        number, digit = divmod(number, 62)
        out = B62[digit] + out
    return out or "0"


def checksummed(prefix: str, g: Gen) -> str:
    """A GitHub/npm-style token: 30 random base62 characters and their CRC32 in base62."""
    body = g.b62(30)
    return prefix + body + base62(zlib.crc32(body.encode())).rjust(6, "0")


def jwt(g: Gen, header: dict[str, str] | None = None) -> str:
    def part(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    head = part(header or {"alg": "HS256", "typ": "JWT"})
    body = part({"sub": g.digits(8), "name": g.s(LOWER, 8), "iat": int(g.digits(10))})
    return f"{head}.{body}.{g.b64u(43)}"


def pem(g: Gen, label: str, size: int = 1200) -> str:
    body = g.base64_bytes(size)
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def b64_of(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Where a secret is written: each context renders a (variable name, value) pair.
def env(name: str, value: str) -> tuple[str, str]:
    return ".env", f"# service settings\nAPP_ENV=production\n{name}={value}\n"


def yaml(name: str, value: str) -> tuple[str, str]:
    return "config/app.yaml", f"service:\n  name: shop\n  {name.lower()}: \"{value}\"\n"


def py(name: str, value: str) -> tuple[str, str]:
    return "settings.py", f'import os\n\nDEBUG = False\n{name.upper()} = "{value}"\n'


def js(name: str, value: str) -> tuple[str, str]:
    camel = name.lower()
    return "src/config.js", f"module.exports = {{\n  {camel}: '{value}',\n}};\n"


def jsonf(name: str, value: str) -> tuple[str, str]:
    return "config/settings.json", json.dumps({"region": "eu-west-1", name.lower(): value},
                                              indent=2) + "\n"


def tf(name: str, value: str) -> tuple[str, str]:
    return "infra/main.tf", f'provider "x" {{\n  {name.lower()} = "{value}"\n}}\n'


def sh(name: str, value: str) -> tuple[str, str]:
    return "deploy.sh", f"#!/bin/sh\nset -e\nexport {name.upper()}=\"{value}\"\n./run\n"


def raw(_: str, value: str) -> tuple[str, str]:
    return "notes/credentials.txt", f"rotated last week:\n{value}\n"


Context = Callable[[str, str], tuple[str, str]]
Spec = tuple[str, Context, str, Callable[[Gen], str]]


def _specs() -> list[Spec]:
    P = "pypi-"
    return [
        # ---- cloud
        ("aws-access-key-id", env, "AWS_ACCESS_KEY_ID",
         lambda g: "AKIA" + g.s(BASE32, 16)),
        ("aws-temporary-key-id", yaml, "aws_access_key_id", lambda g: "ASIA" + g.s(BASE32, 16)),
        ("aws-secret-access-key", env, "AWS_SECRET_ACCESS_KEY", lambda g: g.b64(40)),
        ("aws-session-token", env, "AWS_SESSION_TOKEN", lambda g: "IQoJb3JpZ2luX2Vj" + g.b64(300)),
        ("aws-bedrock", env, "AWS_BEARER_TOKEN_BEDROCK", lambda g: "ABSK" + g.b64(128)),
        ("amazon-mws", env, "MWS_AUTH_TOKEN", lambda g: "amzn.mws." + g.uuid()),
        ("gcp-api-key", js, "mapsApiKey", lambda g: "AIza" + g.b64u(35)),
        ("gcp-service-account", raw, "", lambda g: json.dumps(
            {"type": "service_account", "private_key_id": g.hex(40)})),
        ("google-oauth-secret", jsonf, "client_secret", lambda g: "GOCSPX-" + g.b64u(28)),
        ("google-oauth-access", sh, "GOOGLE_ACCESS_TOKEN", lambda g: "ya29." + g.b64u(120)),
        ("google-refresh-token", jsonf, "refresh_token", lambda g: "1//0" + g.b64u(100)),
        ("firebase-fcm", env, "FCM_SERVER_KEY",
         lambda g: "AAAA" + g.b64u(7) + ":APA91b" + g.b64u(134)),
        ("recaptcha-secret", env, "RECAPTCHA_SECRET_KEY", lambda g: "6L" + g.b64u(38)),
        ("azure-storage", raw, "", lambda g: "DefaultEndpointsProtocol=https;AccountName=shop"
         ";AccountKey=" + g.base64_bytes(64) + ";EndpointSuffix=core.windows.net"),
        ("azure-servicebus", raw, "", lambda g: "Endpoint=sb://shop.servicebus.windows.net/;"
         "SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + g.base64_bytes(32)),
        ("azure-sas", raw, "", lambda g: "https://shop.blob.core.windows.net/c?sv=2022-11-02"
         "&ss=b&srt=sco&sp=rl&se=2030-01-01&sig=" + g.b64(43).replace("/", "%2F") + "%3D"),
        ("azure-ad-secret", env, "AZURE_CLIENT_SECRET",
         lambda g: g.b62(3) + g.s(DIGITS, 1) + "Q~" + g.s(B62 + "_~.-", 34)),
        ("azure-annotated", env, "AZURE_AI_KEY",
         lambda g: g.b62(52) + "JQQJ99" + g.b62(18) + "AZSe" + g.b62(4)),
        ("azure-acr", env, "ACR_PASSWORD", lambda g: g.b64(42) + "+ACR" + g.b62(6)),
        ("azure-devops-pat", env, "AZURE_DEVOPS_PAT", lambda g: g.s(LOWER + "234567", 52)),
        ("azure-cosmos", env, "COSMOS_KEY", lambda g: g.base64_bytes(64)),
        ("azure-openai", env, "AZURE_OPENAI_API_KEY", lambda g: g.hex(32)),
        ("alibaba-id", env, "ALIBABA_CLOUD_ACCESS_KEY_ID", lambda g: "LTAI" + g.b62(20)),
        ("alibaba-secret", env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", lambda g: g.b62(30)),
        ("tencent-id", env, "TENCENTCLOUD_SECRET_ID", lambda g: "AKID" + g.b62(32)),
        ("tencent-key", env, "TENCENTCLOUD_SECRET_KEY", lambda g: g.b62(32)),
        ("volcengine", env, "VOLC_ACCESSKEY", lambda g: "AKLT" + g.b64u(43)),
        ("jdcloud", env, "JDC_ACCESS_KEY", lambda g: "JDC_" + g.up(28)),
        ("huawei", env, "HUAWEICLOUD_SDK_SK", lambda g: g.b62(40)),
        ("ibm-cloud", env, "IBMCLOUD_API_KEY", lambda g: g.b64u(44)),
        ("ibm-cos-hmac", env, "IBM_COS_HMAC_SECRET", lambda g: g.hex(48)),
        ("digitalocean-pat", env, "DIGITALOCEAN_TOKEN", lambda g: "dop_v1_" + g.hex(64)),
        ("digitalocean-oauth", yaml, "do_oauth", lambda g: "doo_v1_" + g.hex(64)),
        ("digitalocean-spaces", env, "SPACES_KEY", lambda g: "DO" + g.up(18)),
        ("linode", env, "LINODE_TOKEN", lambda g: g.hex(64)),
        ("vultr", env, "VULTR_API_KEY", lambda g: g.up(36)),
        ("hetzner", env, "HCLOUD_TOKEN", lambda g: g.b62(64)),
        ("scaleway-access", env, "SCW_ACCESS_KEY", lambda g: "SCW" + g.up(17)),
        ("scaleway-secret", env, "SCW_SECRET_KEY", lambda g: g.uuid()),
        ("ovh", env, "OVH_APPLICATION_SECRET", lambda g: g.b62(32)),
        ("exoscale", env, "EXOSCALE_API_KEY", lambda g: "EXO" + g.hex(24)),
        ("yandex-api", env, "YC_API_KEY", lambda g: "AQVN" + g.b64u(36)),
        ("yandex-static", env, "YC_STATIC_KEY", lambda g: "YC" + g.b64u(38)),
        ("heroku-legacy", env, "HEROKU_API_KEY", lambda g: g.uuid()),
        ("heroku", env, "HEROKU_API_KEY", lambda g: "HRKU-AA" + g.b64u(58)),
        ("cloudflare-token", env, "CLOUDFLARE_API_TOKEN", lambda g: g.b64u(40)),
        ("cloudflare-global", env, "CLOUDFLARE_API_KEY", lambda g: g.hex(37)),
        ("cloudflare-origin-ca", env, "CF_ORIGIN_CA_KEY",
         lambda g: "v1.0-" + g.hex(24) + "-" + g.hex(146)),
        ("fastly", env, "FASTLY_API_TOKEN", lambda g: g.b64u(32)),
        ("netlify-pat", env, "NETLIFY_AUTH_TOKEN", lambda g: "nfp_" + g.b62(36)),
        ("netlify-legacy", env, "NETLIFY_AUTH_TOKEN", lambda g: g.b64u(43)),
        ("vercel", env, "VERCEL_TOKEN", lambda g: g.b62(24)),
        ("flyio", env, "FLY_API_TOKEN", lambda g: "FlyV1 fm2_" + g.b64(160)),
        ("render", env, "RENDER_API_KEY", lambda g: "rnd_" + g.b62(32)),
        ("railway", env, "RAILWAY_TOKEN", lambda g: g.uuid()),
        ("supabase-pat", env, "SUPABASE_ACCESS_TOKEN", lambda g: "sbp_" + g.hex(40)),
        ("supabase-secret", env, "SUPABASE_SECRET_KEY", lambda g: "sb_secret_" + g.b64u(31)),
        ("planetscale", env, "PLANETSCALE_SERVICE_TOKEN", lambda g: "pscale_tkn_" + g.b64u(43)),
        ("neon", env, "NEON_API_KEY", lambda g: "napi_" + g.low(64)),
        ("mongodb-atlas", env, "ATLAS_PRIVATE_KEY", lambda g: g.uuid()),
        ("databricks", env, "DATABRICKS_TOKEN", lambda g: "dapi" + g.hex(32)),
        ("snowflake", env, "SNOWFLAKE_PASSWORD", lambda g: g.password()),
        ("confluent", env, "CONFLUENT_CLOUD_API_SECRET", lambda g: g.b64(64)),
        ("doppler", env, "DOPPLER_TOKEN", lambda g: "dp.st." + g.b62(43)),
        ("vault", env, "VAULT_TOKEN", lambda g: "hvs." + g.b64u(92)),
        ("vault-legacy", env, "VAULT_TOKEN", lambda g: "s." + g.b62(24)),
        ("terraform-cloud", raw, "", lambda g: 'credentials "app.terraform.io" {\n  token = "'
         + g.b62(14) + ".atlasv1." + g.b64u(67) + '"\n}'),
        ("pulumi", env, "PULUMI_ACCESS_TOKEN", lambda g: "pul-" + g.hex(40)),
        ("infracost", env, "INFRACOST_API_KEY", lambda g: "ico-" + g.b62(32)),
        ("1password-service", env, "OP_SERVICE_ACCOUNT_TOKEN",
         lambda g: "ops_eyJ" + g.b64(300)),
        ("infisical", env, "INFISICAL_TOKEN",
         lambda g: "st." + g.uuid() + "." + g.hex(32) + "." + g.hex(32)),
        ("age", raw, "", lambda g: "AGE-SECRET-KEY-1" + g.s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
                                                               58)),
        ("backblaze", env, "B2_APPLICATION_KEY", lambda g: "K005" + g.b64(27).replace("/", "x")),
        ("tailscale", env, "TS_AUTHKEY",
         lambda g: "tskey-auth-" + g.b62(17) + "-" + g.b62(33)),
        ("ngrok", yaml, "ngrok_authtoken", lambda g: "2" + g.b62(26) + "_" + g.b62(21)),
        ("rancher", env, "RANCHER_TOKEN", lambda g: "token-" + g.low(5) + ":" + g.low(54)),
        ("portainer", env, "PORTAINER_API_KEY", lambda g: "ptr_" + g.b64(43)),
        ("consul", env, "CONSUL_HTTP_TOKEN", lambda g: g.uuid()),
        ("minio", env, "MINIO_SECRET_KEY", lambda g: g.b64(40)),
        # ---- version control
        ("github-pat", env, "GITHUB_TOKEN", lambda g: checksummed("ghp_", g)),
        ("github-oauth", yaml, "github_oauth_token", lambda g: checksummed("gho_", g)),
        ("github-app-user", env, "GH_TOKEN", lambda g: checksummed("ghu_", g)),
        ("github-app-install", py, "installation_token", lambda g: checksummed("ghs_", g)),
        ("github-refresh", jsonf, "refresh_token", lambda g: checksummed("ghr_", g)),
        ("github-fine-grained", env, "GITHUB_PAT",
         lambda g: "github_pat_" + g.b62(22) + "_" + g.b62(59)),
        ("github-legacy", env, "GITHUB_TOKEN", lambda g: g.hex(40)),
        ("gitlab-pat", env, "GITLAB_TOKEN", lambda g: "glpat-" + g.b64u(20)),
        ("gitlab-deploy", env, "CI_DEPLOY_PASSWORD", lambda g: "gldt-" + g.b64u(20)),
        ("gitlab-runner", yaml, "runner_token", lambda g: "glrt-" + g.b64u(20)),
        ("gitlab-runner-reg", sh, "REGISTRATION_TOKEN", lambda g: "GR1348941" + g.b64u(20)),
        ("gitlab-trigger", sh, "TRIGGER_TOKEN", lambda g: "glptt-" + g.hex(40)),
        ("gitlab-feed", raw, "", lambda g: "https://gitlab.example.com/dashboard/issues.atom"
         "?feed_token=glft-" + g.b64u(20)),
        ("gitlab-incoming-mail", env, "INCOMING_EMAIL_TOKEN", lambda g: "glimt-" + g.b64u(25)),
        ("gitlab-agent", env, "AGENT_TOKEN", lambda g: "glagent-" + g.b64u(50)),
        ("gitlab-oauth", env, "GITLAB_APP_SECRET", lambda g: "gloas-" + g.b64u(64)),
        ("gitlab-scim", env, "SCIM_TOKEN", lambda g: "glsoat-" + g.b64u(20)),
        ("gitlab-ff", env, "UNLEASH_INSTANCE_TOKEN", lambda g: "glffct-" + g.b64u(20)),
        ("bitbucket-app-password", env, "BITBUCKET_APP_PASSWORD",
         lambda g: "ATBB" + g.b62(32)),
        ("atlassian-api-token", env, "JIRA_API_TOKEN",
         lambda g: "ATATT3xFfGF0" + g.b64u(170) + "=" + g.s(HEXU, 8)),
        ("bitbucket-access-token", env, "BITBUCKET_ACCESS_TOKEN",
         lambda g: "ATCTT3xFfGN0" + g.b64u(170) + "=" + g.s(HEXU, 8)),
        ("bitbucket-client-secret", env, "BITBUCKET_CLIENT_SECRET", lambda g: g.b64u(32)),
        ("atlassian-legacy", env, "CONFLUENCE_API_TOKEN", lambda g: g.b62(24)),
        ("gitea", env, "GITEA_TOKEN", lambda g: g.hex(40)),
        ("gitee", env, "GITEE_TOKEN", lambda g: g.hex(32)),
        ("sourcegraph", env, "SRC_ACCESS_TOKEN",
         lambda g: "sgp_" + g.hex(16) + "_" + g.hex(40)),
        # ---- CI/CD and tooling
        ("circleci-pat", env, "CIRCLECI_TOKEN",
         lambda g: "CCIPAT_" + g.b62(22) + "_" + g.hex(40)),
        ("circleci-legacy", env, "CIRCLE_TOKEN", lambda g: g.hex(40)),
        ("travis", env, "TRAVIS_TOKEN", lambda g: g.b64u(22)),
        ("buildkite-user", env, "BUILDKITE_API_TOKEN", lambda g: "bkua_" + g.hex(40)),
        ("buildkite-agent", env, "BUILDKITE_AGENT_TOKEN", lambda g: g.hex(50)),
        ("drone", env, "DRONE_TOKEN", lambda g: g.b62(32)),
        ("jenkins", env, "JENKINS_API_TOKEN", lambda g: "11" + g.hex(32)),
        ("teamcity", env, "TEAMCITY_TOKEN", lambda g: "eyJ0eXAiOiAiVENWMiJ9." + g.b64u(36) + "."
         + g.b64u(48)),
        ("harness", env, "HARNESS_PLATFORM_API_KEY",
         lambda g: "pat." + g.b64u(22) + "." + g.hex(24) + "." + g.b62(20)),
        ("octopus", env, "OCTOPUS_API_KEY", lambda g: "API-" + g.up(27)),
        ("codecov", env, "CODECOV_TOKEN", lambda g: g.uuid()),
        ("coveralls", env, "COVERALLS_REPO_TOKEN", lambda g: g.b62(32)),
        ("sonar", env, "SONAR_TOKEN", lambda g: "squ_" + g.hex(40)),
        ("sonar-legacy", env, "SONAR_TOKEN", lambda g: g.hex(40)),
        ("snyk", env, "SNYK_TOKEN", lambda g: g.uuid()),
        ("jfrog-api-key", env, "ARTIFACTORY_API_KEY", lambda g: "AKCp" + g.b62(69)),
        ("jfrog-identity", env, "JFROG_ACCESS_TOKEN",
         lambda g: b64_of("reftkn:01:")[:14] + g.b62(50)),
        ("bitrise", env, "BITRISE_TOKEN", lambda g: g.b64u(86)),
        ("prefect", env, "PREFECT_API_KEY", lambda g: "pnu_" + g.b62(36)),
        ("codeclimate", env, "CODECLIMATE_REPO_TOKEN", lambda g: g.hex(64)),
        ("percy", env, "PERCY_TOKEN", lambda g: g.hex(64)),
        ("cypress", env, "CYPRESS_RECORD_KEY", lambda g: g.uuid()),
        ("browserstack", env, "BROWSERSTACK_ACCESS_KEY", lambda g: g.b62(20)),
        ("saucelabs", env, "SAUCE_ACCESS_KEY", lambda g: g.uuid()),
        ("expo", env, "EXPO_TOKEN", lambda g: g.b64u(40)),
        # ---- chat and messaging
        ("slack-bot", env, "SLACK_BOT_TOKEN",
         lambda g: "xoxb-" + g.digits(12) + "-" + g.digits(13) + "-" + g.b62(24)),
        ("slack-user", env, "SLACK_USER_TOKEN", lambda g: "xoxp-" + g.digits(12) + "-"
         + g.digits(12) + "-" + g.digits(13) + "-" + g.hex(32)),
        ("slack-app", env, "SLACK_APP_TOKEN",
         lambda g: "xapp-1-A" + g.up(10) + "-" + g.digits(13) + "-" + g.hex(64)),
        ("slack-config", env, "SLACK_CONFIG_TOKEN",
         lambda g: "xoxe.xoxp-1-" + g.up(160)),
        ("slack-webhook", env, "SLACK_WEBHOOK_URL",
         lambda g: "https://hooks.slack.com/services/T" + g.up(10) + "/B" + g.up(10) + "/"
         + g.b62(24)),
        ("slack-signing", env, "SLACK_SIGNING_SECRET", lambda g: g.hex(32)),
        ("discord-bot", env, "DISCORD_BOT_TOKEN",
         lambda g: "M" + g.b64u(25) + "." + g.b64u(6) + "." + g.b64u(38)),
        ("discord-webhook", env, "DISCORD_WEBHOOK",
         lambda g: "https://discord.com/api/webhooks/" + g.digits(19) + "/" + g.b64u(68)),
        ("telegram", env, "TELEGRAM_BOT_TOKEN", lambda g: g.digits(10) + ":AA" + g.b64u(33)),
        ("teams-webhook", env, "TEAMS_WEBHOOK_URL",
         lambda g: "https://contoso.webhook.office.com/webhookb2/" + g.uuid() + "@" + g.uuid()
         + "/IncomingWebhook/" + g.hex(32) + "/" + g.uuid()),
        ("mattermost", env, "MATTERMOST_TOKEN", lambda g: g.s(LOW_NUM, 26)),
        ("twilio-api-key", env, "TWILIO_API_KEY", lambda g: "SK" + g.hex(32)),
        ("twilio-auth-token", env, "TWILIO_AUTH_TOKEN", lambda g: g.hex(32)),
        ("sendgrid", env, "SENDGRID_API_KEY", lambda g: "SG." + g.b64u(22) + "." + g.b64u(43)),
        ("mailgun-legacy", env, "MAILGUN_KEY", lambda g: "key-" + g.hex(32)),
        ("mailgun", env, "MAILGUN_API_KEY",
         lambda g: g.hex(32) + "-" + g.hex(8) + "-" + g.hex(8)),
        ("mailchimp", env, "MAILCHIMP_API_KEY", lambda g: g.hex(32) + "-us21"),
        ("mandrill", env, "MANDRILL_API_KEY", lambda g: g.b64u(22)),
        ("postmark", env, "POSTMARK_SERVER_TOKEN", lambda g: g.uuid()),
        ("brevo", env, "BREVO_API_KEY", lambda g: "xkeysib-" + g.hex(64) + "-" + g.b62(16)),
        ("mailjet", env, "MAILJET_API_SECRET", lambda g: g.hex(32)),
        ("sparkpost", env, "SPARKPOST_API_KEY", lambda g: g.hex(40)),
        ("resend", env, "RESEND_API_KEY", lambda g: "re_" + g.b62(8) + "_" + g.b62(24)),
        ("messagebird", env, "MESSAGEBIRD_ACCESS_KEY", lambda g: g.b62(25)),
        ("vonage", env, "VONAGE_API_SECRET", lambda g: g.b62(16)),
        ("plivo", env, "PLIVO_AUTH_TOKEN", lambda g: g.b62(40)),
        ("telnyx", env, "TELNYX_API_KEY", lambda g: "KEY" + g.s(HEXU, 32) + "_" + g.b62(22)),
        ("zendesk", env, "ZENDESK_API_TOKEN", lambda g: g.b62(40)),
        ("pusher", env, "PUSHER_APP_SECRET", lambda g: g.hex(20)),
        ("ably", env, "ABLY_API_KEY",
         lambda g: g.b64u(6) + "." + g.b64u(6) + ":" + g.b64u(43)),
        ("twitter-bearer", env, "TWITTER_BEARER_TOKEN",
         lambda g: "A" * 22 + g.b62(8) + "%2B" + g.b62(20) + "%3D" + g.b62(50)),
        ("twitter-secret", env, "TWITTER_API_SECRET", lambda g: g.b62(50)),
        ("twitter-access", env, "TWITTER_ACCESS_TOKEN",
         lambda g: g.digits(19) + "-" + g.b62(40)),
        ("facebook-token", env, "FB_ACCESS_TOKEN", lambda g: "EAAB" + g.b62(180)),
        ("facebook-secret", env, "FACEBOOK_APP_SECRET", lambda g: g.hex(32)),
        ("instagram", env, "INSTAGRAM_TOKEN", lambda g: "IGQV" + g.b64u(150)),
        ("zoom", env, "ZOOM_CLIENT_SECRET", lambda g: g.b62(32)),
        ("pushbullet", env, "PUSHBULLET_TOKEN", lambda g: "o." + g.b62(32)),
        # ---- payments
        ("stripe-live", env, "STRIPE_SECRET_KEY", lambda g: "sk_live_" + g.b62(99)),
        ("stripe-test", py, "stripe_api_key", lambda g: "sk_test_" + g.b62(24)),
        ("stripe-restricted", env, "STRIPE_RESTRICTED_KEY", lambda g: "rk_live_" + g.b62(99)),
        ("stripe-webhook", env, "STRIPE_WEBHOOK_SECRET", lambda g: "whsec_" + g.b62(32)),
        ("square-token", env, "SQUARE_ACCESS_TOKEN", lambda g: "EAAA" + g.b64u(60)),
        ("square-secret", env, "SQUARE_APP_SECRET", lambda g: "sq0csp-" + g.b64u(43)),
        ("braintree", env, "BRAINTREE_TOKEN",
         lambda g: "access_token$production$" + g.low(16) + "$" + g.hex(32)),
        ("paypal", env, "PAYPAL_CLIENT_SECRET", lambda g: "E" + g.b64u(79)),
        ("razorpay", env, "RAZORPAY_KEY_ID", lambda g: "rzp_live_" + g.b62(14)),
        ("flutterwave", env, "FLW_SECRET_KEY",
         lambda g: "FLWSECK_TEST-" + g.hex(32) + "-X"),
        ("paystack", env, "PAYSTACK_SECRET_KEY", lambda g: "sk_live_" + g.hex(40)),
        ("plaid-token", jsonf, "access_token",
         lambda g: "access-production-" + g.uuid()),
        ("plaid-secret", env, "PLAID_SECRET", lambda g: g.hex(30)),
        ("shopify", env, "SHOPIFY_ACCESS_TOKEN", lambda g: "shpat_" + g.hex(32)),
        ("shopify-secret", env, "SHOPIFY_SHARED_SECRET", lambda g: "shpss_" + g.hex(32)),
        ("mollie", env, "MOLLIE_API_KEY", lambda g: "live_" + g.b62(30)),
        ("easypost", env, "EASYPOST_API_KEY", lambda g: "EZAK" + g.b62(54)),
        ("shippo", env, "SHIPPO_API_TOKEN", lambda g: "shippo_live_" + g.hex(40)),
        ("duffel", env, "DUFFEL_ACCESS_TOKEN", lambda g: "duffel_live_" + g.b64u(43)),
        ("woocommerce", env, "WC_CONSUMER_SECRET", lambda g: "cs_" + g.hex(40)),
        ("binance", env, "BINANCE_SECRET_KEY", lambda g: g.b62(64)),
        ("coinbase", env, "COINBASE_API_SECRET", lambda g: g.b62(32)),
        # ---- monitoring
        ("datadog-api", env, "DD_API_KEY", lambda g: g.hex(32)),
        ("datadog-app", env, "DATADOG_APP_KEY", lambda g: g.hex(40)),
        ("newrelic-user", env, "NEW_RELIC_API_KEY", lambda g: "NRAK-" + g.up(27)),
        ("newrelic-license", env, "NEW_RELIC_LICENSE_KEY", lambda g: g.hex(36) + "NRAL"),
        ("newrelic-insert", env, "NEW_RELIC_INSERT_KEY", lambda g: "NRII-" + g.b64u(32)),
        ("newrelic-browser", env, "NR_BROWSER_KEY", lambda g: "NRJS-" + g.hex(19)),
        ("sentry-org", env, "SENTRY_AUTH_TOKEN", lambda g: "sntrys_eyJ" + g.b64u(120)),
        ("sentry-user", env, "SENTRY_AUTH_TOKEN", lambda g: "sntryu_" + g.hex(64)),
        ("grafana-cloud", env, "GRAFANA_CLOUD_TOKEN", lambda g: "glc_" + g.b64(120)),
        ("grafana-sa", env, "GRAFANA_TOKEN", lambda g: "glsa_" + g.b62(32) + "_" + g.hex(8)),
        ("honeycomb", env, "HONEYCOMB_API_KEY", lambda g: g.b62(22)),
        ("dynatrace", env, "DT_API_TOKEN",
         lambda g: "dt0c01." + g.up(24) + "." + g.up(64)),
        ("pagerduty", env, "PAGERDUTY_TOKEN", lambda g: "u+" + g.b64u(18)),
        ("opsgenie", env, "OPSGENIE_API_KEY", lambda g: g.uuid()),
        ("splunk", env, "SPLUNK_HEC_TOKEN", lambda g: g.uuid()),
        ("sumologic", env, "SUMOLOGIC_ACCESSKEY", lambda g: g.b62(64)),
        ("rollbar", env, "ROLLBAR_ACCESS_TOKEN", lambda g: g.hex(32)),
        ("bugsnag", env, "BUGSNAG_API_KEY", lambda g: g.hex(32)),
        ("launchdarkly", env, "LD_SDK_KEY", lambda g: "sdk-" + g.uuid()),
        ("algolia", env, "ALGOLIA_ADMIN_KEY", lambda g: g.hex(32)),
        ("mapbox", env, "MAPBOX_SECRET_TOKEN",
         lambda g: "sk.eyJ" + g.b64u(60) + "." + g.b64u(22)),
        ("segment", env, "SEGMENT_WRITE_KEY", lambda g: g.b62(32)),
        ("posthog", env, "POSTHOG_PERSONAL_API_KEY", lambda g: "phx_" + g.b62(43)),
        ("mixpanel", env, "MIXPANEL_API_SECRET", lambda g: g.hex(32)),
        ("elastic", env, "ELASTIC_API_KEY", lambda g: g.b64(60)),
        # ---- package registries
        ("npm", raw, "", lambda g: "//registry.npmjs.org/:_authToken=" + checksummed("npm_", g)),
        ("npm-env", env, "NPM_TOKEN", lambda g: checksummed("npm_", g)),
        ("npm-legacy", raw, "", lambda g: "//registry.npmjs.org/:_authToken=" + g.uuid()),
        ("pypi", raw, "", lambda g: "[pypi]\nusername = __token__\npassword = " + P
         + "AgEIcHlwaS5vcmc" + g.b64u(150)),
        ("testpypi", env, "TWINE_PASSWORD",
         lambda g: P + "AgENdGVzdC5weXBpLm9yZw" + g.b64u(150)),
        ("dockerhub", env, "DOCKERHUB_TOKEN", lambda g: "dckr_pat_" + g.b64u(27)),
        ("docker-config", raw, "", lambda g: json.dumps(
            {"auths": {"https://index.docker.io/v1/": {
                "auth": b64_of("deploy:" + g.password())}}}, indent=2)),
        ("rubygems", env, "GEM_HOST_API_KEY", lambda g: "rubygems_" + g.hex(48)),
        ("nuget", env, "NUGET_API_KEY", lambda g: "oy2" + g.low(43)),
        ("crates", env, "CARGO_REGISTRY_TOKEN", lambda g: "cio" + g.b62(32)),
        ("clojars", env, "CLOJARS_PASSWORD", lambda g: "CLOJARS_" + g.low(60)),
        ("huggingface", env, "HF_TOKEN", lambda g: "hf_" + g.s(string.ascii_letters, 34)),
        ("huggingface-org", env, "HF_ORG_TOKEN",
         lambda g: "api_org_" + g.s(string.ascii_letters, 34)),
        ("maven-settings", raw, "", lambda g: "<servers>\n  <server>\n    <id>central</id>\n"
         "    <username>deploy</username>\n    <password>" + g.password() + "</password>\n"
         "  </server>\n</servers>"),
        ("quay", env, "QUAY_TOKEN", lambda g: g.up(64)),
        # ---- AI
        ("openai-legacy", env, "OPENAI_API_KEY",
         lambda g: "sk-" + g.b62(20) + "T3Blbk" + "FJ" + g.b62(20)),
        ("openai-project", env, "OPENAI_API_KEY",
         lambda g: "sk-proj-" + g.b64u(74) + "T3Blbk" + "FJ" + g.b64u(74)),
        ("openai-svcacct", py, "openai_key", lambda g: "sk-svcacct-" + g.b64u(140)),
        ("anthropic", env, "ANTHROPIC_API_KEY",
         lambda g: "sk-ant-api03-" + g.b64u(93) + "AA"),
        ("groq", env, "GROQ_API_KEY", lambda g: "gsk_" + g.b62(52)),
        ("perplexity", env, "PPLX_API_KEY", lambda g: "pplx-" + g.b62(48)),
        ("replicate", env, "REPLICATE_API_TOKEN", lambda g: "r8_" + g.b62(37)),
        ("xai", env, "XAI_API_KEY", lambda g: "xai-" + g.b62(80)),
        ("openrouter", env, "OPENROUTER_API_KEY", lambda g: "sk-or-v1-" + g.hex(64)),
        ("langsmith", env, "LANGSMITH_API_KEY",
         lambda g: "lsv2_pt_" + g.hex(32) + "_" + g.hex(10)),
        ("langfuse", env, "LANGFUSE_SECRET_KEY", lambda g: "sk-lf-" + g.uuid()),
        ("pinecone", env, "PINECONE_API_KEY", lambda g: "pcsk_" + g.b62(6) + "_" + g.b62(63)),
        ("fireworks", env, "FIREWORKS_API_KEY", lambda g: "fw_" + g.b62(24)),
        ("voyage", env, "VOYAGE_API_KEY", lambda g: "pa-" + g.b64u(43)),
        ("cerebras", env, "CEREBRAS_API_KEY", lambda g: "csk-" + g.low(48)),
        ("nvidia", env, "NVIDIA_API_KEY", lambda g: "nvapi-" + g.b64u(64)),
        ("tavily", env, "TAVILY_API_KEY", lambda g: "tvly-" + g.b62(32)),
        ("cohere", env, "COHERE_API_KEY", lambda g: g.b62(40)),
        ("mistral", env, "MISTRAL_API_KEY", lambda g: g.b62(32)),
        ("deepseek", env, "DEEPSEEK_API_KEY", lambda g: "sk-" + g.hex(32)),
        ("together", env, "TOGETHER_API_KEY", lambda g: g.hex(64)),
        ("wandb", env, "WANDB_API_KEY", lambda g: g.hex(40)),
        ("elevenlabs", env, "ELEVENLABS_API_KEY", lambda g: "sk_" + g.hex(48)),
        ("assemblyai", env, "ASSEMBLYAI_API_KEY", lambda g: g.hex(32)),
        ("deepgram", env, "DEEPGRAM_API_KEY", lambda g: g.hex(40)),
        ("stability", env, "STABILITY_API_KEY", lambda g: "sk-" + g.b62(48)),
        # ---- SaaS
        ("asana", env, "ASANA_ACCESS_TOKEN",
         lambda g: "2/" + g.digits(16) + "/" + g.digits(16) + ":" + g.hex(32)),
        ("airtable", env, "AIRTABLE_TOKEN", lambda g: "pat" + g.b62(14) + "." + g.hex(64)),
        ("notion", env, "NOTION_TOKEN", lambda g: "ntn_" + g.digits(11) + g.b62(35)),
        ("notion-legacy", env, "NOTION_API_KEY", lambda g: "secret_" + g.b62(43)),
        ("linear", env, "LINEAR_API_KEY", lambda g: "lin_api_" + g.b62(40)),
        ("clickup", env, "CLICKUP_TOKEN", lambda g: "pk_" + g.digits(8) + "_" + g.up(32)),
        ("trello", env, "TRELLO_TOKEN", lambda g: "ATTA" + g.b64u(72)),
        ("figma", env, "FIGMA_TOKEN", lambda g: "figd_" + g.b64u(40)),
        ("dropbox", env, "DROPBOX_ACCESS_TOKEN", lambda g: "sl." + g.b64u(140)),
        ("contentful", env, "CONTENTFUL_MANAGEMENT_TOKEN", lambda g: "CFPAT-" + g.b64u(43)),
        ("typeform", env, "TYPEFORM_TOKEN", lambda g: "tfp_" + g.b64u(44)),
        ("hubspot", env, "HUBSPOT_ACCESS_TOKEN", lambda g: "pat-na1-" + g.uuid()),
        ("salesforce", env, "SF_ACCESS_TOKEN",
         lambda g: "00D" + g.b62(15) + "!" + g.b62(100)),
        ("zoho", env, "ZOHO_REFRESH_TOKEN",
         lambda g: "1000." + g.hex(32) + "." + g.hex(32)),
        ("adobe", env, "ADOBE_CLIENT_SECRET", lambda g: "p8e-" + g.b64u(32)),
        ("readme", env, "README_API_KEY", lambda g: "rdme_" + g.low(70)),
        ("postman", env, "POSTMAN_API_KEY",
         lambda g: "PMAK-" + g.hex(24) + "-" + g.hex(34)),
        ("okta", env, "OKTA_API_TOKEN", lambda g: "00" + g.b64u(40)),
        ("auth0", env, "AUTH0_CLIENT_SECRET", lambda g: g.b64u(64)),
        ("lob", env, "LOB_API_KEY", lambda g: "live_" + g.hex(35)),
        ("riot", env, "RIOT_API_KEY", lambda g: "RGAPI-" + g.uuid()),
        ("lichess", env, "LICHESS_TOKEN", lambda g: "lip_" + g.b62(20)),
        ("shodan", env, "SHODAN_API_KEY", lambda g: g.b62(32)),
        ("virustotal", env, "VT_API_KEY", lambda g: g.hex(64)),
        ("zapier", env, "ZAPIER_HOOK",
         lambda g: "https://hooks.zapier.com/hooks/catch/" + g.digits(7) + "/" + g.low(6) + "/"),
        ("laravel", env, "APP_KEY", lambda g: "base64:" + g.base64_bytes(32)),
        ("django", py, "SECRET_KEY", lambda g: "django-insecure-" + g.s(B62 + "!@#%^&*(-_=+)",
                                                                         50)),
        ("rails", env, "SECRET_KEY_BASE", lambda g: g.hex(128)),
        ("fernet", env, "AIRFLOW__CORE__FERNET_KEY", lambda g: g.b64u(43) + "="),
        ("wireguard", raw, "", lambda g: "[Interface]\nAddress = 10.0.0.2/24\nPrivateKey = "
         + g.b64(42) + "A="),
        # ---- standard shapes
        ("jwt", env, "ACCESS_TOKEN", jwt),
        ("jwt-in-code", js, "authToken", lambda g: jwt(g, {"alg": "RS256", "kid": g.hex(8)})),
        ("rsa-private-key", raw, "", lambda g: pem(g, "RSA PRIVATE KEY")),
        ("pkcs8-private-key", raw, "", lambda g: pem(g, "PRIVATE KEY")),
        ("ec-private-key", raw, "", lambda g: pem(g, "EC PRIVATE KEY", 120)),
        ("openssh-private-key", raw, "", lambda g: pem(g, "OPENSSH PRIVATE KEY", 400)),
        ("pgp-private-key", raw, "", lambda g: pem(g, "PGP PRIVATE KEY BLOCK", 900)),
        ("encrypted-private-key", raw, "", lambda g: pem(g, "ENCRYPTED PRIVATE KEY")),
        ("kubeconfig-key", yaml, "client-key-data",
         lambda g: b64_of(pem(g, "RSA PRIVATE KEY", 300))),
        ("postgres-url", env, "DATABASE_URL",
         lambda g: "postgres://app:" + g.password() + "@db.internal:5432/shop"),
        ("mysql-url", yaml, "dsn", lambda g: "mysql://root:" + g.password() + "@10.1.2.3/app"),
        ("mongodb-url", env, "MONGO_URL",
         lambda g: "mongodb+srv://svc:" + g.b62(20) + "@cluster0.mongodb.net/prod"),
        ("redis-url", env, "REDIS_URL", lambda g: "rediss://default:" + g.b62(32)
         + "@cache.internal:6380"),
        ("amqp-url", env, "BROKER_URL", lambda g: "amqp://worker:" + g.b62(16)
         + "@mq.internal:5672/vhost"),
        ("jdbc-url", raw, "", lambda g: "jdbc:postgresql://db:5432/app?user=app&password="
         + g.b62(16)),
        ("ado-connection", raw, "", lambda g: "Server=tcp:sql.internal,1433;Database=shop;"
         "User ID=app;Password=" + g.password() + ";Encrypt=true;"),
        ("https-basic-url", sh, "REPO", lambda g: "https://deploy:" + g.b62(20)
         + "@git.internal/app.git"),
        ("basic-auth-header", raw, "", lambda g: "curl -H 'Authorization: Basic "
         + b64_of("admin:" + g.password()) + "' https://api.internal/"),
        ("bearer-header", raw, "", lambda g: "Authorization: Bearer " + g.b64u(48)),
        ("netrc", raw, "", lambda g: "machine api.internal login deploy password " + g.b62(20)),
        ("xml-secret", raw, "", lambda g: "<config><apikey>" + g.b62(32) + "</apikey></config>"),
        # ---- generic assignments (the guide's pattern)
        ("generic-password-env", env, "DB_PASSWORD", lambda g: g.password()),
        ("generic-password-py", py, "db_password", lambda g: g.password()),
        ("generic-password-yaml", yaml, "password", lambda g: g.password()),
        ("generic-password-json", jsonf, "adminPassword", lambda g: g.password()),
        ("generic-password-tf", tf, "master_password", lambda g: g.password()),
        ("generic-secret", env, "APP_CLIENT_SECRET", lambda g: g.b62(32)),
        ("generic-api-key", py, "api_key", lambda g: g.b64u(40)),
        ("generic-token", yaml, "access_token", lambda g: g.b62(40)),
        ("generic-key-js", js, "secretKey", lambda g: g.b64(44)),
        ("generic-private-key-hex", env, "SIGNING_KEY", lambda g: g.hex(64)),
        ("generic-webhook-secret", env, "WEBHOOK_SECRET", lambda g: g.b62(40)),
        ("generic-encryption-key", env, "ENCRYPTION_KEY", lambda g: g.base64_bytes(32)),
    ]


def positives(seed: int = 7) -> list[Sample]:
    """One realistic credential per provider format."""
    samples = []
    for number, (label, context, name, make) in enumerate(_specs()):
        g = Gen(seed * 100_003 + number)
        secret = make(g)
        path, text = context(name, secret)
        samples.append(Sample(label, path, text, secret, True))
    return samples


def _neg(label: str, path: str, text: str) -> Sample:
    return Sample(label, path, text, "", False)


def negatives(seed: int = 7) -> list[Sample]:
    """Placeholders, templates, code and look-alikes that hold no secret."""
    g = Gen(seed)
    x = "X"
    samples = [
        # documentation placeholders of real formats
        _neg("aws-doc-example", ".env", "AWS_ACCESS_KEY_ID=AKIA" + "IOSFODNN7" + "EXAMPLE\n"
             "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY\n"),
        _neg("github-xxx", ".env", "GITHUB_TOKEN=ghp_" + x * 36 + "\n"),
        _neg("github-your", "README.md", "export GITHUB_TOKEN=ghp_your_token_here\n"),
        _neg("stripe-xxx", "docs/setup.md", "STRIPE_SECRET_KEY=sk_live_" + "x" * 24 + "\n"),
        _neg("stripe-placeholder", ".env.example", "STRIPE_SECRET_KEY=sk_test_YOUR_KEY_HERE\n"),
        _neg("slack-xxx", "docs/slack.md", "SLACK_BOT_TOKEN=xoxb-" + "0" * 12 + "-" + "0" * 13 + "-"
             + x * 24 + "\n"),
        _neg("slack-webhook-xxx", "docs/hooks.md", "https://hooks.slack.com/services/T00000000/"
             "B00000000/" + x * 24 + "\n"),
        _neg("openai-ellipsis", "README.md", "OPENAI_API_KEY=sk-...\n"),
        _neg("openai-your", ".env.example", "OPENAI_API_KEY=sk-your-api-key\n"),
        _neg("sendgrid-example", "docs/mail.md", "SENDGRID_API_KEY=SG.example.example\n"),
        _neg("npm-placeholder", ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
        _neg("pypi-placeholder", ".pypirc", "[pypi]\nusername = __token__\npassword = "
             "<your PyPI token>\n"),
        _neg("docker-placeholder", ".env.example", "DOCKERHUB_TOKEN=dckr_pat_<token>\n"),
        _neg("gitlab-placeholder", ".gitlab-ci.yml", "variables:\n  GITLAB_TOKEN: "
             "glpat-xxxxxxxxxxxxxxxxxxxx\n"),
        _neg("twilio-placeholder", ".env.example", "TWILIO_AUTH_TOKEN=your_auth_token\n"),
        _neg("datadog-placeholder", ".env.example", "DD_API_KEY=<DATADOG_API_KEY>\n"),
        _neg("heroku-placeholder", ".env.example", "HEROKU_API_KEY=00000000-0000-0000-0000-"
             "000000000000\n"),
        _neg("jwt-placeholder", "docs/auth.md", "Authorization: Bearer <jwt>\n"),
        _neg("jwt-ellipsis", "docs/auth.md", "token: eyJhbGciOi...\n"),
        _neg("pem-stub", "docs/tls.md", "-----BEGIN RSA PRIVATE KEY-----\n...\n"
             "-----END RSA PRIVATE KEY-----\n"),
        _neg("pem-placeholder", "docs/ssh.md", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
             "<paste your private key here, it is about 400 characters of base64 text ok>\n"
             "-----END OPENSSH PRIVATE KEY-----\n"),
        _neg("db-url-placeholder", ".env.example",
             "DATABASE_URL=postgres://user:password@localhost:5432/db\n"),
        _neg("db-url-template", "docker-compose.yml",
             "DATABASE_URL: postgres://app:${POSTGRES_PASSWORD}@db:5432/app\n"),
        _neg("db-url-angle", "README.md", "mysql://root:<password>@localhost/app\n"),
        _neg("db-url-no-password", ".env", "DATABASE_URL=postgres://app@db.internal/app\n"),
        _neg("db-url-default", "docker-compose.yml",
             "DATABASE_URL: postgres://postgres:postgres@localhost:5432/postgres\n"),
        _neg("redis-no-auth", ".env", "REDIS_URL=redis://localhost:6379/0\n"),
        _neg("git-url-user", "deploy.sh", "git clone https://git@github.com/acme/app.git\n"),
        _neg("connstr-placeholder", "appsettings.json", '{"Db": "Server=db;Database=shop;'
             'User Id=sa;Password=<your-password>;"}\n'),
        _neg("basic-placeholder", "docs/api.md",
             "Authorization: Basic " + b64_of("user:password") + "\n"),
        _neg("bearer-template", "client.sh", "curl -H \"Authorization: Bearer ${TOKEN}\" x\n"),
        _neg("bearer-env", "client.sh", "curl -H \"Authorization: Bearer $API_TOKEN\" x\n"),
        # references, templates and code
        _neg("password-env-python", "app/db.py", 'password = os.environ["DB_PASSWORD"]\n'),
        _neg("password-getenv", "app/db.py", 'DB_PASSWORD = os.getenv("DB_PASSWORD", "")\n'),
        _neg("password-call", "app/auth.py", "password = get_password(user)\n"),
        _neg("password-attr", "app/auth.py", "self.password = config.password\n"),
        _neg("password-compare", "app/auth.py", 'if password == "":\n    raise Error\n'),
        _neg("password-none", "app/auth.py", "password: str | None = None\n"),
        _neg("password-input", "cli.py", 'password = getpass("Password: ")\n'),
        _neg("password-hash", "fixtures/users.py",
             'password_hash = "$2b$12$' + g.s(B64.replace("+", "."), 53) + '"\n'),
        _neg("password-yaml-ref", "values.yaml", "password: ${DB_PASSWORD}\n"),
        _neg("password-helm", "templates/secret.yaml",
             "password: {{ .Values.db.password | b64enc }}\n"),
        _neg("password-ansible-vault", "group_vars/all.yml", "db_password: !vault |\n"
             "  $ANSIBLE_VAULT;1.1;AES256\n"),
        _neg("password-terraform-var", "main.tf", "  password = var.db_password\n"),
        _neg("password-k8s-ref", "deploy.yaml", "- name: DB_PASSWORD\n  valueFrom:\n"
             "    secretKeyRef:\n      name: db\n      key: password\n"),
        _neg("password-changeme", "config.ini", "[db]\npassword = changeme\n"),
        _neg("password-empty", "config.ini", "[db]\npassword =\n"),
        _neg("password-stars", "config.yaml", "password: \"********\"\n"),
        _neg("password-redacted", "logs/app.log", "login ok user=bob password=[REDACTED]\n"),
        _neg("password-word", "config.yaml", "password: password\n"),
        _neg("password-label", "i18n/en.json", '{"password": "Password", "passwordHint": '
             '"At least 12 characters"}\n'),
        _neg("password-policy", "settings.py", "PASSWORD_MIN_LENGTH = 12\n"),
        _neg("password-reset-url", "settings.py",
             'PASSWORD_RESET_URL = "https://shop.example.com/reset"\n'),
        _neg("password-field", "forms.py", 'password_field = "password"\n'),
        _neg("password-js-env", "src/db.js", "const password = process.env.DB_PASSWORD;\n"),
        _neg("password-php", "db.php", "$password = $_ENV['DB_PASSWORD'];\n"),
        _neg("password-go", "db.go", 'password := os.Getenv("DB_PASSWORD")\n'),
        _neg("password-format", "db.py", 'dsn = f"postgres://{user}:{password}@{host}/db"\n'),
        _neg("secret-ref", "k8s.yaml", "secretName: tls-secret\n"),
        _neg("secret-arn", "config.py",
             'SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"\n'),
        _neg("secret-path", "config.py", 'SECRET_PATH = "/run/secrets/db_password"\n'),
        _neg("secret-words", "config.py", 'client_secret = "correct-horse-battery-staple"\n'),
        _neg("secret-gha", ".github/workflows/ci.yml",
             "env:\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n"),
        _neg("secret-gitlab-var", ".gitlab-ci.yml", "script:\n  - deploy --token $DEPLOY_TOKEN\n"),
        _neg("token-url", "oauth.py", 'TOKEN_URL = "https://oauth2.googleapis.com/token"\n'),
        _neg("token-type", "oauth.py", 'token_type = "Bearer"\n'),
        _neg("max-tokens", "llm.py", "max_tokens = 4096\n"),
        _neg("tokenizer", "llm.py", 'tokenizer_name = "bert-base-uncased-v2-2024"\n'),
        _neg("csrf-token", "templates/form.html",
             '<input name="csrf_token" value="{{ csrf_token() }}">\n'),
        _neg("token-request", "api.py", 'token = request.headers.get("Authorization")\n'),
        _neg("api-key-header", "client.py", 'API_KEY_HEADER = "X-Api-Key"\n'),
        _neg("api-key-env-js", "src/client.ts", "const apiKey = process.env.API_KEY ?? '';\n"),
        _neg("api-key-cfn", "template.yaml", "ApiKey: !Ref ApiKeyParameter\n"),
        _neg("api-key-empty", "config.json", '{"api_key": ""}\n'),
        _neg("api-key-null", "config.json", '{"api_key": null}\n'),
        _neg("api-key-your", "config.py", 'API_KEY = "YOUR_API_KEY"\n'),
        _neg("api-key-insert", "config.py", 'API_KEY = "<insert-api-key>"\n'),
        _neg("api-key-dummy", "tests/test_client.py", 'api_key = "dummy-api-key-for-tests"\n'),
        _neg("api-key-fake", "tests/test_client.py", 'api_key = "fake_key_1"\n'),
        _neg("key-path", "config.py", 'SSL_KEY_PATH = "/etc/ssl/private/server.key"\n'),
        _neg("key-file", "config.yaml", "tls:\n  key_file: certs/server.key\n"),
        _neg("primary-key", "models.py", 'primary_key = "id"\n'),
        _neg("sort-key", "dynamo.py", 'SORT_KEY = "created_at#2024-01-01"\n'),
        _neg("cache-key", "cache.py", 'cache_key = "user:1234:profile:v2"\n'),
        _neg("idempotency-key", "pay.py",
             'idempotency_key = "' + g.uuid() + '"\n'),
        _neg("public-key-ssh", "authorized_keys.py",
             'public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI' + g.b64(43) + ' ops"\n'),
        _neg("public-key-pem", "keys/public.pem", pem(g, "PUBLIC KEY", 294) + "\n"),
        _neg("certificate", "certs/ca.pem", pem(g, "CERTIFICATE", 900) + "\n"),
        _neg("keyboard", "ui.js", "const keyboardLayout = 'qwertz';\n"),
        _neg("monkey", "zoo.py", 'monkey = "capuchin_monkey_2024_v1"\n'),
        _neg("key-id", "kms.py", 'KMS_KEY_ID = "' + g.uuid() + '"\n'),
        _neg("aws-key-id-name", "iam.py", 'access_key_id_field = "AccessKeyId"\n'),
        _neg("license-key-placeholder", "config.yaml",
             "license_key: XXXX-XXXX-XXXX-XXXX\n"),
        # look-alikes: ids, hashes, encodings
        _neg("git-sha", "CHANGELOG.md", "fixed in commit " + g.hex(40) + "\n"),
        _neg("git-sha-env", ".github/env", "GITHUB_SHA=" + g.hex(40) + "\n"),
        _neg("sha256-digest", "Dockerfile", "FROM python:3.12@sha256:" + g.hex(64) + "\n"),
        _neg("npm-integrity", "package-lock.json", '"integrity": "sha512-'
             + g.base64_bytes(64) + '"\n'),
        _neg("go-sum", "go.sum", "github.com/x/y v1.2.3 h1:" + g.base64_bytes(32) + "\n"),
        _neg("pip-hash", "requirements.txt", "requests==2.32.0 --hash=sha256:" + g.hex(64) + "\n"),
        _neg("uuid-request-id", "log.txt", "request_id=" + g.uuid() + " status=200\n"),
        _neg("uuid-tenant", "config.yaml", "tenant_id: " + g.uuid() + "\n"),
        _neg("twilio-account-sid", ".env", "TWILIO_ACCOUNT_SID=AC" + g.hex(32) + "\n"),
        _neg("heroku-app-id", ".env", "HEROKU_APP_ID=" + g.uuid() + "\n"),
        _neg("datadog-site", ".env", "DD_SITE=datadoghq.eu\n"),
        _neg("sentry-dsn-public", ".env", "SENTRY_ENVIRONMENT=production\n"),
        _neg("stripe-publishable", "src/pay.js", "const pk = 'pk_live_" + g.b62(24) + "';\n"),
        _neg("data-uri", "styles.css", "background: url(data:image/png;base64,"
             + g.base64_bytes(120) + ");\n"),
        _neg("css-color", "styles.css", ".key { color: #a3b2c1; }\n"),
        _neg("md5-checksum", "checksums.txt", "checksum = \"" + g.hex(32) + "\"\n"),
        _neg("etag", "cache.py", 'ETAG = "W/\\"' + g.hex(32) + '\\""\n'),
        _neg("numeric-id", "config.py", "ACCOUNT_ID = 123456789012\n"),
        _neg("base64-text", "fixtures.py", 'GREETING = "' + b64_of("hello world, how are you "
                                                                  "today?") + '"\n'),
        _neg("version-string", "setup.cfg", "version = 1.2.3-rc.4+build.5678\n"),
        _neg("semver-key", "package.json", '{"keywords": ["secret", "token", "key"]}\n'),
        # look-alikes: wrong shape for the format
        _neg("github-short", ".env", "GH_SAMPLE=ghp_" + g.b62(20) + "\n"),
        _neg("github-long", "data.txt", "id=ghp_" + g.b62(50) + "\n"),
        _neg("aws-lowercase", "data.txt", "value=AKIA" + g.s(LOWER, 16) + "\n"),
        _neg("aws-short", "data.txt", "value=AKIA" + g.s(BASE32, 10) + "\n"),
        _neg("stripe-short", "data.txt", "value=sk_live_" + g.b62(8) + "\n"),
        _neg("slack-malformed", "data.txt", "value=xoxb-" + g.b62(20) + "\n"),
        _neg("glpat-short", "data.txt", "value=glpat-" + g.b62(8) + "\n"),
        _neg("sendgrid-malformed", "data.txt", "value=SG." + g.b62(10) + "\n"),
        _neg("jwt-not-json", "data.txt", "value=eyJ" + g.b64u(30) + ".eyJ" + g.b64u(30) + "."
             + g.b64u(30) + "\n"),
        _neg("google-short", "data.txt", "value=AIza" + g.b64u(20) + "\n"),
        _neg("npm-short", ".npmrc", "value=npm_" + g.b62(12) + "\n"),
        _neg("pypi-wrong", "data.txt", "value=pypi-" + g.b64u(40) + "\n"),
        _neg("openai-no-marker", "data.txt", "value=sk-" + g.b62(20) + "\n"),
        _neg("twilio-sk-short", "data.txt", "value=SK" + g.hex(20) + "\n"),
        _neg("hex-no-context", "data.txt", g.hex(32) + "\n"),
        _neg("uuid-no-context", "data.txt", g.uuid() + "\n"),
        _neg("b64-no-context", "data.txt", g.base64_bytes(30) + "\n"),
        _neg("datadog-short", ".env", "DD_API_KEY=" + g.hex(8) + "\n"),
        _neg("heroku-not-uuid", ".env", "HEROKU_API_KEY=" + g.hex(10) + "\n"),
        _neg("dockerhub-ellipsis", ".env", "DOCKERHUB_TOKEN=dckr_pat_...\n"),
        _neg("doc-command", "README.md", "Run `safeship secrets scan --config gitleaks.toml`.\n"),
        _neg("prose-password", "README.md", "Set the password in the environment, never in "
             "code: password = os.environ['DB'].\n"),
        _neg("prose-secret", "docs/secrets.md", "The secret is stored in Vault under "
             "`kv/shop/api` (ask ops for access).\n"),
        _neg("test-sequence", "tests/test_x.py", 'password = "abcdef123456"\n'),
        _neg("test-sequence-2", "tests/test_x.py", 'secret = "1234567890abcdef"\n'),
        _neg("placeholder-mask", "config.json", '{"token": "\u2022\u2022\u2022\u2022\u2022\u2022'
             '\u2022\u2022"}\n'),
        _neg("template-jinja", "config.j2", "api_key: {{ api_key }}\n"),
        _neg("template-erb", "config.yml.erb", "api_key: <%= ENV['API_KEY'] %>\n"),
        _neg("template-dollar-paren", "deploy.sh", 'TOKEN="$(vault read -field=token x)"\n'),
        _neg("template-percent", "settings.ini", "password = %(DB_PASSWORD)s\n"),
        _neg("windows-env", "run.bat", "set PASSWORD=%DB_PASSWORD%\n"),
    ]
    return samples


def corpus(seed: int = 7) -> list[Sample]:
    """Positives and negatives together."""
    return positives(seed) + negatives(seed)
