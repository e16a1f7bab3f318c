"""The JUnit report validates against Jenkins' schema and tells GitLab/Jenkins the right story."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest
import xmlschema

from safeship.model.enums import Outcome, RunStatus
from safeship.model.results import PipelineRun
from safeship.report import render_junit
from safeship.report.junit import xml_safe

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "data" / "schemas"


@pytest.fixture(scope="module")
def jenkins_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMA_DIR / "junit-10.xsd")


def _parse(text: str) -> Element:
    root: Element = SafeET.fromstring(text.encode("utf-8"))
    return root


def _case(root: Element, stage: str, gate_id: str) -> Element:
    for case in root.iter("testcase"):
        if case.get("classname") == f"safeship.{stage}" and case.get("name") == gate_id:
            return case
    raise AssertionError(f"no testcase {stage}/{gate_id}")


def test_validates_against_jenkins_junit_schema(
    full_run: PipelineRun, passing_run: PipelineRun, jenkins_schema: xmlschema.XMLSchema
) -> None:
    for run in (full_run, passing_run):
        jenkins_schema.validate(render_junit(run))


def test_declaration_and_structure(full_run: PipelineRun) -> None:
    text = render_junit(full_run)
    root = _parse(text)

    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    assert text.endswith("</testsuites>\n")
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root.findall("testsuite")] == [
        "pre_commit",
        "build",
        "pre_deploy",
        "canary",
        "post_deploy",
    ]
    assert [(c.get("classname"), c.get("name")) for c in root.iter("testcase")] == [
        (f"safeship.{g.stage}", g.gate_id) for g in full_run.gates
    ]
    assert _case(root, "pre_commit", "lint").get("time") == "1.234"
    first_suite = root.find("testsuite")
    assert first_suite is not None
    assert first_suite.get("timestamp") == "2025-03-14T09:26:53+00:00"


def test_counts_agree_with_elements(full_run: PipelineRun) -> None:
    root = _parse(render_junit(full_run))

    expected = {
        "pre_commit": ("3", "2", "0", "0"),
        "build": ("3", "0", "0", "1"),
        "pre_deploy": ("3", "1", "1", "0"),
        "canary": ("1", "0", "0", "1"),
        "post_deploy": ("0", "0", "0", "0"),
    }
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counted = (
            str(len(cases)),
            str(sum(c.find("failure") is not None for c in cases)),
            str(sum(c.find("error") is not None for c in cases)),
            str(sum(c.find("skipped") is not None for c in cases)),
        )
        attrs = tuple(suite.get(k) for k in ("tests", "failures", "errors", "skipped"))
        assert attrs == counted == expected[suite.get("name", "")]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("10", "3", "1")
    suite_time = sum(float(s.get("time", "nan")) for s in root.findall("testsuite"))
    assert float(root.get("time", "nan")) == pytest.approx(suite_time)


def test_blocked_gate_is_a_failure_listing_its_findings(full_run: PipelineRun) -> None:
    root = _parse(render_junit(full_run))

    failure = _case(root, "pre_commit", "lint").find("failure")
    assert failure is not None
    assert failure.get("type") == "blocked"
    assert failure.get("message") == "2 errors (ruff)"
    assert failure.text == (
        "src/shop/app.py:3:8: [F401] 'os' imported but unused\n"
        "src/shop/ünïcode module.py:12: [E999] SyntaxError: unexpected token '<&>' near “ñandú”"
    )
    secret = _case(root, "pre_commit", "secrets").find("failure")
    assert secret is not None
    assert secret.text == (
        "config/settings.py:41:5: [aws-access-key] AWS access key AKIA…MPLE found "
        "(entropy 100% above limit)\nrotate it, then rewrite history"
    )


def test_pending_approval_is_a_failure_with_the_approve_command(full_run: PipelineRun) -> None:
    root = _parse(render_junit(full_run))

    case = _case(root, "pre_deploy", "slo")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "pending_approval"
    assert failure.get("message") == (
        "waiting for approval: error budget 3.2% remaining, needs > 5%"
    )
    assert failure.text is not None
    assert (
        "safeship approve 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99 --by NAME --reason TEXT" in failure.text
    )


def test_error_gate_is_an_error(full_run: PipelineRun) -> None:
    root = _parse(render_junit(full_run))

    case = _case(root, "pre_deploy", "db_migration")
    error = case.find("error")
    assert error is not None
    assert error.get("message") == "squawk not found on PATH"
    assert error.get("type") == "error"
    assert case.find("failure") is None


def test_not_run_and_skipped_gates_are_skipped(full_run: PipelineRun) -> None:
    root = _parse(render_junit(full_run))

    sbom = _case(root, "build", "sbom").find("skipped")
    dast = _case(root, "canary", "dast").find("skipped")
    assert sbom is not None
    assert sbom.get("message") == "no dependency file changed"
    assert dast is not None
    assert dast.get("message") == "not run: an earlier stage held the change"


def test_warned_and_logged_gates_pass_with_findings_in_system_out(full_run: PipelineRun) -> None:
    root = _parse(render_junit(full_run))

    cve = _case(root, "build", "cve")
    coverage = _case(root, "build", "coverage")
    for case in (cve, coverage):
        assert [child.tag for child in case] == ["system-out"]
    assert cve.findtext("system-out") == (
        "warned: 2 vulnerable packages (0 critical)\n"
        "[CVE-2024-3772] pydantic 2.5.0: ReDoS in the e-mail validator\n"
        "requirements.txt:7: [GHSA-9wx4-h78v-vm56] requests 2.31.0: certificate checks can be "
        "skipped"
    )
    assert coverage.findtext("system-out") == (
        "logged: line coverage 78.5% <= 80%\n"
        "src/shop/cart.py: [coverage/file] src/shop/cart.py is 64.0% covered"
    )
    passed = _case(root, "pre_commit", "compile")
    assert passed.findtext("system-out") == "passed: 31 files compiled"


def test_characters_illegal_in_xml_are_escaped_visibly(full_run: PipelineRun) -> None:
    text = render_junit(full_run)
    root = _parse(text)  # would raise on a raw NUL or ESC

    contract = _case(root, "pre_deploy", "api_contract").findtext("system-out")
    assert contract is not None
    assert "removed 'total'\\x1b[31m with a NUL \\x00 byte" in contract
    assert "\x00" not in text
    assert "\x1b" not in text


def test_xml_safe_keeps_legal_characters() -> None:
    assert xml_safe("tab\tnl\ncr\r ok € 𝄞") == "tab\tnl\ncr\r ok € 𝄞"
    assert xml_safe("a\x00b\x08c\x0bd\x1fe\ufffe") == "a\\x00b\\x08c\\x0bd\\x1fe\\ufffe"


def test_metacharacters_in_names_and_messages_survive_a_round_trip(
    single_gate_run: Callable[..., PipelineRun],
) -> None:
    run = single_gate_run(Outcome.BLOCKED, RunStatus.BLOCKED, summary="a \"quoted\" <b> & 'c'\nd")
    root = _parse(render_junit(run))

    failure = _case(root, "checks", "only").find("failure")
    assert failure is not None
    assert failure.get("message") == "a \"quoted\" <b> & 'c'\nd"
    assert failure.text == "a \"quoted\" <b> & 'c'\nd"


def test_passing_run_has_no_failures(passing_run: PipelineRun) -> None:
    root = _parse(render_junit(passing_run))

    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "0", "0")
    assert root.find(".//failure") is None
    assert root.find(".//error") is None
