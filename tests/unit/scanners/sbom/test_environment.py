"""The installed environment through importlib.metadata: versions, licences, graph, hashes."""

from __future__ import annotations

import json
from pathlib import Path

from safeship.scanners.sbom import ProjectInfo, read_environment

SHA = "d" * 64


def dist(site: Path, name: str, version: str, *headers: str,
         direct_url: dict[str, object] | None = None) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", *headers]
    (info / "METADATA").write_text("\n".join(lines) + "\n\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))


def test_fake_site_packages(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist(site, "alpha", "1.0", "License-Expression: MIT OR Apache-2.0",
         "Requires-Dist: beta>=2", "Requires-Dist: gamma ; extra == 'fast'",
         "Requires-Dist: missing-one", 'Requires-Dist: delta ; python_version < "3"')
    dist(site, "Beta", "2.1", "License: BSD-3-Clause",
         direct_url={"url": "file:///x/beta.whl",
                     "archive_info": {"hashes": {"sha256": SHA}}})
    dist(site, "gamma", "0.5", "License: " + "long licence text " * 20,
         "Classifier: License :: OSI Approved :: MIT License",
         "Classifier: Programming Language :: Python")
    dist(site, "delta", "4.0", "Classifier: License :: OSI Approved",
         direct_url={"url": "file:///x/d.tar.gz", "archive_info": {"hash": f"sha256={SHA}"}})
    inventory = read_environment([str(site)])
    deps = {d.key: d for d in inventory.dependencies}
    assert set(deps) == {"alpha", "beta", "gamma", "delta"}
    assert deps["alpha"].licenses == ("MIT OR Apache-2.0",)
    # extras and markers false here draw no edge; a requirement not installed neither.
    assert deps["alpha"].requires == ("beta",)
    assert deps["beta"].licenses == ("BSD-3-Clause",)
    assert deps["beta"].hashes[0].value == SHA
    assert deps["gamma"].licenses == ("MIT License",)
    assert deps["delta"].licenses == ()
    assert deps["delta"].hashes[0].algorithm == "sha256"
    assert inventory.project.name == "python-environment"


def test_first_distribution_on_the_path_wins(tmp_path: Path) -> None:
    dist(tmp_path / "first", "alpha", "2.0")
    dist(tmp_path / "second", "alpha", "1.0")
    inventory = read_environment([str(tmp_path / "first"), str(tmp_path / "second")],
                                 project=ProjectInfo("shop", "1.0"))
    assert [(d.name, d.version) for d in inventory.dependencies] == [("alpha", "2.0")]
    assert inventory.project.name == "shop"


def test_this_interpreter() -> None:
    names = {d.key for d in read_environment().dependencies}
    assert {"packaging", "cyclonedx-python-lib", "packageurl-python"} <= names
