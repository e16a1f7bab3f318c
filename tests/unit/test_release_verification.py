"""A rollout refuses an artifact that does not verify against the signature gate's policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from safeship.api import verify_release_artifact
from safeship.cli.app import run
from safeship.scanners.signing.blob import sign_artifact
from safeship.scanners.signing.keys import generate_private_key, public_pem

GATES = """\
version: 2
stages:
  - name: artifact
    gates:
      - type: signature
        artifact: dist/app.tar
        trusted_keys: [keys/ci.pub]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".pipeline").mkdir()
    (tmp_path / ".pipeline" / "gates.yaml").write_text(GATES)
    (tmp_path / ".pipeline" / "service.yaml").write_text(
        "apiVersion: safeship/v1\nkind: Service\nname: shop\n")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.tar").write_bytes(b"the release\n")
    return tmp_path


def trust(project: Path) -> ec.EllipticCurvePrivateKey:
    key = generate_private_key()
    (project / "keys").mkdir()
    (project / "keys" / "ci.pub").write_bytes(public_pem(key.public_key()))
    return key


def gates(project: Path) -> Path:
    return project / ".pipeline" / "gates.yaml"


def test_no_signature_gate_means_no_policy(tmp_path: Path) -> None:
    assert verify_release_artifact(tmp_path, tmp_path / "missing.yaml", None) == []


def test_a_signed_artifact_from_a_trusted_key_may_deploy(project: Path) -> None:
    key = trust(project)
    artifact = project / "dist" / "app.tar"
    (project / "dist" / "app.tar.sig").write_text(sign_artifact(artifact, key))
    assert verify_release_artifact(project, gates(project), "dist/app.tar") == []


def test_unsigned_tampered_or_untrusted_artifacts_are_refused(project: Path) -> None:
    key = trust(project)
    artifact = project / "dist" / "app.tar"
    assert verify_release_artifact(project, gates(project), "dist/app.tar")  # unsigned
    (project / "dist" / "app.tar.sig").write_text(sign_artifact(artifact, key))
    artifact.write_bytes(b"the release, changed after signing\n")
    assert verify_release_artifact(project, gates(project), "dist/app.tar")  # tampered
    stranger = generate_private_key()
    artifact.write_bytes(b"the release\n")
    (project / "dist" / "app.tar.sig").write_text(sign_artifact(artifact, stranger))
    assert verify_release_artifact(project, gates(project), "dist/app.tar")  # untrusted


def test_without_a_checkable_artifact_the_rollout_is_refused(project: Path) -> None:
    trust(project)
    assert "needs --artifact" in verify_release_artifact(project, gates(project), None)[0]
    image = verify_release_artifact(project, gates(project), "shop@sha256:" + "0" * 64)
    assert "cannot be verified" in image[0]


def test_rollout_start_refuses_before_deploying(project: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    trust(project)
    code = run(["rollout", "start", "shop", "--version", "v2", "--artifact", "dist/app.tar",
                "-C", str(project)])
    out = capsys.readouterr().out
    assert code == 1
    assert "refused:" in out
    assert "v2 is not deployed" in out
