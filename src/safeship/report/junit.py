"""The JUnit XML report, as GitLab (``artifacts:reports:junit``) and Jenkins read it.

One ``<testsuite>`` per stage and one ``<testcase classname="safeship.<stage>" name="<gate id>">``
per gate. Outcomes map onto JUnit like this:

==================  ========================================================================
outcome             element
==================  ========================================================================
blocked             ``<failure type="blocked" message=summary>`` with one finding per line
pending_approval    ``<failure type="pending_approval">`` with the ``safeship approve`` command
error               ``<error type="error" message=summary>`` (the gate could not run)
not_run, skipped    ``<skipped message=...>``
warned, logged,     a passing test case; the summary and any findings go to ``<system-out>``
approved, passed
==================  ========================================================================

The counts (``tests``, ``failures``, ``errors``, ``skipped``) are computed from the same mapping,
so they always agree with the elements. The output validates against the Jenkins xUnit plugin's
``junit-10.xsd`` (which is why ``<testsuites>`` carries no ``skipped`` attribute and test cases
carry only ``name``, ``classname`` and ``time``). Characters that XML 1.0 forbids are written as
visible ``\\xNN`` escapes instead of producing a file no parser accepts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from safeship.model.enums import Outcome
from safeship.model.results import GateResult, PipelineRun, StageResult
from safeship.report._summary import approve_hint, finding_line, seconds

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Everything outside XML 1.0's Char production: #x9 | #xA | #xD | [#x20-#xD7FF] |
# [#xE000-#xFFFD] | [#x10000-#x10FFFF]. Lone surrogates cannot even be encoded as UTF-8.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_FAILURES = frozenset({Outcome.BLOCKED, Outcome.PENDING_APPROVAL})
_SKIPS = frozenset({Outcome.NOT_RUN, Outcome.SKIPPED})


def render_junit(run: PipelineRun) -> str:
    """The run as a JUnit XML document (UTF-8 declared), ending in a newline."""
    root = ET.Element("testsuites")
    root.set("name", xml_safe(f"safeship {run.service}"))
    suites = [_suite(run, stage) for stage in run.stages]
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in suites)))
    root.set("time", _time(sum(float(s.get("time", "0")) for s in suites)))
    root.extend(suites)
    ET.indent(root, space="  ")
    return _XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids replaced by visible escapes."""
    return _ILLEGAL_XML.sub(_escape_char, text)


def _suite(run: PipelineRun, stage: StageResult) -> ET.Element:
    gates = stage.gates
    suite = ET.Element("testsuite")
    suite.set("name", xml_safe(stage.name))
    suite.set("tests", str(len(gates)))
    suite.set("failures", str(sum(g.outcome in _FAILURES for g in gates)))
    suite.set("errors", str(sum(g.outcome is Outcome.ERROR for g in gates)))
    suite.set("skipped", str(sum(g.outcome in _SKIPS for g in gates)))
    suite.set("time", _time(sum(seconds(g.duration_s) for g in gates)))
    suite.set("timestamp", run.started_at.isoformat(timespec="seconds"))
    for gate in gates:
        suite.append(_case(run, stage, gate))
    if stage.skipped and not gates:
        _text(ET.SubElement(suite, "system-out"), "stage skipped: no gate of it ran")
    return suite


def _case(run: PipelineRun, stage: StageResult, gate: GateResult) -> ET.Element:
    case = ET.Element("testcase")
    case.set("classname", xml_safe(f"safeship.{stage.name}"))
    case.set("name", xml_safe(gate.gate_id))
    case.set("time", _time(seconds(gate.duration_s)))
    findings = [finding_line(f) for f in gate.findings]
    summary = gate.summary or gate.outcome.value
    outcome = gate.outcome
    if outcome is Outcome.BLOCKED:
        failure = ET.SubElement(case, "failure", {"type": "blocked"})
        failure.set("message", xml_safe(summary))
        _text(failure, "\n".join(findings) if findings else summary)
    elif outcome is Outcome.PENDING_APPROVAL:
        failure = ET.SubElement(case, "failure", {"type": "pending_approval"})
        failure.set("message", xml_safe(f"waiting for approval: {summary}"))
        _text(failure, "\n".join([f"{summary}\nto go on, run: {approve_hint(run)}", *findings]))
    elif outcome is Outcome.ERROR:
        error = ET.SubElement(case, "error", {"type": "error"})
        error.set("message", xml_safe(summary))
        _text(error, "\n".join([summary, *findings]))
    elif outcome in _SKIPS:
        reason = "not run: an earlier stage held the change" if outcome is Outcome.NOT_RUN else ""
        skipped = ET.SubElement(case, "skipped")
        skipped.set("message", xml_safe(gate.summary or reason or "skipped"))
    else:
        # A passing case: whatever the gate said is kept where CI viewers show it.
        _text(ET.SubElement(case, "system-out"), "\n".join([f"{outcome}: {summary}", *findings]))
    return case


def _text(element: ET.Element, text: str) -> None:
    element.text = xml_safe(text)


def _time(value: float) -> str:
    # Jenkins' SUREFIRE_TIME pattern wants plain digits with an optional fraction.
    return f"{max(0.0, value):.3f}"


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
