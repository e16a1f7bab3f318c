"""``safeship keys|sign|verify`` and ``safeship dast`` end to end, in-process.

The commands are mounted on a local Typer app exactly as ``cli/app.py`` will mount them, and
that app is run through the real :func:`safeship.cli.app.run`, so the documented exit codes
(0 ok, 1 failed verification / FAIL findings, 2 bad input, 3 target unreachable) are the ones
a user gets. The DAST commands scan the sample apps on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import typer

import safeship.cli.app as app_module
from safeship.cli import dast_cmd, signing_cmd
from safeship.scanners.dast import RULES
from safeship.scanners.dast.rules_file import parse_rules_tsv
from safeship.scanners.signing import PASSPHRASE_ENV
from tests.unit.gates.http_fixture import closed_port_url
from tests.unit.scanners.dast.sample_apps import (
    ENV_SECRET,
    SampleApp,
    canary_app,
    hardened_app,
    vulnerable_app,
)

PASSPHRASE = "a long and secret passphrase"
SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas" / "sarif-schema-2.1.0.json"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


Cli = Callable[..., Result]


def local_app() -> typer.Typer:
    """The commands, registered the way cli/app.py registers them."""
    app = typer.Typer(name="safeship", no_args_is_help=True, pretty_exceptions_enable=False,
                      add_completion=False)
    app.add_typer(signing_cmd.keys_app, name="keys")
    app.command("sign")(signing_cmd.sign_command)
    app.command("verify")(signing_cmd.verify_command)
    app.add_typer(dast_cmd.app, name="dast")
    return app


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setattr(app_module, "app", local_app())

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = app_module.run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    return PASSPHRASE


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.whl").write_bytes(b"wheel bytes\n" * 512)
    return tmp_path


def no_secrets(*outputs: Result) -> None:
    text = "".join(result.text for result in outputs)
    assert "PRIVATE KEY" not in text
    assert PASSPHRASE not in text


# --- keys, sign, verify -------------------------------------------------------------------


def test_generate_sign_verify(cli: Cli, workdir: Path, passphrase: str) -> None:
    generated = cli("keys", "generate", "--output-prefix", "keys/ci")
    assert generated.code == 0, generated.text
    assert (workdir / "keys" / "ci.key").read_bytes().startswith(
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "key id:" in generated.out
    signed = cli("sign", "dist/app.whl", "--key", "keys/ci.key")
    assert signed.code == 0, signed.text
    signature = (workdir / "dist" / "app.whl.sig").read_text()
    assert base64.b64decode(signature.strip(), validate=True)[0] == 0x30  # DER SEQUENCE
    verified = cli("verify", "dist/app.whl", "--key", "keys/ci.pub")
    assert verified.code == 0, verified.text
    assert verified.out.startswith("VERIFIED: dist/app.whl (sha256:")
    no_secrets(generated, signed, verified)


def test_sign_with_provenance_and_verify_the_builder(cli: Cli, workdir: Path,
                                                     passphrase: str) -> None:
    assert cli("keys", "generate", "-o", "ci").code == 0
    (workdir / "requirements.lock").write_text("requests==2.32.3\n")
    signed = cli("sign", "dist/app.whl", "--key", "ci.key", "--provenance", "dist/app.intoto",
                 "--builder-id", "https://ci.example.com/builders/release@v2",
                 "--source-repo", "https://git.example.com/app", "--commit", "f" * 40,
                 "--build-command", "python -m build", "--material", "requirements.lock",
                 "--material", f"pkg:pypi/build@1.2.1=sha256:{'A' * 64}",
                 "--invocation-id", "run-7")
    assert signed.code == 0, signed.text
    envelope = json.loads((workdir / "dist" / "app.intoto").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["subject"][0]["name"] == "app.whl"
    dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert dependencies[1]["uri"] == "requirements.lock"
    assert dependencies[2] == {"uri": "pkg:pypi/build@1.2.1", "digest": {"sha256": "a" * 64}}
    assert statement["predicate"]["runDetails"]["metadata"]["invocationId"] == "run-7"

    ok = cli("verify", "dist/app.whl", "--key", "ci.pub", "--provenance", "dist/app.intoto",
             "--required-builder", "https://ci.example.com/builders/release")
    assert ok.code == 0, ok.text
    assert "builder: https://ci.example.com/builders/release@v2" in ok.out
    assert "command: python -m build" in ok.out
    wrong = cli("verify", "dist/app.whl", "--key", "ci.pub", "--provenance", "dist/app.intoto",
                "--required-builder", "https://ci.example.com/builders/nightly")
    assert wrong.code == 1
    assert "FAIL builder: built by 'https://ci.example.com/builders/release@v2'" in wrong.out
    missing = cli("verify", "dist/app.whl", "--key", "ci.pub", "--required-builder", "x")
    assert missing.code == 1
    assert "no provenance was given" in missing.out


def test_verification_failures_exit_1_with_reasons(cli: Cli, workdir: Path,
                                                   passphrase: str) -> None:
    assert cli("keys", "generate", "-o", "ci").code == 0
    assert cli("keys", "generate", "-o", "rogue").code == 0
    unsigned = cli("verify", "dist/app.whl", "--key", "ci.pub")
    assert unsigned.code == 1
    assert "the artifact is unsigned" in unsigned.out

    assert cli("sign", "dist/app.whl", "--key", "rogue.key").code == 0
    untrusted = cli("verify", "dist/app.whl", "--key", "ci.pub")
    assert untrusted.code == 1
    assert "does not verify against any trusted key (ci.pub" in untrusted.out
    assert cli("verify", "dist/app.whl", "--key", "ci.pub", "--key", "rogue.pub").code == 0

    (workdir / "dist" / "app.whl").write_bytes(b"tampered")
    tampered = cli("verify", "dist/app.whl", "--key", "rogue.pub")
    assert tampered.code == 1
    assert "changed after it was signed" in tampered.out

    (workdir / "dist" / "app.whl.sig").write_text("garbage!\n")
    malformed = cli("verify", "dist/app.whl", "--key", "rogue.pub")
    assert malformed.code == 1
    assert "malformed signature" in malformed.out


def test_verify_reports_as_json_and_sarif(cli: Cli, workdir: Path, passphrase: str) -> None:
    assert cli("keys", "generate", "-o", "ci").code == 0
    as_json = cli("verify", "dist/app.whl", "--key", "ci.pub", "--format", "json")
    assert as_json.code == 1
    document = json.loads(as_json.out)
    assert document["verified"] is False
    assert document["checks"][0]["failure"] == "unsigned"
    sarif = cli("verify", "dist/app.whl", "--key", "ci.pub", "-f", "sarif", "-o", "v.sarif")
    assert sarif.code == 1
    log = json.loads((workdir / "v.sarif").read_text())
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(log)
    assert log["runs"][0]["results"][0]["ruleId"] == "signature/unsigned"


def test_passphrase_problems_are_clear(cli: Cli, workdir: Path, passphrase: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("keys", "generate", "-o", "ci").code == 0
    monkeypatch.delenv(PASSPHRASE_ENV)
    missing = cli("sign", "dist/app.whl", "--key", "ci.key")
    assert missing.code == 2
    assert f"ci.key is encrypted and {PASSPHRASE_ENV} is not set" in missing.err
    assert not (workdir / "dist" / "app.whl.sig").exists()
    monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")
    wrong = cli("sign", "dist/app.whl", "--key", "ci.key")
    assert wrong.code == 2
    assert "wrong passphrase" in wrong.err
    assert "not the passphrase" not in wrong.text
    no_secrets(missing, wrong)


def test_generate_needs_a_passphrase_and_keeps_existing_keys(
    cli: Cli, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    refused = cli("keys", "generate", "-o", "ci")
    assert refused.code == 2
    assert PASSPHRASE_ENV in refused.err
    assert not (workdir / "ci.key").exists()
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    assert cli("keys", "generate", "-o", "ci").code == 0
    again = cli("keys", "generate", "-o", "ci")
    assert again.code == 2
    assert "already exists" in again.err
    assert cli("keys", "generate", "-o", "ci", "--force").code == 0


def test_the_passphrase_cannot_be_given_as_an_argument(cli: Cli, workdir: Path,
                                                       passphrase: str) -> None:
    assert cli("keys", "generate", "-o", "ci").code == 0
    result = cli("sign", "dist/app.whl", "--key", "ci.key", "--passphrase", "x")
    assert result.code == 2


def test_bad_input_exits_2(cli: Cli, workdir: Path, passphrase: str) -> None:
    assert cli("keys", "generate", "-o", "ci").code == 0
    assert cli("sign", "dist/app.whl", "--key", "ci.key").code == 0
    cases = [
        ("verify", "dist/missing.whl", "--key", "ci.pub"),
        ("verify", "dist/app.whl", "--key", "missing.pub"),
        ("verify", "dist/app.whl", "--key", "ci.key"),
        ("verify", "dist/app.whl", "--key", "ci.pub", "--signature", "nope.sig"),
        ("verify", "dist/app.whl", "--key", "ci.pub", "--provenance", "nope.json"),
        ("verify", "dist/app.whl"),
        ("sign", "dist/app.whl", "--key", "ci.key", "--provenance", "p.json"),
        ("sign", "dist/app.whl", "--key", "ci.key", "--builder-id", "x"),
        ("sign", "dist/app.whl", "--key", "ci.key", "--provenance", "p.json", "--builder-id",
         "b", "--source-repo", "r", "--commit", "c", "--build-command", "m", "--material",
         "no-such-file"),
    ]
    for args in cases:
        result = cli(*args)
        assert result.code == 2, (args, result.text)
        assert "Traceback" not in result.text
        no_secrets(result)


def test_signature_to_stdout(cli: Cli, workdir: Path, passphrase: str) -> None:
    assert cli("keys", "generate", "-o", "ci").code == 0
    result = cli("sign", "dist/app.whl", "--key", "ci.key", "--output-signature", "-")
    assert result.code == 0
    (workdir / "stdout.sig").write_text(result.out)
    assert cli("verify", "dist/app.whl", "--key", "ci.pub", "--signature", "stdout.sig").code == 0


# --- dast -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vulnerable() -> Iterator[SampleApp]:
    with vulnerable_app() as app:
        yield app


@pytest.fixture(scope="module")
def hardened() -> Iterator[SampleApp]:
    with hardened_app() as app:
        yield app


def test_dast_scan_of_the_vulnerable_app_exits_1(cli: Cli, vulnerable: SampleApp) -> None:
    result = cli("dast", "scan", vulnerable.url(), "--assume-https")
    assert result.code == 1, result.text
    for rule in RULES.values():
        assert rule.id in result.out
    assert "FAILED" in result.out
    assert ENV_SECRET not in result.text


def test_dast_scan_of_the_hardened_app_exits_0(cli: Cli, hardened: SampleApp) -> None:
    result = cli("dast", "scan", hardened.url(), "--assume-https")
    assert result.code == 0, result.text
    assert "FAIL 0, WARN 0, INFO 0" in result.out
    assert result.out.rstrip().endswith("PASSED")


def test_dast_json_and_sarif(cli: Cli, vulnerable: SampleApp, tmp_path: Path) -> None:
    as_json = cli("dast", "scan", vulnerable.url(), "--format", "json")
    assert as_json.code == 1
    document = json.loads(as_json.out)
    assert document["schema"] == "safeship.dast-scan/v1"
    assert document["passed"] is False
    out = tmp_path / "dast.sarif"
    sarif = cli("dast", "scan", vulnerable.url(), "-f", "sarif", "-o", str(out),
                "--passive-only")
    assert sarif.code == 1
    log = json.loads(out.read_text())
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(log)
    assert {"40012", "40018", "20019"}.isdisjoint(r["ruleId"] for r in log["runs"][0]["results"])


def test_dast_table_to_a_file(cli: Cli, hardened: SampleApp, tmp_path: Path) -> None:
    out = tmp_path / "scan.txt"
    assert cli("dast", "scan", hardened.url(), "-o", str(out)).code == 0
    assert "PASSED" in out.read_text()


def test_dast_rules_file_changes_the_verdict(cli: Cli, vulnerable: SampleApp,
                                             tmp_path: Path) -> None:
    rules = tmp_path / "rules.tsv"
    rules.write_text("".join(f"{rule.id}\tWARN\t({rule.name})\n" for rule in RULES.values())
                     + "10015\tIGNORE\t(not implemented here)\n")
    result = cli("dast", "scan", vulnerable.url(), "--rules", str(rules))
    assert result.code == 0, result.text
    assert "rules this scanner does not check (ignored): 10015" in result.err


def test_dast_canary_header_route(cli: Cli) -> None:
    with canary_app() as app:
        pinned = cli("dast", "scan", app.url(), "-H", "X-Safeship-Version: canary")
        stable = cli("dast", "scan", app.url())
    assert pinned.code == 1
    assert stable.code == 0


def test_dast_exit_codes_for_bad_input_and_unreachable(cli: Cli, tmp_path: Path) -> None:
    unreachable = cli("dast", "scan", closed_port_url())
    assert unreachable.code == 3
    assert "could not be reached" in unreachable.err
    assert cli("dast", "scan", "ftp://127.0.0.1/").code == 2
    assert cli("dast", "scan", "http://127.0.0.1:1/", "-H", "no colon").code == 2
    bad_rules = tmp_path / "rules.tsv"
    bad_rules.write_text("99999\tFAIL\n")
    result = cli("dast", "scan", "http://127.0.0.1:1/", "--rules", str(bad_rules))
    assert result.code == 2
    assert "rules.tsv:1:1: 99999: this scanner does not implement the rule" in result.err
    assert cli("dast", "scan", "http://127.0.0.1:1/", "--openapi", "missing.yaml").code == 2


def test_dast_rules_listing(cli: Cli) -> None:
    table = cli("dast", "rules")
    assert table.code == 0
    assert "A03:2021-Injection" in table.out
    tsv = cli("dast", "rules", "--format", "tsv")
    assert tsv.code == 0
    config = parse_rules_tsv(tsv.out, "generated")
    assert dict(config.levels) == {
        rule.id: rule.default_level for rule in RULES.values()}
