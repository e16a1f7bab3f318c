"""service.yaml's rollout sections: optional, defaulted, validated with file positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from safeship.config.service_file import (
    NOTIFICATION_EVENTS,
    ServiceFileModel,
    SmokeTestSpec,
    StrategySpec,
    load_service_file,
    parse_service_document,
    validate_backend_options,
)
from safeship.config.yaml_source import parse_yaml
from safeship.errors import ConfigError
from safeship.model.canary import JudgeName

MINIMAL = "apiVersion: safeship/v1\nkind: Service\nname: shop\n"

FULL = MINIMAL + """\
risk: high
strategy:
  type: blue_green
  replicas: 3
  max_surge: 2
  max_unavailable: 1
  monitor: 10m
  smoke_url: http://127.0.0.1:8080
  smoke_tests:
    - path: /healthz
    - {path: /api/cart, method: HEAD, expect_status: 401, contains: cart}
  health_timeout: 45s
  scrape_interval: 1s
  on_insufficient_data: extend
  max_interruption: 2m
  lease_ttl: 10s
  judge: threshold
target:
  type: local
  workdir: /srv/shop
router:
  type: embedded
  listen: 127.0.0.1:8080
metrics:
  type: builtin
  history: 100
webhooks:
  - url: https://hooks.slack.com/services/T/B/X
    format: slack
    events: [rollback, promoted]
    timeout: 2s
    attempts: 5
  - url: http://127.0.0.1:9000/hook
"""


def parse(text: str) -> object:
    return parse_service_document(parse_yaml(text, "/repo/.pipeline/service.yaml"))


def test_existing_files_load_with_every_default() -> None:
    spec = parse(MINIMAL)
    assert spec.strategy == StrategySpec()  # type: ignore[attr-defined]
    assert spec.strategy.type == "canary"  # type: ignore[attr-defined]
    assert spec.strategy.monitor_s == 1800  # type: ignore[attr-defined]
    assert spec.strategy.smoke_tests == (SmokeTestSpec(),)  # type: ignore[attr-defined]
    assert spec.target is None  # type: ignore[attr-defined]
    assert spec.router is None  # type: ignore[attr-defined]
    assert spec.metrics is None  # type: ignore[attr-defined]
    assert spec.webhooks == ()  # type: ignore[attr-defined]


def test_every_rollout_section(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text(FULL)
    spec = load_service_file(path)
    strategy = spec.strategy
    assert (strategy.type, strategy.replicas, strategy.max_surge, strategy.max_unavailable) == (
        "blue_green", 3, 2, 1)
    assert (strategy.monitor_s, strategy.health_timeout_s, strategy.scrape_interval_s,
            strategy.max_interruption_s, strategy.lease_ttl_s) == (600, 45, 1, 120, 10)
    assert strategy.smoke_url == "http://127.0.0.1:8080"
    assert strategy.smoke_tests == (SmokeTestSpec("/healthz"),
                                    SmokeTestSpec("/api/cart", "HEAD", 401, "cart"))
    assert strategy.on_insufficient_data == "extend"
    assert strategy.judge is JudgeName.THRESHOLD
    assert spec.target is not None
    assert (spec.target.type, dict(spec.target.options)) == ("local", {"workdir": "/srv/shop"})
    assert spec.router is not None
    assert dict(spec.router.options) == {"listen": "127.0.0.1:8080"}
    assert spec.metrics is not None
    assert spec.metrics.type == "builtin"
    slack, plain = spec.webhooks
    assert (slack.format, slack.events, slack.timeout_s, slack.attempts) == (
        "slack", ("rollback", "promoted"), 2.0, 5)
    assert plain.events == tuple(NOTIFICATION_EVENTS)


@pytest.mark.parametrize(("snippet", "where", "message"), [
    ("strategy:\n  replicas: 0\n", "service.yaml:5:13: strategy.replicas", "greater than"),
    ("strategy:\n  monitor: soon\n", "strategy.monitor", "not a duration"),
    ("strategy:\n  scrape_interval: 0s\n", "strategy.scrape_interval", "longer than zero"),
    ("strategy:\n  on_insufficient_data: pray\n", "strategy.on_insufficient_data",
     "must be one of"),
    ("strategy:\n  smoke_test: []\n", "strategy.smoke_test", "unknown key"),
    ("router:\n  listen: x\n", "router.type", "required"),
    ("router:\n  type: Embedded\n", "router.type", "pattern"),
    ("webhooks:\n  - url: ftp://x\n", "webhooks[0].url", "pattern"),
    ("webhooks:\n  - url: https://x\n    events: [everything]\n", "webhooks[0].events[0]",
     "must be one of"),
])
def test_mistakes_are_located(snippet: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(MINIMAL + snippet)
    text = "\n".join(err.value.diagnostics())
    assert where in text
    assert message in text


class _RouterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    listen: str


def test_backend_options_are_validated_by_the_backends_model() -> None:
    spec = parse(MINIMAL + "router:\n  type: embedded\n  listen: 127.0.0.1:1\n")
    options = validate_backend_options(spec.router, _RouterOptions)  # type: ignore[attr-defined]
    assert options == _RouterOptions(listen="127.0.0.1:1")
    bad = parse(MINIMAL + "router:\n  type: embedded\n  lisen: 127.0.0.1:1\n")
    with pytest.raises(ConfigError) as err:
        validate_backend_options(bad.router, _RouterOptions)  # type: ignore[attr-defined]
    text = "\n".join(err.value.diagnostics())
    assert "service.yaml:6:3: router.lisen: unknown key (did you mean 'listen'?)" in text


def test_the_json_schema_describes_the_new_sections() -> None:
    schema = ServiceFileModel.model_json_schema(by_alias=True)
    assert {"strategy", "target", "router", "metrics", "webhooks"} <= set(schema["properties"])
    assert "strategy" not in schema.get("required", [])
