"""Paths and operations: matching, removal with deprecation and sunset, stability, policies."""

from __future__ import annotations

import datetime as dt

import pytest

from safeship.scanners.openapi import Level
from safeship.scanners.openapi.paths import normalize
from safeship.scanners.openapi.sunset import Removal, lifecycle, parse_sunset, removal
from tests.unit.scanners.openapi.specs import diff, doc, ids, op

SUNSET = dt.date(2031, 3, 1)


def spec(*, sunset: str | None = None, deprecated: bool = False,
         stability: str | None = None, with_delete: bool = True) -> dict[str, object]:
    """GET /pets/{id}, and DELETE /pets/{id} with the given lifecycle."""
    delete = op()
    if deprecated:
        delete["deprecated"] = True
    if sunset is not None:
        delete["x-sunset"] = sunset
    if stability is not None:
        delete["x-stability-level"] = stability
    item: dict[str, object] = {"parameters": [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": op()}
    if with_delete:
        item["delete"] = delete
    return doc({"/pets/{id}": item})


@pytest.mark.parametrize(("path", "shape"), [
    ("/pets/{id}", "/pets/{}"), ("/pets/{petId}/toys/{toy}", "/pets/{}/toys/{}"),
    ("/pets", "/pets"),
])
def test_paths_are_matched_by_shape(path: str, shape: str) -> None:
    assert normalize(path) == shape


@pytest.mark.parametrize(("today", "rule"), [
    (SUNSET - dt.timedelta(days=1), "api-removed-before-sunset"),
    (SUNSET, "api-removed-with-deprecation"),
    (SUNSET + dt.timedelta(days=30), "api-removed-with-deprecation"),
])
def test_removal_is_allowed_from_the_sunset_day_on(today: dt.date, rule: str) -> None:
    base = spec(deprecated=True, sunset=SUNSET.isoformat())
    report = diff(base, spec(with_delete=False), today=today)
    assert ids(report) == {rule}
    change = report.changes[0]
    assert change.operation == "DELETE /pets/{id}"
    assert change.base_pointer == "/paths/~1pets~1{id}/delete"
    assert change.revision_pointer == "/paths/~1pets~1{id}"


def test_removal_without_deprecation_or_with_only_a_sunset_is_breaking() -> None:
    for base in (spec(), spec(sunset="2000-01-01")):
        report = diff(base, spec(with_delete=False))
        assert ids(report) == {"api-removed-without-deprecation"}
        assert report.changes[0].level is Level.ERR
        assert "deprecate" in report.changes[0].message


def test_removing_a_deprecated_operation_without_a_sunset_is_allowed() -> None:
    report = diff(spec(deprecated=True), spec(with_delete=False))
    assert [c.level for c in report.changes] == [Level.INFO]


@pytest.mark.parametrize("stability", ["draft", "alpha"])
def test_draft_and_alpha_operations_change_freely(stability: str) -> None:
    assert diff(spec(stability=stability), spec(with_delete=False)).changes == ()
    changed = spec(stability=stability)
    changed["paths"]["/pets/{id}"]["delete"]["requestBody"] = {  # type: ignore[index]
        "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    assert diff(spec(stability=stability), changed).changes == ()


def test_beta_operations_are_protected() -> None:
    assert ids(diff(spec(stability="beta"), spec(with_delete=False))) == {
        "api-removed-without-deprecation"}


def test_a_deprecation_policy_requires_a_sunset_far_enough() -> None:
    today = dt.date(2030, 1, 1)
    missing = diff(spec(), spec(deprecated=True), today=today, deprecation_days=90)
    assert ids(missing) == {"api-deprecated-sunset-missing"}
    too_soon = diff(spec(), spec(deprecated=True, sunset="2030-02-01"), today=today,
                    deprecation_days=90)
    assert ids(too_soon) == {"api-sunset-date-too-small"}
    fine = diff(spec(), spec(deprecated=True, sunset="2030-06-01"), today=today,
                deprecation_days=90)
    assert ids(fine) == {"endpoint-deprecated-with-sunset"}
    assert diff(spec(), spec(deprecated=True), today=today).changes[0].id == (
        "endpoint-deprecated")


@pytest.mark.parametrize(("value", "parsed"), [
    ("2031-03-01", dt.date(2031, 3, 1)), ("2031-03-01T10:00:00Z", dt.date(2031, 3, 1)),
    (dt.date(2031, 3, 1), dt.date(2031, 3, 1)),
    (dt.datetime(2031, 3, 1, 12, 0), dt.date(2031, 3, 1)),
    ("March 2031", None), ("2031-02-30", None), (20310301, None),
])
def test_sunset_dates(value: object, parsed: dt.date | None) -> None:
    assert parse_sunset(value) == parsed


def test_removal_decisions() -> None:
    today = dt.date(2031, 1, 1)
    assert removal(lifecycle({}), today) is Removal.WITHOUT_DEPRECATION
    assert removal(lifecycle({"deprecated": True}), today) is Removal.ALLOWED
    assert removal(lifecycle({"deprecated": True, "x-sunset": "soon"}),
                   today) is Removal.SUNSET_UNPARSABLE
    assert removal(lifecycle({"deprecated": True, "x-sunset": "2031-01-02"}),
                   today) is Removal.BEFORE_SUNSET
    assert removal(lifecycle({"deprecated": True, "x-sunset": "2031-01-01"}),
                   today) is Removal.ALLOWED


def test_a_removed_path_reports_each_of_its_operations() -> None:
    base = doc({"/a": {"get": op(), "post": op()}, "/b": {"get": op()}})
    report = diff(base, doc({"/b": {"get": op()}}))
    assert sorted(c.operation for c in report.changes) == ["GET /a", "POST /a"]
    assert ids(report) == {"api-path-removed-without-deprecation"}


def test_path_level_parameters_apply_to_every_operation() -> None:
    base = doc({"/a": {"get": op(), "put": op()}})
    rev = doc({"/a": {"parameters": [{"name": "tenant", "in": "header", "required": True,
                                      "schema": {"type": "string"}}],
                      "get": op(), "put": op()}})
    report = diff(base, rev)
    assert sorted(c.operation for c in report.changes) == ["GET /a", "PUT /a"]
    assert ids(report) == {"new-required-request-default-parameter-to-existing-path"}


def test_header_parameter_names_ignore_case() -> None:
    def with_header(name: str) -> dict[str, object]:
        return doc({"/a": {"get": op(parameters=[
            {"name": name, "in": "header", "schema": {"type": "string"}}])}})
    assert diff(with_header("X-Tenant"), with_header("x-tenant")).changes == ()
