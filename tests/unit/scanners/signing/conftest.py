"""Fixtures for the signing tests: key pairs on disk, a passphrase in the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from safeship.scanners.signing import PASSPHRASE_ENV, load_private_key_file, write_key_pair

PASSPHRASE = "correct horse battery staple"
FAST_KDF = 1000
"""KDF rounds for test keys: the real default (600,000) costs ~0.2 s per key each way."""


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_path: Path
    key: ec.EllipticCurvePrivateKey
    key_id: str


@pytest.fixture
def passphrase_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    return PASSPHRASE


def make_pair(directory: Path, name: str) -> KeyPair:
    generated = write_key_pair(directory / name, PASSPHRASE.encode(), kdf_iterations=FAST_KDF)
    key = load_private_key_file(generated.private_path, {PASSPHRASE_ENV: PASSPHRASE})
    return KeyPair(generated.private_path, generated.public_path, key, generated.key_id)


@pytest.fixture
def ci_key(tmp_path: Path) -> KeyPair:
    """The trusted CI signer's key pair."""
    return make_pair(tmp_path / "keys", "ci")


@pytest.fixture
def rogue_key(tmp_path: Path) -> KeyPair:
    """A key pair nobody trusts."""
    return make_pair(tmp_path / "keys", "rogue")


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "dist" / "shop-1.4.2.tar.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"release contents\n" * 4096)
    return path
