"""``GET /v1/stream`` driven through ASGI: hello, change events from this process and from
another writer, keep-alives, auth, limits, and the end of streams on shutdown."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from safeship.flags import changes
from safeship.server.settings import ServiceSettings
from safeship.store.flags import FlagStore
from tests.unit.flags.flag_samples import boolean_flag
from tests.unit.server.service_harness import (
    WRITE,
    AsgiStream,
    Service,
    make_service,
    served,
)
from tests.unit.store.flag_store_checks import T0

pytestmark = pytest.mark.anyio


def events(text: str, name: str) -> list[dict[str, Any]]:
    """The data of every ``name`` event in a stream's text."""
    found = []
    for frame in text.split("\n\n"):
        lines = frame.splitlines()
        if f"event: {name}" in lines:
            data = next(line for line in lines if line.startswith("data: "))
            found.append(json.loads(data.removeprefix("data: ")))
    return found


async def test_stream_says_hello_then_sends_each_change(service: Service) -> None:
    service.add(boolean_flag("beta"))
    async with served(service.app) as client, AsgiStream(service.app) as stream:
        await stream.wait_for("event: hello")
        assert stream.status == 200
        assert stream.response_headers["content-type"].startswith("text/event-stream")
        assert stream.response_headers["cache-control"] == "no-cache"
        assert stream.text.startswith("retry: 1000\n\n")
        [hello] = events(stream.text, "hello")
        assert hello["version"] == 1
        assert hello["environment"] == "production"
        await client.post("/v1/flags/beta/kill", json={"reason": "INC"}, headers=WRITE)
        await client.post("/v1/flags/beta/unkill", json={"reason": "ok"}, headers=WRITE)
        text = await stream.wait_for("event: change", count=2)
    kill, unkill = events(text, "change")
    assert (kill["version"], kill["flag"], kill["flag_version"], kill["action"]) == (
        2, "beta", 2, "kill")
    assert kill["definition"]["environments"]["production"]["killed"] is True
    assert list(kill["definition"]["environments"]) == ["production"]
    assert unkill["action"] == "unkill"
    assert "id: 2\n" in text
    assert "id: 3\n" in text


async def test_changes_written_by_another_process_reach_the_stream(service: Service) -> None:
    service.add(boolean_flag("beta"))
    # Another FlagStore on the same database stands for the CLI in another process: the
    # service only learns of its write by polling the change log.
    other = FlagStore.open(None, service.root)
    try:
        async with served(service.app), AsgiStream(service.app, "environment=dev") as stream:
            await stream.wait_for("event: hello")
            await asyncio.to_thread(other.update, "beta", lambda f: changes.enable(f, "dev"),
                                    action="enable", actor="cli-user", reason="elsewhere",
                                    at=T0)
            text = await stream.wait_for("event: change")
    finally:
        other.close()
    [change] = events(text, "change")
    assert (change["flag"], change["action"], change["environment"]) == ("beta", "enable",
                                                                          "dev")
    assert change["definition"]["environments"]["dev"]["enabled"] is True


async def test_idle_streams_get_keepalive_comments(service: Service) -> None:
    async with served(service.app), AsgiStream(service.app) as stream:
        text = await stream.wait_for(": keep-alive\n\n", count=2)
    assert events(text, "hello")


async def test_stream_needs_a_token(service: Service) -> None:
    async with served(service.app), AsgiStream(service.app, headers=()) as stream:
        await stream.wait_finished()
    assert stream.status == 401
    assert json.loads(stream.text)["field"] == "Authorization"


async def test_stream_refuses_a_bad_environment(service: Service) -> None:
    async with served(service.app), AsgiStream(service.app, "environment=%20x") as stream:
        await stream.wait_finished()
    assert stream.status == 400


async def test_too_many_streams_are_refused(tmp_path: Path) -> None:
    limited = make_service(tmp_path, settings=ServiceSettings(keepalive_s=0.05, max_streams=1))
    try:
        async with served(limited.app), AsgiStream(limited.app) as first:
            await first.wait_for("event: hello")
            async with AsgiStream(limited.app) as second:
                await second.wait_finished()
            assert second.status == 503
            assert second.response_headers["retry-after"] == "5"
    finally:
        limited.feed.close()
        limited.store.close()


async def test_shutdown_ends_every_stream(service: Service) -> None:
    async with served(service.app), AsgiStream(service.app) as stream:
        await stream.wait_for("event: hello")
        service.app.state.broadcaster.close()
        await stream.wait_finished()
    assert stream.finished
    assert service.app.state.broadcaster.subscriber_count == 0


async def test_a_client_that_disconnects_is_unsubscribed(service: Service) -> None:
    async with served(service.app) as client:
        async with AsgiStream(service.app) as stream:
            await stream.wait_for("event: hello")
            assert (await client.get("/v1/health")).json()["streams"] == 1
        assert (await client.get("/v1/health")).json()["streams"] == 0
