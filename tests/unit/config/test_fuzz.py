"""Fuzzing the config edge: any input gives a valid spec or a located ConfigError, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeship.config.canary_file import parse_canary_document
from safeship.config.gates_file import parse_gates_document
from safeship.config.service_file import parse_service_document
from safeship.config.yaml_source import parse_yaml
from safeship.errors import ConfigError
from safeship.registry import GateOptionsResolver

GUIDE = Path(__file__).resolve().parents[2] / "data" / "guide"

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                    st.sampled_from(["80%", "5m", "lint", "compile", "coverage", "api_call",
                                     "error_free", "(any linter)", "block", "2"]))
keys = st.sampled_from(["version", "stages", "name", "gates", "type", "minimum", "threshold",
                        "tool", "on_fail", "timeout", "endpoint", "condition", "apiVersion",
                        "kind", "metadata", "spec", "steps", "metrics", "percentage",
                        "duration", "query", "risk", "x"])
documents = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)), max_leaves=25)


def _diagnostics(action: Callable[[], object]) -> list[str]:
    """Run ``action``; a ConfigError's lines, or [] when it succeeds. Anything else propagates."""
    try:
        action()
    except ConfigError as exc:
        return exc.diagnostics()
    return []


def _located(lines: list[str]) -> bool:
    return all(line.startswith(("fuzz.yaml:", "fuzz.yaml ", "hint:")) for line in lines)


def _check_all(text: str) -> None:
    lines = _diagnostics(lambda: parse_yaml(text, "fuzz.yaml"))
    if lines:
        assert _located(lines)
        return
    doc = parse_yaml(text, "fuzz.yaml")
    for parse in (lambda d: parse_gates_document(d, GateOptionsResolver()),
                  parse_canary_document, parse_service_document):
        assert _located(_diagnostics(lambda parse=parse: parse(doc)))  # type: ignore[misc]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_structured_garbage_gives_located_errors(document: object) -> None:
    _check_all(yaml.safe_dump(document))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_text_garbage_gives_located_errors(text: str) -> None:
    _check_all(text)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 1012), st.text(alphabet=" :-\n#[]{}'\"x", max_size=3))
def test_mutated_guide_file_gives_located_errors(position: int, junk: str) -> None:
    text = (GUIDE / "gates.yaml").read_text()
    position = min(position, len(text))
    _check_all(text[:position] + junk + text[position:])
