"""Walking trees: binary and huge files, symlinks, exclusions, parallel and fast paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from safeship.errors import NotFound, UsageError
from safeship.scanners.secrets import Detector, ScanOptions, default_ruleset, scan_paths
from safeship.scanners.secrets import scanner as scanner_module
from safeship.scanners.secrets.prefilter import KeywordPrefilter, hyperscan_module
from safeship.scanners.secrets.scanner import glob_regex

from .corpus import Gen, checksummed, positives


def plant(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def scan(root: Path, **options: object) -> dict[str, object]:
    return scan_paths(root, default_ruleset(), ScanOptions(jobs=1, **options)).to_json()  # type: ignore[arg-type]


def test_json_document_shape(tmp_path: Path, gen: Gen) -> None:
    plant(tmp_path, {"app/.env": "GITHUB_TOKEN=" + checksummed("ghp_", gen) + "\n",
                     "README.md": "hello\n"})
    report = scan(tmp_path)
    assert set(report) == {"findings", "skipped", "stats"}
    [finding] = report["findings"]  # type: ignore[misc]
    assert {"file", "line", "rule_id", "description", "redacted", "fingerprint"} <= set(finding)
    assert finding["file"] == "app/.env"
    stats = report["stats"]
    assert stats["files"] == 2  # type: ignore[index]
    assert stats["bytes"] > 0  # type: ignore[index]
    assert stats["seconds"] >= 0  # type: ignore[index]


def test_binary_and_huge_files_are_skipped_and_reported(tmp_path: Path, gen: Gen) -> None:
    token = checksummed("ghp_", gen)
    plant(tmp_path, {
        "image.png": b"\x89PNG\r\n\x1a\n\x00\x00" + token.encode(),
        "big.log": "GITHUB_TOKEN=" + token + "\n" + "x" * 5000,
        "small.env": "GITHUB_TOKEN=" + token + "\n",
    })
    report = scan(tmp_path, max_file_bytes=1000)
    assert [f["file"] for f in report["findings"]] == ["small.env"]  # type: ignore[attr-defined]
    skipped = {s["file"]: s["reason"] for s in report["skipped"]}  # type: ignore[attr-defined]
    assert skipped["image.png"] == "binary file"
    assert skipped["big.log"].startswith("too large")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_out_of_the_tree_is_not_followed(tmp_path: Path, gen: Gen) -> None:
    outside = tmp_path / "outside"
    tree = tmp_path / "tree"
    plant(outside, {"secrets.env": "GITHUB_TOKEN=" + checksummed("ghp_", gen) + "\n"})
    plant(tree, {"inner/real.txt": "nothing here\n"})
    (tree / "escape.env").symlink_to(outside / "secrets.env")
    (tree / "escape_dir").symlink_to(outside, target_is_directory=True)
    (tree / "inner_link.txt").symlink_to(tree / "inner" / "real.txt")
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    report = scan(tree)
    assert report["findings"] == []
    skipped = {s["file"]: s["reason"] for s in report["skipped"]}  # type: ignore[attr-defined]
    assert set(skipped) == {"escape.env", "escape_dir"}
    assert all("outside the scanned tree" in reason for reason in skipped.values())
    assert report["stats"]["files"] == 1  # type: ignore[index]


def test_target_outside_root_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    with pytest.raises(UsageError):
        scan_paths(tmp_path / "root", default_ruleset(), targets=[Path("..")])
    with pytest.raises(NotFound):
        scan_paths(tmp_path / "root", default_ruleset(), targets=[Path("nope")])


def test_excludes_and_dependency_directories(tmp_path: Path, gen: Gen) -> None:
    line = "GITHUB_TOKEN=" + checksummed("ghp_", gen) + "\n"
    plant(tmp_path, {"node_modules/x/.env": line, ".git/config": line,
                     "tests/fixtures/a.env": line, "app/b.min.js": line, "app/c.env": line})
    report = scan(tmp_path, exclude=("tests/fixtures/**", "*.min.js"))
    assert [f["file"] for f in report["findings"]] == ["app/c.env"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("*.min.js", "a/b/c.min.js", True),
    ("tests/fixtures/**", "tests/fixtures/x/y.env", True),
    ("tests/fixtures", "tests/fixtures/y.env", True),
    ("docs/*.md", "docs/a/b.md", False),
    ("**/secrets.txt", "a/b/secrets.txt", True),
    ("build", "src/build/x.txt", True),
])
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).match(path)) is matches


def test_non_utf8_text_is_scanned(tmp_path: Path, gen: Gen) -> None:
    token = checksummed("ghp_", gen)
    plant(tmp_path, {"latin1.txt": "caf\xe9 ".encode("latin-1") + b"GITHUB_TOKEN=" + token.encode()
                     + b"\n"})
    assert [f["rule_id"] for f in scan(tmp_path)["findings"]] == ["github-pat"]  # type: ignore[attr-defined]


def _corpus_tree(root: Path) -> None:
    for number, sample in enumerate(positives(5)):
        plant(root, {f"s{number:03d}/{sample.path}": sample.text})


def test_parallel_scan_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _corpus_tree(tmp_path)
    serial = scan_paths(tmp_path, default_ruleset(), ScanOptions(jobs=1))
    monkeypatch.setattr(scanner_module, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scanner_module, "_BATCH_ITEMS", 40)
    parallel = scan_paths(tmp_path, default_ruleset(), ScanOptions(jobs=2, accelerate=False))
    assert parallel.findings == serial.findings
    assert parallel.files == serial.files
    assert len(serial.findings) >= 300


@pytest.mark.skipif(hyperscan_module() is None, reason="the optional hyperscan wheel is absent")
def test_hyperscan_fast_path_finds_the_same(tmp_path: Path) -> None:
    _corpus_tree(tmp_path)
    plain = scan_paths(tmp_path, default_ruleset(), ScanOptions(jobs=1, accelerate=False))
    fast = scan_paths(tmp_path, default_ruleset(), ScanOptions(jobs=1, accelerate=True))
    assert fast.accelerated
    assert not plain.accelerated
    assert fast.findings == plain.findings


def test_keyword_prefilter_selects_by_keyword() -> None:
    rules = [r for r in default_ruleset().rules if r.regex is not None]
    prefilter = KeywordPrefilter(rules)
    ids = {rules[i].id for i in prefilter.candidates("token: ghp_abc\nDATADOG_API_KEY=1")}
    assert {"github-pat", "datadog-api-key", "generic-secret"} <= ids
    assert "stripe-secret-key" not in ids
    assert prefilter.candidates("") == sorted(prefilter.always)


def test_detector_accelerates_on_request() -> None:
    detector = Detector(default_ruleset(), accelerate=False)
    assert not detector.accelerated
    assert detector.accelerate() is (hyperscan_module() is not None)
