"""CI definitions that run safeship (directly or via make) and hand-written deploy scripts."""

from __future__ import annotations

from pathlib import Path

from safeship.assess.ci_evidence import MAX_CI_FILES, ci_files, inspect_ci
from safeship.assess.delivery_evidence import deploy_scripts

WORKFLOW = """\
name: ci
on: [push]
jobs:
  gates:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # - run: safeship gates run   (commented out: does not count)
      - run: pip install safeship
      - run: safeship gates run --format junit -o gates.xml
"""


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def test_a_workflow_that_runs_the_gates(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/ci.yml", WORKFLOW)
    write(tmp_path, ".github/workflows/release.yaml", "on: [tag]\njobs: {}\n")
    found = {f.path: f for f in inspect_ci(tmp_path)}
    assert set(found) == {".github/workflows/ci.yml", ".github/workflows/release.yaml"}
    ci = found[".github/workflows/ci.yml"]
    assert ci.runs_safeship
    assert ci.how == ".github/workflows/ci.yml:10 runs `safeship gates run`"
    assert ci.via == ()
    assert not found[".github/workflows/release.yaml"].runs_safeship


def test_a_ci_script_through_make(tmp_path: Path) -> None:
    write(tmp_path, ".ci/run", "#!/bin/sh\nset -e\nexport CI=true\nmake -j2 check\n")
    write(tmp_path, "Makefile", "all:\n\techo all\ncheck: test\ntest:\n\tpytest\n"
                                "\t.venv/bin/safeship gates run --no-store\n")
    (ci,) = inspect_ci(tmp_path)
    assert ci.runs_safeship
    assert ci.how == (".ci/run:4 runs `make check`, and Makefile:6 (target `test`) runs "
                      "`safeship gates run`")
    assert ci.via == ("Makefile",)


def test_make_without_a_target_runs_the_default_goal(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", "test:\n  script:\n    - make\n")
    write(tmp_path, "Makefile", "gates:\n\tsafeship gates run\nother:\n\techo\n")
    assert inspect_ci(tmp_path)[0].runs_safeship
    write(tmp_path, "Makefile", "other:\n\techo\ngates:\n\tsafeship gates run\n")
    (ci,) = inspect_ci(tmp_path)
    assert not ci.runs_safeship
    assert "not even through the make targets" in ci.how


def test_ci_without_safeship_and_without_a_makefile(tmp_path: Path) -> None:
    write(tmp_path, "Jenkinsfile", "pipeline { stages { stage('t') { sh 'make test' } } }\n")
    (ci,) = inspect_ci(tmp_path)
    assert not ci.runs_safeship
    assert ci.how == "Jenkinsfile does not run `safeship gates run`"


def test_no_ci_at_all_and_the_bound_on_files(tmp_path: Path) -> None:
    assert inspect_ci(tmp_path) == ()
    for index in range(MAX_CI_FILES + 3):
        write(tmp_path, f".ci/step{index:03d}", "echo\n")
    assert len(ci_files(tmp_path)) == MAX_CI_FILES


def test_deploy_scripts_and_makefile_deploy_targets(tmp_path: Path) -> None:
    assert deploy_scripts(tmp_path) == ()
    write(tmp_path, "scripts/deploy.sh", "rsync -a dist/ prod:/srv/app\n")
    write(tmp_path, "deploy_prod.py", "print('deploy')\n")
    write(tmp_path, "scripts/test.sh", "pytest\n")
    write(tmp_path, "Makefile", "deploy-staging:\n\t./scripts/deploy.sh staging\n"
                                "deploy:\n\n.PHONY: deploy\nredeploy:\n\techo\n")
    assert deploy_scripts(tmp_path) == ("Makefile target `deploy-staging`", "deploy_prod.py",
                                        "scripts/deploy.sh")
