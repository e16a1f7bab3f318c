"""The signature gate: trusted CI signature (and provenance) or no deployment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from safeship.errors import GateCannotRun
from safeship.gates.interface import GateContext
from safeship.gates.signature import SignatureGate, SignatureOptions
from safeship.model.enums import FailAction, Verdict
from safeship.model.results import GateCheck
from safeship.scanners.signing import BuildFacts, attest_provenance, sign_artifact, subject_of
from tests.unit.scanners.signing.conftest import KeyPair, make_pair

BUILDER = "https://ci.example.com/builders/release"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "dist").mkdir(parents=True)
    (root / "dist" / "shop.tar.gz").write_bytes(b"the release\n" * 100)
    return root


@pytest.fixture
def ci(project: Path) -> KeyPair:
    return make_pair(project / "keys", "ci")


@pytest.fixture
def rogue(tmp_path: Path) -> KeyPair:
    return make_pair(tmp_path / "elsewhere", "rogue")


@pytest.fixture
def ctx(project: Path) -> GateContext:
    return GateContext(project_root=project)


def evaluate(ctx: GateContext, **options: object) -> GateCheck:
    options.setdefault("artifact", "dist/shop.tar.gz")
    options.setdefault("trusted_keys", ["keys/ci.pub"])
    return SignatureGate(SignatureOptions.model_validate(options)).evaluate(ctx)


def sign(project: Path, key: KeyPair) -> None:
    artifact = project / "dist" / "shop.tar.gz"
    (project / "dist" / "shop.tar.gz.sig").write_text(sign_artifact(artifact, key.key))


def attest(project: Path, key: KeyPair, builder: str = f"{BUILDER}@v1") -> None:
    artifact = project / "dist" / "shop.tar.gz"
    facts = BuildFacts(builder, "https://git.example.com/shop", "a" * 40, "make dist")
    envelope = attest_provenance([subject_of(artifact)], facts, key.key)
    (project / "dist" / "shop.intoto.json").write_text(envelope.dumps())


def test_class_facts() -> None:
    assert SignatureGate.type_name == "signature"
    assert SignatureGate.default_action is FailAction.BLOCK_DEPLOY
    assert SignatureGate.options_model is SignatureOptions
    assert SignatureGate.checks


def test_options_validation() -> None:
    with pytest.raises(ValidationError, match="trusted_keys"):
        SignatureOptions.model_validate({"artifact": "a", "trusted_keys": []})
    with pytest.raises(ValidationError, match="must not be empty"):
        SignatureOptions.model_validate({"artifact": " ", "trusted_keys": ["k"]})
    with pytest.raises(ValidationError, match="trusted key path"):
        SignatureOptions.model_validate({"artifact": "a", "trusted_keys": [""]})
    with pytest.raises(ValidationError, match="extra"):
        SignatureOptions.model_validate({"artifact": "a", "trusted_keys": ["k"], "key": "x"})
    options = SignatureOptions.model_validate(
        {"artifact": " a ", "trusted_keys": ["k1", "k2"], "required_builder": " b "})
    assert options.artifact == "a"
    assert options.trusted_keys == ("k1", "k2")
    assert options.required_builder == "b"


def test_signed_artifact_passes(ctx: GateContext, project: Path, ci: KeyPair) -> None:
    sign(project, ci)
    result = evaluate(ctx)
    assert result.verdict is Verdict.PASSED
    assert result.summary == f"dist/shop.tar.gz is signed by trusted ci.pub (key {ci.key_id[:16]})"
    assert result.metrics["signer_key_id"] == ci.key_id
    assert len(result.metrics["sha256"]) == 64


def test_signed_and_attested_with_required_builder_passes(
    ctx: GateContext, project: Path, ci: KeyPair
) -> None:
    sign(project, ci)
    attest(project, ci)
    result = evaluate(ctx, provenance="dist/shop.intoto.json", required_builder=BUILDER)
    assert result.verdict is Verdict.PASSED
    assert result.metrics["builder_id"] == f"{BUILDER}@v1"
    assert result.metrics["source_commit"] == "a" * 40
    assert "built by" in result.summary


def test_unsigned_artifact_fails(ctx: GateContext, ci: KeyPair) -> None:
    result = evaluate(ctx)
    assert result.verdict is Verdict.FAILED
    assert [(f.rule, f.path) for f in result.findings] == [
        ("signature.unsigned", "dist/shop.tar.gz")]
    assert result.findings[0].message == (
        "the artifact is unsigned: no signature file dist/shop.tar.gz.sig")
    assert result.summary.startswith("dist/shop.tar.gz must not be deployed: the artifact is")


def test_tampered_artifact_fails(ctx: GateContext, project: Path, ci: KeyPair) -> None:
    sign(project, ci)
    attest(project, ci)
    (project / "dist" / "shop.tar.gz").write_bytes(b"something else")
    result = evaluate(ctx, provenance="dist/shop.intoto.json")
    assert result.verdict is Verdict.FAILED
    assert [f.rule for f in result.findings] == ["signature.bad_signature",
                                                 "signature.subject_mismatch"]
    assert "(and 1 more problem(s))" in result.summary


def test_untrusted_signer_fails(ctx: GateContext, project: Path, ci: KeyPair,
                                rogue: KeyPair) -> None:
    sign(project, rogue)
    result = evaluate(ctx)
    assert [f.rule for f in result.findings] == ["signature.bad_signature"]
    assert "does not verify against any trusted key (ci.pub" in result.findings[0].message


def test_wrong_builder_fails(ctx: GateContext, project: Path, ci: KeyPair) -> None:
    sign(project, ci)
    attest(project, ci, builder="https://somebody.example.com/laptop")
    result = evaluate(ctx, provenance="dist/shop.intoto.json", required_builder=BUILDER)
    assert [f.rule for f in result.findings] == ["signature.builder_mismatch"]


def test_required_builder_without_provenance_fails(
    ctx: GateContext, project: Path, ci: KeyPair
) -> None:
    sign(project, ci)
    result = evaluate(ctx, required_builder=BUILDER)
    assert [f.rule for f in result.findings] == ["signature.provenance_missing"]


def test_malformed_signature_fails(ctx: GateContext, project: Path, ci: KeyPair) -> None:
    (project / "dist" / "custom.sig").write_text("@@@")
    result = evaluate(ctx, signature="dist/custom.sig")
    assert [f.rule for f in result.findings] == ["signature.malformed_signature"]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"artifact": "dist/missing.tar.gz"}, "artifact"),
        ({"trusted_keys": ["keys/missing.pub"]}, "key file"),
        ({"signature": "dist/missing.sig"}, "signature file"),
        ({"provenance": "dist/missing.json"}, "provenance file"),
    ],
)
def test_what_cannot_be_checked_is_an_error(
    ctx: GateContext, project: Path, ci: KeyPair, options: dict[str, object], problem: str
) -> None:
    sign(project, ci)
    with pytest.raises(GateCannotRun, match=problem) as caught:
        evaluate(ctx, **options)
    assert caught.value.diagnostics()[0].startswith("cannot verify dist/")


def test_a_private_key_as_trusted_key_is_an_error(ctx: GateContext, project: Path,
                                                  ci: KeyPair) -> None:
    sign(project, ci)
    with pytest.raises(GateCannotRun, match="holds a private key") as caught:
        evaluate(ctx, trusted_keys=["keys/ci.key"])
    assert "BEGIN" not in "\n".join(caught.value.diagnostics())


def test_absolute_paths_work(tmp_path: Path, project: Path, ci: KeyPair) -> None:
    sign(project, ci)
    ctx = GateContext(project_root=tmp_path / "somewhere-else")
    result = evaluate(ctx, artifact=str(project / "dist" / "shop.tar.gz"),
                      trusted_keys=[str(ci.public_path)])
    assert result.verdict is Verdict.PASSED


class _Resolver:
    def options_model(self, type_name: str) -> type[SignatureOptions] | None:
        return SignatureOptions if type_name == "signature" else None

    def known_types(self) -> list[str]:
        return ["signature"]


def test_gates_yaml_shape_loads_and_evaluates(project: Path, ci: KeyPair) -> None:
    from safeship.config.gates_file import load_gates_file

    sign(project, ci)
    attest(project, ci)
    path = project / "gates.yaml"
    path.write_text(
        "version: 2\n"
        "stages:\n"
        "  - name: pre_deploy\n"
        "    gates:\n"
        "      - type: signature\n"
        "        artifact: dist/shop.tar.gz\n"
        "        trusted_keys: [keys/ci.pub]\n"
        "        provenance: dist/shop.intoto.json\n"
        f"        required_builder: {BUILDER}\n")
    spec = load_gates_file(path, _Resolver())
    (gate,) = spec.stages[0].gates
    assert isinstance(gate.options, SignatureOptions)
    result = SignatureGate(gate.options).evaluate(GateContext(project_root=project))
    assert result.verdict is Verdict.PASSED
