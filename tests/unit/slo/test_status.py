"""The status of an SLO: budget left, burn rate per policy window, alerts, JSON and names."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from safeship.model.slo import SloDefinition
from safeship.slo.budget import EventCounts, event_counts, no_data
from safeship.slo.burn_policy import burn_policy
from safeship.slo.status import (
    BURN_WINDOWS_S,
    FIXED_NAMES,
    EventCountReader,
    SloState,
    SloStatusSource,
    burn_rate_names,
    definition_place,
    describe,
    slo_status,
    window_name,
)
from tests.unit.slo.prometheus_fake import DAY, Phase, Traffic, availability, steady

AT = 1_800_000_000.0


@dataclass
class TrafficReader(EventCountReader):
    """A reader that counts from :class:`Traffic` and records the windows it was asked."""

    traffic: Traffic
    asked: list[float] = field(default_factory=list)
    missing: set[float] = field(default_factory=set)

    def counts(self, slo: SloDefinition, window_s: float, at: float) -> EventCounts:
        assert at == AT
        self.asked.append(window_s)
        if window_s in self.missing:
            return no_data("no series")
        total, bad = self.traffic.counts(window_s)
        return event_counts(slo.sli.kind, bad, total)


def test_burn_windows_are_the_policy_windows() -> None:
    assert [window_name(s) for s in BURN_WINDOWS_S] == ["5m", "30m", "1h", "2h", "6h", "1d",
                                                         "3d"]
    assert burn_rate_names()[0] == "burn_rate_5m"
    assert "budget_remaining" in FIXED_NAMES


def test_a_healthy_30_day_slo_reads_every_window_once() -> None:
    slo = availability(objective=0.999)
    traffic = steady(0.00025)
    reader = TrafficReader(traffic)
    status = slo_status(slo, reader, AT)
    assert sorted(reader.asked) == sorted({*BURN_WINDOWS_S, 30 * DAY})
    assert len(reader.asked) == len(set(reader.asked))  # the whole window is read once
    assert [w.name for w in status.windows] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d",
                                                "30d"]
    assert [w.whole for w in status.windows] == [False] * 7 + [True]
    assert status.state is SloState.OK
    assert status.budget.remaining == pytest.approx(1 - 0.00025 / 0.001)
    for window in status.windows:
        assert window.burn.burn_rate == pytest.approx(0.25)
    # The policy rows for 30 days, none firing at a quarter of the sustainable burn.
    assert [(a.severity, a.factor) for a in status.alerts] == [
        ("page", 14.4), ("page", 6.0), ("ticket", 3.0), ("ticket", 1.0)]
    assert [a.firing for a in status.alerts] == [False] * 4


def test_a_fast_burn_in_the_last_hour_fires_the_page_alert_only() -> None:
    slo = availability(objective=0.999)
    # 2 % bad for the last 90 minutes (20x), 0.01 % before.
    traffic = Traffic((Phase(5400, 10.0, 0.02), Phase(40 * DAY, 10.0, 0.0001)))
    status = slo_status(slo, TrafficReader(traffic), AT)
    rates = {w.name: w.burn.burn_rate for w in status.windows}
    assert rates["5m"] == pytest.approx(20.0)
    assert rates["1h"] == pytest.approx(20.0)
    total, bad = traffic.counts(6 * 3600)
    assert rates["6h"] == pytest.approx(bad / total / 0.001)
    firing = {(a.severity, window_name(a.alert.long_window_s)): a.firing for a in status.alerts}
    assert firing == {("page", "1h"): True, ("page", "6h"): False, ("ticket", "1d"): False,
                      ("ticket", "3d"): False}
    assert status.state is SloState.OK  # the month's budget is not gone yet


def test_a_spent_budget_is_exhausted() -> None:
    status = slo_status(availability(objective=0.99), TrafficReader(steady(0.05)), AT)
    assert status.state is SloState.EXHAUSTED
    assert status.budget.remaining == pytest.approx(1 - 5.0)
    assert "budget exhausted" in describe(status)
    assert "-400.00% of the error budget left" in describe(status)


def test_no_data_for_the_whole_window_is_no_data() -> None:
    reader = TrafficReader(steady(0.001), missing={30 * DAY})
    status = slo_status(availability(), reader, AT)
    assert status.state is SloState.NO_DATA
    assert "no data (no series)" in describe(status)
    assert math.isnan(status.condition_values()["budget_remaining"])


def test_a_short_window_without_data_leaves_its_alert_unknown() -> None:
    reader = TrafficReader(steady(0.0005), missing={300.0})
    status = slo_status(availability(), reader, AT)
    assert status.state is SloState.OK
    assert status.alerts[0].firing is None
    assert status.window("5m") is not None
    assert math.isnan(status.condition_values()["burn_rate_5m"])


def test_a_one_day_slo_drops_the_rows_that_do_not_fit() -> None:
    slo = availability(window_s=DAY)
    status = slo_status(slo, TrafficReader(steady(0.0005)), AT)
    assert [w.name for w in status.windows] == ["5m", "30m", "1h", "2h", "6h", "1d"]
    assert [w.whole for w in status.windows][-1]
    policy = burn_policy(DAY)
    assert [a.factor for a in status.alerts] == [a.burn_factor for a in policy.alerts]
    assert len(status.alerts) == 3
    values = status.condition_values()
    assert "burn_rate_3d" not in values
    assert values["burn_rate_window"] == values["burn_rate_1d"]


def test_condition_values_name_every_figure() -> None:
    slo = availability(objective=0.995)
    traffic = steady(0.001, rate=4.0)
    values = slo_status(slo, TrafficReader(traffic), AT).condition_values()
    total, bad = traffic.counts(30 * DAY)
    assert set(values) == {*FIXED_NAMES, *burn_rate_names(), "burn_rate_30d"}
    assert values["objective"] == 0.995
    assert values["error_budget"] == pytest.approx(0.005)
    assert values["events_total"] == pytest.approx(total)
    assert values["events_bad"] == pytest.approx(bad)
    assert values["bad_ratio"] == pytest.approx(0.001)
    assert values["budget_consumed"] == pytest.approx(0.2)
    assert values["burn_rate_window"] == values["burn_rate_30d"] == pytest.approx(0.2)


def test_json_has_no_nan_and_says_what_is_missing() -> None:
    reader = TrafficReader(steady(0.0005), missing={300.0})
    document = slo_status(availability(), reader, AT).to_json()
    assert document["slo"] == "availability"
    assert document["window"] == "30d"
    assert document["state"] == "ok"
    five = document["burn_rates"][0]
    assert five["window"] == "5m"
    assert five["burn_rate"] is None
    assert five["data"] == "no_data"
    assert document["alerts"][0]["firing"] is None
    assert document["budget"]["remaining"] == pytest.approx(0.5)
    assert document["budget"]["allowed_bad"] == pytest.approx(
        0.001 * document["budget"]["events_total"])


def test_a_status_source_reads_every_slo_at_its_clock() -> None:
    slos = [availability(name="a"), availability(name="b", objective=0.9)]
    source = SloStatusSource(slos, TrafficReader(steady(0.0001)), now=lambda: AT,
                             where="http://prom")
    statuses = source.statuses()
    assert [s.slo.name for s in statuses] == ["a", "b"]
    assert all(s.at == AT for s in statuses)
    assert source.where == "http://prom"


@pytest.mark.parametrize(("source", "place"), [
    ("svc/service.yaml:12", ("svc/service.yaml", 12)),
    ("service.yaml", ("service.yaml", None)),
    ("", (None, None)),
])
def test_definition_place(source: str, place: tuple[str | None, int | None]) -> None:
    assert definition_place(availability(source=source)) == place
