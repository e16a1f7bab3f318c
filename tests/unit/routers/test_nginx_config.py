"""The nginx router's pure parts: percent -> weights, config rendering, reading the split back."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from safeship.model.endpoints import Endpoint
from safeship.routers import render_checks
from safeship.routers.nginx import NginxOptions
from safeship.routers.nginx_config import NginxConfig, parse_split, render
from safeship.routers.nginx_weights import (
    MAX_WEIGHT,
    WeightConversionError,
    server_key,
    to_percent,
    to_server_weights,
    version_of,
)

# --- percent -> weights ---------------------------------------------------------------------


@pytest.mark.parametrize(("split", "servers", "expected"), [
    ({"v1": 90, "v2": 10}, {"v1": 1, "v2": 1}, {"v1-1": 90, "v2-1": 10}),
    ({"v1": 90, "v2": 10}, {"v1": 2, "v2": 1}, {"v1-1": 45, "v1-2": 45, "v2-1": 10}),
    ({"v1": 2.5, "v2": 97.5}, {"v1": 1, "v2": 1}, {"v1-1": 5, "v2-1": 195}),
    ({"v1": 0.1, "v2": 99.9}, {"v1": 1, "v2": 1}, {"v1-1": 1, "v2-1": 999}),
    ({"v1": 100, "v2": 0}, {"v1": 1, "v2": 1}, {"v1-1": 100, "v2-1": 0}),
    ({"v1": 100}, {"v1": 1, "v2": 1}, {"v1-1": 100, "v2-1": 0}),
], ids=["90/10", "90/10-over-2+1", "2.5/97.5", "0.1/99.9", "100/0", "absent-is-down"])
def test_whole_shares_convert_exactly(split: dict[str, float], servers: dict[str, int],
                                      expected: dict[str, int]) -> None:
    weights = to_server_weights(split, servers)
    assert weights == expected
    assert to_percent(weights) == pytest.approx(
        {version: float(split.get(version, 0)) for version in servers})


def test_shares_without_an_exact_form_are_rounded_to_the_1000_scale() -> None:
    weights = to_server_weights({"v1": 33.3333, "v2": 66.6667}, {"v1": 1, "v2": 1})
    assert weights == {"v1-1": 500, "v2-1": MAX_WEIGHT}  # 33.3333 * 1000 / 66.6667 = 499.9995


def test_a_tiny_canary_keeps_weight_one_instead_of_down() -> None:
    weights = to_server_weights({"stable": 99.99, "canary": 0.01}, {"stable": 1, "canary": 1})
    assert weights == {"stable-1": MAX_WEIGHT, "canary-1": 1}


def test_traffic_for_a_version_without_servers_is_refused() -> None:
    with pytest.raises(WeightConversionError, match="no endpoints"):
        to_server_weights({"v1": 50, "v2": 50}, {"v1": 1})


@given(
    parts=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=4).filter(
        lambda parts: sum(parts) > 0),
    servers=st.lists(st.integers(min_value=1, max_value=4), min_size=4, max_size=4),
)
def test_any_split_converts_within_bounds_and_reads_back_close(parts: list[int],
                                                                servers: list[int]) -> None:
    total = sum(parts)
    split = {f"v{index}": 100 * part / total for index, part in enumerate(parts)}
    counts = {version: servers[index] for index, version in enumerate(split)}
    weights = to_server_weights(split, counts)
    assert all(0 <= weight <= MAX_WEIGHT for weight in weights.values())
    for key, weight in weights.items():
        assert (weight > 0) == (split[version_of(key)] > 0)
    back = to_percent(weights)
    for version, percent in split.items():
        assert abs(back[version] - percent) <= 0.5, (split, counts, weights)


def test_server_keys_map_back_to_their_version() -> None:
    assert version_of(server_key("canary-2", 3)) == "canary-2"
    with pytest.raises(ValueError, match="not a safeship server name"):
        version_of("canary")


# --- rendering ----------------------------------------------------------------------------------


def sample_config(**changes: object) -> NginxConfig:
    base: dict[str, object] = {
        "listen": "127.0.0.1:8080",
        "config_dir": Path("/etc/safeship/nginx"),
        "temp_dir": Path("/tmp/safeship-nginx-test"),
        "backends": {"v1": [Endpoint("127.0.0.1", 9001), Endpoint("127.0.0.1", 9002)],
                     "v2": [Endpoint("::1", 9003)]},
        "server_weights": {"v1-1": 45, "v1-2": 45, "v2-1": 0},
    }
    base.update(changes)
    return NginxConfig(**base)  # type: ignore[arg-type]


def test_render_has_the_documented_shape() -> None:
    text = render(sample_config())
    lines = [line.strip() for line in text.splitlines()]
    assert "pid /etc/safeship/nginx/nginx.pid;" in lines
    assert "error_log /etc/safeship/nginx/error.log warn;" in lines
    assert "proxy_temp_path /tmp/safeship-nginx-test/proxy;" in lines
    assert "client_body_temp_path /tmp/safeship-nginx-test/body;" in lines
    assert "server 127.0.0.1:9001 weight=45;  # safeship server=v1-1" in lines
    assert "server [::1]:9003 down;  # safeship server=v2-1" in lines
    assert "weight=0" not in text
    assert "upstream safeship_pin_v2 {" in lines
    assert "map $http_x_safeship_version $safeship_upstream {" in lines
    assert '"" safeship;' in lines
    assert '"v2" safeship_pin_v2;' in lines
    assert 'default "";' in lines
    assert "listen 127.0.0.1:8080;" in lines
    assert "proxy_pass http://$safeship_upstream;" in lines
    assert text.count("{") == text.count("}")


def test_without_any_weight_unpinned_requests_get_a_clear_503() -> None:
    text = render(sample_config(server_weights={}))
    assert '"" "";' in text
    assert '"v1" safeship_pin_v1;' in text  # pinning still works
    assert "return 503" in text


def test_render_without_versions_has_no_upstream() -> None:
    text = render(sample_config(backends={}, server_weights={}))
    assert "upstream safeship" not in text
    assert '"" "";' in text


def test_parse_split_reads_back_what_render_wrote() -> None:
    servers = parse_split(render(sample_config()))
    assert [(server.key, server.address, server.weight) for server in servers] == [
        ("v1-1", "127.0.0.1:9001", 45), ("v1-2", "127.0.0.1:9002", 45), ("v2-1", "[::1]:9003", 0)]


def test_parse_split_ignores_everything_outside_the_weighted_upstream() -> None:
    text = (
        "upstream other {\n    server 10.0.0.1:80 weight=5;  # safeship server=x-1\n}\n"
        "upstream safeship {\n    server 10.0.0.2:80 weight=7;  # safeship server=v1-1\n"
        "    server 10.0.0.3:80 weight=3;\n    keepalive 16;\n}\n"
        "upstream safeship_pin_v1 {\n    server 10.0.0.2:80;  # safeship server=v1-9\n}\n"
    )
    assert [(server.key, server.weight) for server in parse_split(text)] == [("v1-1", 7)]
    assert parse_split("") == []


@pytest.mark.parametrize("version", ["", "v 1", 'v1"', "v1;", "{v1}", "-v1", "a" * 64])
def test_unsafe_version_names_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="version name"):
        render(sample_config(backends={version: [Endpoint("127.0.0.1", 9001)]}))


@pytest.mark.parametrize("endpoint", [Endpoint("bad host", 80), Endpoint("h;x", 80),
                                      Endpoint("127.0.0.1", 0)])
def test_unsafe_endpoints_are_refused(endpoint: Endpoint) -> None:
    with pytest.raises(ValueError, match=r"host name|outside"):
        render(sample_config(backends={"v1": [endpoint]}, server_weights={"v1-1": 1}))


@pytest.mark.parametrize("path", [Path("relative/dir"), Path("/with space"), Path("/a;b")])
def test_unsafe_paths_are_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="path"):
        render(sample_config(temp_dir=path))


def test_listen_addresses_parse() -> None:
    assert render_checks.parse_listen("[::1]:80") == ("::1", 80)
    with pytest.raises(ValueError, match="listen address"):
        render_checks.parse_listen("80")


# --- options ------------------------------------------------------------------------------------


def test_default_temp_dir_is_under_the_system_temp_dir_and_stable(tmp_path: Path) -> None:
    first = NginxOptions(config_dir=tmp_path).effective_temp_dir
    again = NginxOptions(config_dir=tmp_path).effective_temp_dir
    other = NginxOptions(config_dir=tmp_path / "x").effective_temp_dir
    assert first == again != other
    assert first.parent == Path(tempfile.gettempdir()).absolute()
    assert NginxOptions(config_dir=tmp_path, temp_dir=Path("/tmp/t")).effective_temp_dir == Path(
        "/tmp/t")


@pytest.mark.parametrize("changes", [
    {"config_dir": "/tmp", "listen": "nowhere"},
    {"config_dir": "/tmp/with space"},
    {"config_dir": "/tmp", "worker_processes": 0},
    {"config_dir": "/tmp", "unknown": 1},
])
def test_options_refuse_what_cannot_work(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        NginxOptions.model_validate(changes)
