"""The dast gate against the sample apps on 127.0.0.1 (and an in-memory site)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from safeship.errors import GateCannotRun
from safeship.gates.dast import DastGate, DastOptions
from safeship.gates.interface import GateContext
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import GateCheck
from tests.unit.scanners.dast.mock_site import Answer, MockSite, page_html
from tests.unit.scanners.dast.sample_apps import canary_app, hardened_app, vulnerable_app

from .http_fixture import closed_port_url


def evaluate(ctx: GateContext, target: str, **options: object) -> GateCheck:
    options.setdefault("max_seconds", 30)
    return DastGate(DastOptions.model_validate({"target": target, **options})).evaluate(ctx)


def test_class_facts() -> None:
    assert DastGate.type_name == "dast"
    assert DastGate.default_action is FailAction.FAIL_CANARY
    assert DastGate.options_model is DastOptions
    assert "OWASP Top 10" in DastGate.checks


def test_options_validation() -> None:
    with pytest.raises(ValidationError, match="only http"):
        DastOptions.model_validate({"target": "ftp://x/"})
    with pytest.raises(ValidationError, match="invalid header"):
        DastOptions.model_validate({"target": "http://x/", "headers": {"Bad Name": "v"}})
    with pytest.raises(ValidationError, match="invalid header"):
        DastOptions.model_validate({"target": "http://x/", "headers": {"X": "a\r\nB: c"}})
    with pytest.raises(ValidationError, match="max_pages"):
        DastOptions.model_validate({"target": "http://x/", "max_pages": 0})
    with pytest.raises(ValidationError, match="extra"):
        DastOptions.model_validate({"target": "http://x/", "spider_minutes": 1})
    options = DastOptions.model_validate({"target": "HTTP://Shop.Test"})
    assert options.target == "http://shop.test/"
    assert options.active is True
    assert options.max_pages == 50


def test_vulnerable_app_fails(ctx: GateContext) -> None:
    with vulnerable_app() as app:
        result = evaluate(ctx, app.url())
    assert result.verdict is Verdict.FAILED
    assert result.summary.startswith("10 FAIL rule(s) alerted (")
    rules = {f.rule: f.severity for f in result.findings}
    assert rules["dast.40012"] is Severity.ERROR
    assert rules["dast.10038"] is Severity.WARNING
    assert result.metrics["fail_rules"] == 10
    assert result.metrics["pages_scanned"] >= 10


def test_hardened_app_passes(ctx: GateContext) -> None:
    with hardened_app() as app:
        result = evaluate(ctx, app.url(), assume_https=True)
    assert result.verdict is Verdict.PASSED
    assert result.findings == ()
    assert result.summary.startswith("no FAIL rule alerted on ")


def test_headers_reach_only_the_canary(ctx: GateContext) -> None:
    with canary_app() as app:
        pinned = evaluate(ctx, app.url(), headers={"X-Safeship-Version": "canary"})
        stable = evaluate(ctx, app.url())
        sent = app.log.headers()
    assert pinned.verdict is Verdict.FAILED
    assert stable.verdict is Verdict.PASSED
    pinned_requests = [h for h in sent if h.get("x-safeship-version") == "canary"]
    assert len(pinned_requests) >= pinned.metrics["requests"]


def test_warnings_only_pass_with_warning_findings(ctx: GateContext, tmp_path: Path) -> None:
    rules = tmp_path / "rules.tsv"
    rules.write_text("".join(f"{rule}\tWARN\n" for rule in (
        "90022", "10023", "10033", "10098", "41", "40034", "10095", "40012", "40018",
        "20019")))
    with vulnerable_app() as app:
        result = evaluate(ctx, app.url(), rules=str(rules))
    assert result.verdict is Verdict.PASSED
    assert all(f.severity is Severity.WARNING for f in result.findings)
    # 18 of 20: HSTS and the Secure flag are judged on HTTPS only.
    assert "18 WARN rule(s) alerted" in result.summary


def test_unreachable_target_cannot_run(ctx: GateContext) -> None:
    with pytest.raises(GateCannotRun, match="could not be reached"):
        evaluate(ctx, closed_port_url())


def test_bad_rules_file_cannot_run(ctx: GateContext, tmp_path: Path) -> None:
    rules = tmp_path / "rules.tsv"
    rules.write_text("10038\tSOMETIMES\n")
    with pytest.raises(GateCannotRun, match="level 'SOMETIMES'"):
        evaluate(ctx, "http://127.0.0.1:1/", rules=str(rules))
    with pytest.raises(GateCannotRun, match="does not exist"):
        evaluate(ctx, "http://127.0.0.1:1/", openapi="missing.yaml")


def test_uses_the_context_http_seam_and_hides_header_values(tmp_path: Path) -> None:
    site = MockSite({"/": Answer(200, page_html("/a") + "Traceback (most recent call last):")},
                    default=Answer(404, "<html>no</html>"))
    ctx = GateContext(project_root=tmp_path, http=site.factory())
    result = evaluate(ctx, "http://canary.test/", headers={"Authorization": "Bearer SECRET"},
                      active=False)
    assert result.verdict is Verdict.FAILED
    assert all(r.headers["authorization"] == "Bearer SECRET" for r in site.requests)
    shown = repr(result)
    assert "SECRET" not in shown
    assert "dast.90022" in shown


class _Resolver:
    def options_model(self, type_name: str) -> type[DastOptions] | None:
        return DastOptions if type_name == "dast" else None

    def known_types(self) -> list[str]:
        return ["dast"]


def test_gates_yaml_shape_loads(tmp_path: Path) -> None:
    from safeship.config.gates_file import load_gates_file

    path = tmp_path / "gates.yaml"
    path.write_text(
        "version: 2\n"
        "stages:\n"
        "  - name: canary\n"
        "    gates:\n"
        "      - type: dast\n"
        "        target: http://127.0.0.1:8080/\n"
        "        headers:\n"
        "          X-Safeship-Version: canary\n"
        "        rules: .pipeline/dast-rules.tsv\n"
        "        max_pages: 20\n"
        "        max_seconds: 45\n"
        "        active: false\n"
        "        on_fail: fail_canary\n")
    spec = load_gates_file(path, _Resolver())
    (gate,) = spec.stages[0].gates
    assert isinstance(gate.options, DastOptions)
    assert gate.options.headers == {"X-Safeship-Version": "canary"}
    assert gate.options.active is False
    assert gate.on_fail is FailAction.FAIL_CANARY
