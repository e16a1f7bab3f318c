"""Command templates of the local target: splitting, placeholders, literal braces."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from safeship.targets.local import LocalOptions
from safeship.targets.local_command import (
    TemplateError,
    placeholders_in,
    render,
    split_template,
)

VALUES = {"port": "8001", "version": "v2", "instance": "0", "artifact": "/srv/my app.pyz"}


def test_every_placeholder_is_filled() -> None:
    argv = split_template("serve --port {port} --name {version}-{instance} {artifact}")
    assert render(argv, VALUES) == (
        "serve", "--port", "8001", "--name", "v2-0", "/srv/my app.pyz",
    )


def test_values_with_spaces_stay_one_argument_and_no_shell_is_involved() -> None:
    argv = split_template("python -m app --artifact={artifact} ';' rm")
    assert render(argv, VALUES) == ("python", "-m", "app", "--artifact=/srv/my app.pyz", ";", "rm")


def test_quotes_group_words_like_a_shell() -> None:
    assert split_template("""app --greeting 'hello world' "a b" """) == (
        "app", "--greeting", "hello world", "a b",
    )


def test_a_list_command_is_taken_as_it_stands() -> None:
    assert split_template(["app", "--port", "{port}"]) == ("app", "--port", "{port}")


def test_doubled_braces_are_literal() -> None:
    argv = split_template("""app --json '{{"port":{port}}}'""")
    assert render(argv, VALUES) == ("app", "--json", '{"port":8001}')
    assert placeholders_in(argv) == {"port"}


def test_placeholders_in_lists_what_the_template_uses() -> None:
    assert placeholders_in(("app", "{port}", "{version}")) == {"port", "version"}
    assert placeholders_in(("app",)) == frozenset()


@pytest.mark.parametrize(("command", "message"), [
    ("app {prot}", "unknown placeholder {prot}"),
    ("app {port", "unbalanced brace"),
    ("app port}", "unbalanced brace"),
    ("app {0}", "unknown placeholder {0}"),
    ("app {port.__class__}", "unknown placeholder"),
    ("", "empty"),
    ("app 'unterminated", "cannot split"),
])
def test_bad_templates_are_refused(command: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("}", r"\}")):
        placeholders_in(split_template(command))


def test_a_missing_value_is_named() -> None:
    with pytest.raises(TemplateError, match="no artifact was given"):
        render(("app", "{artifact}"), {"port": "1"})


def test_options_refuse_a_bad_template_when_loaded() -> None:
    with pytest.raises(ValidationError, match="unknown placeholder"):
        LocalOptions(command="app --port {PORT}")


def test_options_defaults_and_durations() -> None:
    options = LocalOptions.model_validate({
        "command": "app --port {port}", "startup_timeout": "1m30s", "grace_period": "250ms",
        "health": {"path": "/ready", "status": 204, "timeout": "3s"},
    })
    assert options.startup_timeout == 90.0
    assert options.grace_period == 0.25
    assert options.health.timeout == 3.0
    assert options.host == "127.0.0.1"
    assert LocalOptions(command="app").health.path == "/healthz"
    assert LocalOptions(command="app").health.status == 200


@pytest.mark.parametrize("bad", [
    {"env": {"PORT": "1"}},
    {"env": {"SAFESHIP_VERSION": "x"}},
    {"env": {"A=B": "1"}},
    {"host": "0.0.0.0"},  # noqa: S104 - refusing it is the point
    {"host": "::"},
    {"host": ""},
    {"health": {"path": "healthz"}},
    {"health": {"status": 99}},
    {"startup_timeout": "soon"},
    {"grace_period": -1},
    {"unknown": 1},
])
def test_options_refuse_what_cannot_work(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LocalOptions.model_validate({"command": "app", **bad})


def test_ipv6_hosts_are_accepted_without_brackets() -> None:
    assert LocalOptions(command="app", host="[::1]").host == "::1"


def test_env_numbers_and_booleans_become_text() -> None:
    options = LocalOptions.model_validate({"command": "app",
                                           "env": {"WORKERS": 4, "DEBUG": True, "RATIO": 0.5}})
    assert options.env == {"WORKERS": "4", "DEBUG": "true", "RATIO": "0.5"}
