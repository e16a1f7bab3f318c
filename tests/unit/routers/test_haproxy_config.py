"""The haproxy router's pure parts: percent -> weights, config rendering, runtime API parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from safeship.model.endpoints import Endpoint
from safeship.routers import haproxy_config, render_checks
from safeship.routers.haproxy import HaproxyOptions
from safeship.routers.haproxy_config import HaproxyConfig, render
from safeship.routers.haproxy_runtime import (
    RuntimeApiRefused,
    parse_get_weight,
    parse_show_info,
    parse_show_proc,
    parse_show_stat,
)
from safeship.routers.haproxy_weights import (
    MAX_WEIGHT,
    WeightConversionError,
    server_name,
    to_percent,
    to_server_weights,
    version_of,
)

# --- percent -> absolute weights ---------------------------------------------------------------


@pytest.mark.parametrize(("split", "servers", "expected"), [
    ({"v1": 90, "v2": 10}, {"v1": 1, "v2": 1}, {"v1-1": 90, "v2-1": 10}),
    ({"v1": 90, "v2": 10}, {"v1": 2, "v2": 1}, {"v1-1": 45, "v1-2": 45, "v2-1": 10}),
    ({"v1": 12.5, "v2": 87.5}, {"v1": 1, "v2": 1}, {"v1-1": 25, "v2-1": 175}),
    ({"v1": 50, "v2": 50}, {"v1": 3, "v2": 1},
     {"v1-1": 50, "v1-2": 50, "v1-3": 50, "v2-1": 150}),
    ({"v1": 100, "v2": 0}, {"v1": 1, "v2": 2}, {"v1-1": 100, "v2-1": 0, "v2-2": 0}),
    ({"v1": 100}, {"v1": 1, "v2": 1}, {"v1-1": 100, "v2-1": 0}),
    ({}, {"v1": 1, "v2": 1}, {"v1-1": 0, "v2-1": 0}),
], ids=["90/10", "90/10-over-2+1", "12.5/87.5", "50/50-over-3+1", "100/0", "absent-is-0",
        "no-split"])
def test_whole_shares_convert_exactly(split: dict[str, float], servers: dict[str, int],
                                      expected: dict[str, int]) -> None:
    weights = to_server_weights(split, servers)
    assert weights == expected
    if any(split.values()):
        assert to_percent(weights) == pytest.approx(
            {version: float(split.get(version, 0)) for version in servers})


def test_shares_without_an_exact_form_are_rounded_to_the_256_scale() -> None:
    weights = to_server_weights({"v1": 33.3, "v2": 66.7}, {"v1": 1, "v2": 1})
    assert weights == {"v1-1": 128, "v2-1": MAX_WEIGHT}  # 33.3 * 256 / 66.7 = 127.8
    assert to_percent(weights)["v1"] == pytest.approx(100 * 128 / 384)


def test_a_tiny_canary_never_rounds_to_zero() -> None:
    weights = to_server_weights({"stable": 99.9, "canary": 0.1}, {"stable": 1, "canary": 1})
    assert weights == {"stable-1": MAX_WEIGHT, "canary-1": 1}


@pytest.mark.parametrize(("split", "servers"), [
    ({"v1": 50, "v2": 50}, {"v1": 1, "v2": 0}),
    ({"v1": 50, "v3": 50}, {"v1": 1}),
])
def test_traffic_for_a_version_without_servers_is_refused(split: dict[str, float],
                                                          servers: dict[str, int]) -> None:
    with pytest.raises(WeightConversionError, match="no endpoints"):
        to_server_weights(split, servers)


def test_all_weights_zero_read_back_as_zero_percent() -> None:
    assert to_percent({"v1-1": 0, "v2-1": 0}) == {"v1": 0.0, "v2": 0.0}


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
    for name, weight in weights.items():
        assert (weight > 0) == (split[version_of(name)] > 0)
    back = to_percent(weights)
    for version, percent in split.items():
        assert abs(back[version] - percent) <= 1.5, (split, counts, weights)


@pytest.mark.parametrize("version", ["v1", "canary", "a-1", "1.2.3-rc.1", "x_y"])
def test_server_names_map_back_to_their_version(version: str) -> None:
    assert version_of(server_name(version, 7)) == version


@pytest.mark.parametrize("name", ["v1", "v1-", "-1", "v1-x"])
def test_foreign_server_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a safeship server name"):
        version_of(name)


# --- rendering ---------------------------------------------------------------------------------


def sample_config(**changes: object) -> HaproxyConfig:
    base: dict[str, object] = {
        "listen": "127.0.0.1:8080",
        "socket": Path("/run/safeship/admin.sock"),
        "backends": {"v1": [Endpoint("127.0.0.1", 9001), Endpoint("127.0.0.1", 9002)],
                     "v2": [Endpoint("::1", 9003)]},
        "server_weights": {"v1-1": 45, "v1-2": 45, "v2-1": 10},
        "stats_listen": "127.0.0.1:8404",
    }
    base.update(changes)
    return HaproxyConfig(**base)  # type: ignore[arg-type]


def test_render_has_the_documented_shape() -> None:
    text = render(sample_config())
    lines = [line.strip() for line in text.splitlines()]
    assert "stats socket /run/safeship/admin.sock mode 600 level admin expose-fd listeners" in lines
    assert "bind 127.0.0.1:8080" in lines
    assert "balance roundrobin" in lines
    assert "option httpchk GET /healthz" in lines
    assert "server v1-1 127.0.0.1:9001 weight 45 check inter 1s" in lines
    assert "server v1-2 127.0.0.1:9002 weight 45 check inter 1s" in lines
    assert "server v2-1 [::1]:9003 weight 10 check inter 1s" in lines
    assert "use_backend safeship_pin_v2 if { req.hdr(X-Safeship-Version) -m str v2 }" in lines
    assert "server v1-2 127.0.0.1:9002 track safeship/v1-2" in lines
    assert "backend safeship_pin_v1" in lines
    assert "http-request use-service prometheus-exporter if { path /metrics }" in lines
    unknown = next(line for line in lines if line.startswith("http-request return status 503"))
    assert unknown.endswith("!{ req.hdr(X-Safeship-Version) -m str v1 v2 }")
    # every http-request rule comes before the first use_backend (HAProxy's processing order)
    assert lines.index(unknown) < next(i for i, line in enumerate(lines)
                                       if line.startswith("use_backend"))


def test_render_without_versions_or_stats() -> None:
    text = render(sample_config(backends={}, server_weights={}, stats_listen=None))
    assert "    server " not in text
    assert "safeship_stats" not in text
    assert "if { req.hdr(X-Safeship-Version) -m found }\n" in text
    assert "default_backend safeship" in text


def test_servers_missing_from_the_weights_render_at_zero() -> None:
    text = render(sample_config(server_weights={}))
    assert "server v1-1 127.0.0.1:9001 weight 0 check inter 1s" in text


@pytest.mark.parametrize("version", ["", "v 1", "v1\nbackend x", "{v1}", "-v1", "a" * 64, "v1;"])
def test_unsafe_version_names_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="version name"):
        render(sample_config(backends={version: [Endpoint("127.0.0.1", 9001)]}))


@pytest.mark.parametrize("endpoint", [Endpoint("bad host", 80), Endpoint("h;x", 80),
                                      Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", 70000)])
def test_unsafe_endpoints_are_refused(endpoint: Endpoint) -> None:
    with pytest.raises(ValueError, match=r"host name|outside"):
        render(sample_config(backends={"v1": [endpoint]}))


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)),
    ("[::1]:8080", ("::1", 8080)),
    ("localhost:1", ("localhost", 1)),
])
def test_listen_addresses_parse(text: str, expected: tuple[str, int]) -> None:
    assert render_checks.parse_listen(text) == expected


@pytest.mark.parametrize("text", ["8080", ":8080", "host:", "host:http", "a b:80", "h:99999"])
def test_bad_listen_addresses_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"listen address|host name|outside"):
        render_checks.parse_listen(text)


@pytest.mark.parametrize("path", ["healthz", "/health z", "/a;b", "/a\nb"])
def test_bad_health_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="health check path"):
        haproxy_config.check_health_path(path)


# --- options ----------------------------------------------------------------------------------


def test_options_default_sockets_live_in_the_config_dir(tmp_path: Path) -> None:
    options = HaproxyOptions(config_dir=tmp_path)
    assert options.socket_path == tmp_path / "admin.sock"
    assert options.master_socket_path == tmp_path / "master.sock"


@pytest.mark.parametrize("changes", [
    {"config_dir": "/" + "d" * 120},
    {"config_dir": "/tmp", "socket": "/tmp/with space.sock"},
    {"config_dir": "/tmp", "listen": "nowhere"},
    {"config_dir": "/tmp", "health_path": "no-slash"},
    {"config_dir": "/tmp", "unknown": 1},
])
def test_options_refuse_what_cannot_work(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        HaproxyOptions.model_validate(changes)


# --- runtime API answers --------------------------------------------------------------------

SHOW_STAT = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
    "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,"
    "cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,"
    "ctime,rtime,ttime,\n"
    "safeship,FRONTEND,,,0,1,9984,6,572,898,2,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,6,0,6,,,,0,4,0,0,"
    "2,0,,6,6,6,,,0,0,0,0,,,,,,,,\n"
    "safeship,v1-1,0,0,2,3,,40918,164,232,,0,,1,2,0,0,UP,50,1,0,0,0,3,0,,1,3,1,,2,,2,2,,2,L7OK,"
    "200,0,0,40907,0,0,0,0,,,,2,0,0,,,,,0,,,0,1,3,8,\n"
    "safeship,v2-1,0,0,0,0,,9092,0,0,,0,,0,0,0,0,DOWN,0,1,0,0,0,3,0,,1,3,2,,0,,2,0,,0,L4CON,,3,"
    "0,7343,0,0,1749,0,,,,0,0,0,,,,,-1,,,0,0,5,5,\n"
    "safeship,BACKEND,0,0,0,1,999,2,164,232,0,0,,0,0,0,0,UP,100,2,0,,0,3,0,,1,3,0,,2,,1,2,,2,,,,"
    "0,2,0,0,0,0,,,,2,0,0,0,0,0,0,0,,,0,1,3,8,\n\n"
)


def test_show_stat_gives_the_server_rows() -> None:
    rows = parse_show_stat(SHOW_STAT)
    assert [row.server for row in rows] == ["v1-1", "v2-1"]
    first, second = rows
    assert (first.status, first.weight, first.total_sessions) == ("UP", 50, 40918)
    assert (first.responses_2xx, first.connection_errors, first.response_errors) == (40907, 1, 2)
    assert (first.check_status, first.current_sessions, first.total_time_ms) == ("L7OK", 2, 8)
    assert (second.status, second.responses_5xx, second.response_time_ms) == ("DOWN", 1749, 5)


def test_show_stat_refuses_other_text() -> None:
    with pytest.raises(RuntimeApiRefused):
        parse_show_stat("Unknown command\n")


def test_get_weight_answers_parse_in_order() -> None:
    assert parse_get_weight("50 (initial 90)\n\n10 (initial 10)\n\n", 2) == [50, 10]


@pytest.mark.parametrize("answer", ["No such server.\n\n", "50 (initial 90)\n\n"])
def test_get_weight_refusals_and_missing_answers_raise(answer: str) -> None:
    with pytest.raises(RuntimeApiRefused):
        parse_get_weight(answer, 2)


def test_show_info_pairs() -> None:
    info = parse_show_info("Name: HAProxy\nVersion: 2.6.12\nPid: 10445\nUptime_sec: 0\n\n")
    assert info["Pid"] == "10445"
    assert info["Name"] == "HAProxy"


def test_show_proc_separates_current_and_old_workers() -> None:
    status = parse_show_proc(
        "#<PID>          <type>          <reloads>       <uptime>        <version>\n"
        "9261            master          2 [failed: 1]   0d00h00m08s     2.6.12-1+deb12u4\n"
        "# workers\n"
        "9369            worker          0               0d00h00m00s     2.6.12-1+deb12u4\n"
        "# old workers\n"
        "9272            worker          1               0d00h00m07s     2.6.12-1+deb12u4\n"
        "# programs\n\n"
    )
    assert (status.master_pid, status.reloads, status.failed_reloads) == (9261, 2, 1)
    assert status.workers == (9369,)
    assert status.old_workers == (9272,)


def test_show_proc_refuses_other_text() -> None:
    with pytest.raises(RuntimeApiRefused):
        parse_show_proc("")
